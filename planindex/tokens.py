"""Normalized text → index terms: the only module that imports fugashi (MeCab with UniDic-lite).

Two fields come out of a text:
- words: content words, plus the whole of each compound noun and each pair of adjacent parts,
  so that 地域づくり協議会 matches as a whole, as 協議会, and as 地域;
- grams: character bigrams, the fallback that finds 1-3 character queries and substrings that
  cross word boundaries (a morphological analyser cannot split a query the same way every time).

Nouns are indexed by their (normalized) written form, never by UniDic's lemma: the lemma turns
ひと into 人 and proper nouns into katakana readings (三ヶ島 → ミカシマ), which would merge words
a planner keeps apart. Verbs and adjectives use their written base form (進めた → 進める).
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from planindex.normalize import NORMALIZATION_VERSION, normalize

DROPPED_POS = {"助詞", "助動詞", "補助記号", "記号", "空白", "感動詞", "接続詞"}
INFLECTED_POS = {"動詞", "形容詞"}
NOUN_POS = {"名詞", "接頭辞", "接尾辞", "代名詞", "形状詞"}
# Words so common in plans that they carry no meaning of their own, beyond the POS filter.
STOPWORDS = {"する", "ある", "いる", "なる", "できる", "れる", "られる", "こと", "もの", "ため", "よう", "等", "とき", "ところ"}
MAX_COMPOUND = 6  # parts; longer noun runs are lists, not one name


@dataclass(frozen=True, slots=True)
class Token:
    term: str
    start: int  # offset in the normalized text
    end: int
    noun: bool


def _is_symbol(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PSZC"


def bigrams(normalized: str) -> list[str]:
    """Character bigrams of the text with spaces and punctuation removed; a lone character stands alone."""
    chars = [ch for ch in normalized if not _is_symbol(ch)]
    if len(chars) == 1:
        return chars
    return [chars[i] + chars[i + 1] for i in range(len(chars) - 1)]


class Tokenizer:
    def __init__(self) -> None:
        import fugashi  # imported here so that `planindex --help` never loads MeCab

        self._tagger = fugashi.Tagger()

    @staticmethod
    def version() -> str:
        return f"fugashi-{metadata.version('fugashi')}+unidic-lite-{metadata.version('unidic-lite')}+norm-{NORMALIZATION_VERSION}"

    def tokens(self, normalized: str) -> list[Token]:
        """Content-word tokens of an already normalized text, with their offsets."""
        out: list[Token] = []
        pos = 0
        for word in self._tagger(normalized):
            surface = word.surface
            start = normalized.find(surface, pos)
            if start < 0:
                start = pos
            end = start + len(surface)
            pos = end
            feature = word.feature
            pos1 = feature.pos1
            if pos1 in DROPPED_POS or not surface.strip() or all(_is_symbol(ch) for ch in surface):
                continue
            if pos1 in INFLECTED_POS:
                if feature.pos2 == "非自立可能":
                    continue
                term = feature.orthBase or surface
            else:
                term = surface
            if term in STOPWORDS:
                continue
            out.append(Token(term, start, end, pos1 in NOUN_POS))
        return _merge_alphanumerics(out, normalized)

    def surfaces(self, text: str) -> list[str]:
        """Every MeCab surface form of the text, nothing normalized or dropped: the tokens a new
        user feeds rank-bm25 first, kept here as the evaluation's baseline."""
        return [word.surface for word in self._tagger(text)]

    def words(self, normalized: str, pairs: bool = True) -> list[str]:
        """Index terms: every content word, each compound noun whole, and (with pairs) adjacent pairs
        inside it, so that a query naming part of a compound still meets it."""
        tokens = self.tokens(normalized)
        terms = [t.term for t in tokens]
        run: list[Token] = []
        for token in [*tokens, None]:
            if token is not None and token.noun and (not run or run[-1].end == token.start):
                run.append(token)
                continue
            if len(run) >= 2 and pairs:  # pairs inside a long run too: 12号線 in 都市高速鉄道12号線延伸促進協議会
                terms.extend(a.term + b.term for a, b in itertools.pairwise(run))
            if 2 <= len(run) <= MAX_COMPOUND and (len(run) > 2 or not pairs):
                terms.append("".join(t.term for t in run))
            run = [token] if token is not None and token.noun else []
        return terms


def _merge_alphanumerics(tokens: list[Token], text: str) -> list[Token]:
    """UniDic splits 'covid19' or '2-561' into pieces; keep touching ASCII letters and digits together."""
    merged: list[Token] = []
    for token in tokens:
        if (
            merged
            and merged[-1].end == token.start
            and merged[-1].term.isascii()
            and token.term.isascii()
            and merged[-1].term[-1:].isalnum()
            and token.term[:1].isalnum()
        ):
            prev = merged.pop()
            merged.append(Token(text[prev.start : token.end], prev.start, token.end, True))
        else:
            merged.append(token)
    return merged


@cache
def tokenizer() -> Tokenizer:
    """One MeCab tagger per process: loading the dictionary costs tens of milliseconds."""
    return Tokenizer()


def analyze(text: str) -> tuple[list[str], list[str]]:
    """(words, bigrams) of a raw text, normalized first: the same path for passages and queries."""
    normalized = normalize(text)
    return tokenizer().words(normalized), bigrams(normalized)
