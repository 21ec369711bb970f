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
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import metadata

import numpy as np

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


@cache
def _is_symbol(ch: str) -> bool:
    # Cached: a text repeats a few thousand distinct characters, and the lookup is most of bigrams().
    return unicodedata.category(ch)[0] in "PSZC"


_BITS = 21  # every code point is below 2**21: a bigram packs into one int64 key, a lone character beside 0
# Whether each code point is a space or a symbol (1) or not (0), filled in as characters are met (-1 until
# then): one table lookup for a whole batch of texts, where a call per character was most of bigrams().
_SYMBOLS = np.full(0x110000, -1, dtype=np.int8)


def _symbol_mask(codes: np.ndarray) -> np.ndarray:
    found = _SYMBOLS[codes]
    if (found < 0).any():
        new = np.unique(codes[found < 0])
        _SYMBOLS[new] = [_is_symbol(chr(code)) for code in new.tolist()]
        found = _SYMBOLS[codes]
    return found.astype(bool)


def bigram_keys(normalized: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text number, key) of every character bigram of each text, text after text, in order, with
    spaces and symbols removed first; a text left with one character has it alone, after the
    others (its only key: each text's keys are still in order). Keys are int64, so that counting
    the bigrams of many texts is numpy's work, not a step per bigram."""
    # surrogatepass: a lone surrogate (from a command line's undecodable bytes) is a symbol, as in _is_symbol
    codes = np.frombuffer("".join(normalized).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # int32 owners and keys shifted in place: the array build runs this on 65,536 texts at a time,
    # where each int64 temporary per character is a hundred megabytes
    owners = np.repeat(np.arange(len(normalized), dtype=np.int32), [len(text) for text in normalized])
    kept = ~_symbol_mask(codes)
    codes, owners = codes[kept].astype(np.int64), owners[kept]
    within = owners[1:] == owners[:-1]
    keys = codes[:-1] << _BITS
    keys |= codes[1:]
    keys, key_owners = keys[within], owners[:-1][within]
    alone = np.flatnonzero(np.bincount(owners, minlength=len(normalized)) == 1).astype(np.int32)
    if len(alone):  # owners ascend: a text's one character is where its owner number is first met
        keys = np.concatenate([keys, codes[np.searchsorted(owners, alone)] << _BITS])
        key_owners = np.concatenate([key_owners, alone])
    return key_owners, keys


def bigram_counts(normalized: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, text number, count) of each distinct bigram of each text (bigram_keys), ordered by key
    and then by text number: a bigram's postings, one term after another, for up to 2**21 texts.
    The pair packs into one int64 (keys take 42 bits), which one sort orders faster than an
    argsort or a lexsort would."""
    if len(normalized) > 1 << (63 - 2 * _BITS):
        raise ValueError(f"{len(normalized)} texts: bigram_counts takes at most {1 << (63 - 2 * _BITS)} at once")
    owners, keys = bigram_keys(normalized)
    bits = max(len(normalized) - 1, 1).bit_length()
    keys <<= bits
    keys |= owners
    pairs, counts = np.unique(keys, return_counts=True)
    return pairs >> bits, pairs & ((1 << bits) - 1), counts


def bigram_term(key: int) -> str:
    second = key & ((1 << _BITS) - 1)
    return chr(key >> _BITS) + chr(second) if second else chr(key >> _BITS)


def keys_holding(keys: np.ndarray, char: str) -> np.ndarray:
    """Which of the bigram keys hold the character, first or second (or alone)."""
    code = ord(char)
    return ((keys >> _BITS) == code) | ((keys & ((1 << _BITS) - 1)) == code)


def bigrams(normalized: str) -> list[str]:
    """Character bigrams of the text with spaces and punctuation removed; a lone character stands alone.
    The same as bigram_keys, for one text (a query): a call per character costs less than numpy's
    set-up on a short text."""
    chars = [ch for ch in normalized if not _is_symbol(ch)]
    if len(chars) == 1:
        return chars
    return [chars[i] + chars[i + 1] for i in range(len(chars) - 1)]


# MeCab formats each word as one line in C: POS, byte offsets in the text, the POS subclass, the
# written base form and the surface. Reading a few fields from a string costs a fraction of building
# fugashi's node and feature objects for every word, and one regex over the whole output skips the
# lines of dropped POS without a Python step each (they are 40% of the words). Offsets come from
# MeCab rather than from searching the text for each surface. Unknown words have no base form.
# fugashi strips the output, which would eat a last field left empty: the EOS line protects it.
NODE_FORMAT = r"%f[0]\t%ps\t%pe\t%f[1]\t%f[10]\t%m\n"
UNKNOWN_FORMAT = r"%f[0]\t%ps\t%pe\t%f[1]\t\t%m\n"
EOS = "EOS"
_SURFACE = 5  # the field of a line that holds the surface, the last one
_KEPT_LINE = re.compile(
    f"^(?!(?:{'|'.join(sorted(DROPPED_POS))})\t)([^\t\n]*)\t([0-9]+)\t([0-9]+)\t([^\t\n]*)\t([^\t\n]*)\t([^\n]*)$", re.MULTILINE
)

# (term, start, end, noun, span): the tuple form of Token, cheaper to build by the million. start and
# end are MeCab's byte offsets as it wrote them: the word loop only asks whether two words touch,
# which string equality answers without a conversion per word. span is the text from start to end.
_Word = tuple[str, str, str, bool, str]


class Tokenizer:
    def __init__(self) -> None:
        import fugashi  # imported here so that `planindex --help` never loads MeCab
        import unidic_lite

        dicdir = unidic_lite.DICDIR
        # fugashi splits the argument string like a shell, so each backslash is written twice.
        formats = f'-O "" -F "{_shell(NODE_FORMAT)}" -U "{_shell(UNKNOWN_FORMAT)}" -E {EOS}'
        self._tagger = fugashi.GenericTagger(f'-r "{dicdir}/mecabrc" -d "{dicdir}" {formats}')

    @staticmethod
    def version() -> str:
        return f"fugashi-{metadata.version('fugashi')}+unidic-lite-{metadata.version('unidic-lite')}+norm-{NORMALIZATION_VERSION}"

    def _parse(self, text: str) -> str:
        if "\x00" in text:  # MeCab reads a C string: a NUL would end the text early (a byte for a byte)
            text = text.replace("\x00", " ")
        return self._tagger.parse(text)

    def _words(self, normalized: str) -> list[_Word]:
        out: list[_Word] = []
        for pos1, start, end, pos2, base, surface in _KEPT_LINE.findall(self._parse(normalized)):
            if not surface or (_is_symbol(surface[0]) and all(map(_is_symbol, surface))):
                continue
            if pos1 in INFLECTED_POS:
                if pos2 == "非自立可能":
                    continue
                term = base or surface
            else:
                term = surface
            if term in STOPWORDS:
                continue
            if out and out[-1][2] == start and _alphanumerics(out[-1][0], term):
                prev = out.pop()
                span = prev[4] + surface
                out.append((span, prev[1], end, True, span))
            else:
                out.append((term, start, end, pos1 in NOUN_POS, surface))
        return out

    def tokens(self, normalized: str) -> list[Token]:
        """Content-word tokens of an already normalized text, with their offsets."""
        chars = _char_offsets(normalized)
        return [Token(term, chars[int(start)], chars[int(end)], noun) for term, start, end, noun, _ in self._words(normalized)]

    def surfaces(self, text: str) -> list[str]:
        """Every MeCab surface form of the text, nothing normalized or dropped: the tokens a new
        user feeds rank-bm25 first, kept here as the evaluation's baseline."""
        return [line.split("\t", _SURFACE)[_SURFACE] for line in self._parse(text).split("\n")[:-1]]

    def words(self, normalized: str, pairs: bool = True) -> list[str]:
        """Index terms: every content word, each compound noun whole, and (with pairs) adjacent pairs
        inside it, so that a query naming part of a compound still meets it."""
        words = self._words(normalized)
        terms = [word[0] for word in words]
        run: list[_Word] = []
        for word in [*words, None]:
            if word is not None and word[3] and (not run or run[-1][2] == word[1]):
                run.append(word)
                continue
            if len(run) >= 2 and pairs:  # pairs inside a long run too: 12号線 in 都市高速鉄道12号線延伸促進協議会
                terms.extend(a[0] + b[0] for a, b in itertools.pairwise(run))
            if 2 <= len(run) <= MAX_COMPOUND and (len(run) > 2 or not pairs):
                terms.append("".join(w[0] for w in run))
            run = [word] if word is not None and word[3] else []
        return terms


def _shell(mecab_format: str) -> str:
    return mecab_format.replace("\\", "\\\\")


def _alphanumerics(prev: str, term: str) -> bool:
    """UniDic splits 'covid19' or '2-561' into pieces; touching ASCII letters and digits stay one word."""
    return prev.isascii() and term.isascii() and prev[-1:].isalnum() and term[:1].isalnum()


def _char_offsets(text: str) -> dict[int, int]:
    """UTF-8 byte offset → character offset, at every character boundary of the text."""
    return {byte: char for char, byte in enumerate(itertools.accumulate((len(ch.encode()) for ch in text), initial=0))}


@cache
def tokenizer() -> Tokenizer:
    """One MeCab tagger per process: loading the dictionary costs tens of milliseconds."""
    return Tokenizer()


def analyze(text: str) -> tuple[list[str], list[str]]:
    """(words, bigrams) of a raw text, normalized first: the same path for passages and queries."""
    normalized = normalize(text)
    return tokenizer().words(normalized), bigrams(normalized)
