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
from pathlib import Path
from typing import Any

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


# MeCab formats each word as one line in C: its byte offsets in the text, its left context id and
# its surface. UniDic's context id stands for the word's POS (left-id.def spells it; the rewrite rules
# copy the POS into it), so the POS is read from a table instead of from the feature string, which
# MeCab would split into 26 fields for every word: a third of the tagging time. An unknown word's id
# may stand for another POS than its own (々 as a noun's id, with 記号 as its POS): its POS is
# written instead, after a "u", from its six-field feature string. The id and the surface are one
# field, the key of a memo of what the word becomes, so that most words cost one dictionary lookup.
# Offsets come from MeCab rather than from searching the text for each surface.
NODE_FORMAT = r"%ps\t%pe\t%phl\t%m\n"
UNKNOWN_FORMAT = r"%ps\t%pe\tu%f[0],%f[1]\t%m\n"
# The written base form of a verb or adjective (進めた → 進める) is not in its id: the first time a
# (id, surface) is met, the text is tagged again with the base form, which is then remembered. The
# id holds the conjugation type and form, so the pair gives one base form; a pair that ever gave two
# is tagged again with the base form every time. fugashi strips the output, which would eat a last
# field left empty: the EOS line protects it.
BASE_FORMAT = r"%ps\t%pe\t%phl\t%m\t%f[10]\n"
UNKNOWN_BASE_FORMAT = r"%ps\t%pe\tu%f[0],%f[1]\t%m\t\n"
EOS = "EOS"
_LINE = re.compile(r"^([0-9]+)\t([0-9]+)\t((?:[0-9]+|u[^\t\n]*)\t[^\n]*)$", re.MULTILINE)
_BASE_LINE = re.compile(r"^([0-9]+)\t([0-9]+)\t((?:[0-9]+|u[^\t\n]*)\t[^\t\n]*)\t([^\n]*)$", re.MULTILINE)

# What the POS of a context id makes of a word
_DROPPED, _INFLECTED, _NOUN, _OTHER = range(4)

# A kept word: (term, noun, whether it starts with an ASCII letter or digit, whether its term ends
# with one, surface). None: a word that is not indexed.
_Entry = tuple[str, bool, bool, bool, str] | None
_UNSEEN = object()  # a memo miss
MEMO_LIMIT = 1 << 17  # words remembered (about 40 MB, at 310 bytes each); then forgotten at once, to be met again
_AMBIGUOUS = object()  # an (id, surface) that gave two base forms

# (term, start, end, noun, span, ends alphanumeric): the tuple form of Token, cheaper to build by the
# million. start and end are MeCab's byte offsets as it wrote them: the word loop only asks whether
# two words touch, which string equality answers without a conversion per word. span is the text
# from start to end.
_Word = tuple[str, str, str, bool, str, bool]


def _pos_kind(pos1: str, pos2: str) -> int:
    if pos1 in DROPPED_POS or pos1 == "BOS/EOS" or (pos1 in INFLECTED_POS and pos2 == "非自立可能"):
        return _DROPPED
    if pos1 in INFLECTED_POS:
        return _INFLECTED
    return _NOUN if pos1 in NOUN_POS else _OTHER


def _pos_kinds(left_ids: Path) -> list[int]:
    """What each context id's POS makes of a word (left-id.def: "id pos1,pos2,..." a line)."""
    return [_pos_kind(*line.split(" ", 1)[1].split(",")[:2]) for line in left_ids.read_text(encoding="utf-8").splitlines()]


def _entry(kind: int, surface: str, base: str) -> _Entry:
    """What a word of this POS kind, surface and base form is indexed as (base is "" for an
    unknown word). Verbs and adjectives by their base form, everything else as written."""
    if kind == _DROPPED or not surface or all(map(_is_symbol, surface)):
        return None
    term = (base or surface) if kind == _INFLECTED else surface
    if term in STOPWORDS:
        return None
    return term, kind == _NOUN, _leads_alphanumeric(term), _ends_alphanumeric(term), surface


class Tokenizer:
    def __init__(self) -> None:
        import unidic_lite

        self._dicdir = unidic_lite.DICDIR
        self._tagger = self._new_tagger(NODE_FORMAT, UNKNOWN_FORMAT)
        self._base_tagger: Any = None  # made on the first verb or adjective met
        self._kinds = _pos_kinds(Path(self._dicdir) / "left-id.def")
        self._memo: dict[str, _Entry | object] = {}

    def _new_tagger(self, node_format: str, unknown_format: str) -> Any:
        import fugashi  # imported here so that `planindex --help` never loads MeCab

        # fugashi splits the argument string like a shell, so each backslash is written twice.
        formats = f'-O "" -F "{_shell(node_format)}" -U "{_shell(unknown_format)}" -E {EOS}'
        return fugashi.GenericTagger(f'-r "{self._dicdir}/mecabrc" -d "{self._dicdir}" {formats}')

    @staticmethod
    def version() -> str:
        return f"fugashi-{metadata.version('fugashi')}+unidic-lite-{metadata.version('unidic-lite')}+norm-{NORMALIZATION_VERSION}"

    def _kind(self, ident: str) -> int:
        if ident[0] != "u":
            return self._kinds[int(ident)]
        kind = _pos_kind(*ident[1:].split(",", 1))
        return _OTHER if kind == _INFLECTED else kind  # an unknown word has no base form: as written

    def _parse(self, tagger: Any, text: str) -> str:
        if "\x00" in text:  # MeCab reads a C string: a NUL would end the text early (a byte for a byte)
            text = text.replace("\x00", " ")
        return tagger.parse(text)

    def _entries(self, normalized: str) -> list[tuple[str, str, tuple[str, bool, bool, bool, str]]]:
        """(start, end, entry) of each kept word, from the memo; tagged again with base forms when
        a verb or adjective is not in it."""
        if len(self._memo) > MEMO_LIMIT:
            self._memo.clear()
        memo, kept = self._memo, []
        for start, end, key in _LINE.findall(self._parse(self._tagger, normalized)):
            entry = memo.get(key, _UNSEEN)
            if entry is _UNSEEN:
                ident, surface = key.split("\t", 1)
                kind = self._kind(ident)
                if kind == _INFLECTED:
                    return self._entries_with_bases(normalized)
                entry = memo[key] = _entry(kind, surface, "")
            elif entry is _AMBIGUOUS:
                return self._entries_with_bases(normalized)
            if entry is not None:
                kept.append((start, end, entry))
        return kept  # type: ignore[return-value]  # the memo's two markers never reach the list

    def _entries_with_bases(self, normalized: str) -> list[tuple[str, str, tuple[str, bool, bool, bool, str]]]:
        if self._base_tagger is None:
            self._base_tagger = self._new_tagger(BASE_FORMAT, UNKNOWN_BASE_FORMAT)
        kept = []
        for start, end, key, base in _BASE_LINE.findall(self._parse(self._base_tagger, normalized)):
            ident, surface = key.split("\t", 1)
            entry = _entry(self._kind(ident), surface, base)
            if self._memo.setdefault(key, entry) != entry:
                self._memo[key] = _AMBIGUOUS
            if entry is not None:
                kept.append((start, end, entry))
        return kept

    def _words(self, normalized: str) -> list[_Word]:
        out: list[_Word] = []
        for start, end, (term, noun, leads, ends, surface) in self._entries(normalized):
            # UniDic splits 'covid19' or '2-561' into pieces; touching ASCII letters and digits stay one word
            if leads and out and out[-1][5] and out[-1][2] == start:
                prev = out.pop()
                span = prev[4] + surface
                out.append((span, prev[1], end, True, span, _ends_alphanumeric(span)))
            else:
                out.append((term, start, end, noun, surface, ends))
        return out

    def tokens(self, normalized: str) -> list[Token]:
        """Content-word tokens of an already normalized text, with their offsets."""
        chars = _char_offsets(normalized)
        return [Token(term, chars[int(start)], chars[int(end)], noun) for term, start, end, noun, _, _ in self._words(normalized)]

    def surfaces(self, text: str) -> list[str]:
        """Every MeCab surface form of the text, nothing normalized or dropped: the tokens a new
        user feeds rank-bm25 first, kept here as the evaluation's baseline."""
        return [line.split("\t", 3)[3] for line in self._parse(self._tagger, text).split("\n")[:-1]]

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


def _leads_alphanumeric(term: str) -> bool:
    return term.isascii() and term[:1].isalnum()


def _ends_alphanumeric(term: str) -> bool:
    return term.isascii() and term[-1:].isalnum()


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
