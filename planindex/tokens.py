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
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from planindex.line_table import LineTable, line_hashes, run_hashes
from planindex.normalize import NORMALIZATION_VERSION, normalize

DROPPED_POS = {"助詞", "助動詞", "補助記号", "記号", "空白", "感動詞", "接続詞"}
INFLECTED_POS = {"動詞", "形容詞"}
NOUN_POS = {"名詞", "接頭辞", "接尾辞", "代名詞", "形状詞"}
# Words so common in plans that they carry no meaning of their own, beyond the POS filter.
STOPWORDS = {"する", "ある", "いる", "なる", "できる", "れる", "られる", "こと", "もの", "ため", "よう", "等", "とき", "ところ"}
MAX_COMPOUND = 6  # parts; longer noun runs are lists, not one name
NARROW_KEY_BITS = 32  # counts() packs (text, term) keys that fit in this many bits as uint32, others as int64


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


# MeCab formats each word as one line in C: its left context id and its surface with the whitespace
# before it (%M). UniDic's context id stands for the word's POS (left-id.def spells it; the rewrite
# rules copy the POS into it), so the POS is read from a table instead of from the feature string,
# which MeCab would split into 26 fields for every word: a third of the tagging time. An unknown
# word's id may stand for another POS than its own (々 as a noun's id, with 記号 as its POS): its POS
# is written instead, after a "u", from its six-field feature string. The line is the key of a memo
# of what the word becomes, so that a text's words are one split of MeCab's output and one dictionary
# lookup per word, both in C; for a run of texts, one hash of every line in numpy (line_table.py). The
# whitespace a surface carries says whether the word touches the one before it (compounds and split
# alphanumerics join only touching words), and the surfaces laid end to end are the text, which gives
# the offsets: MeCab's byte offsets would make every key unique.
NODE_FORMAT = r"%phl\t%M\n"
UNKNOWN_FORMAT = r"u%f[0],%f[1]\t%M\n"
# The written base form of a verb or adjective (進めた → 進める) is not in its id: the first time a
# word is met, the text is tagged again with the base form, which is then remembered. The id holds
# the conjugation type and form, so a key gives one base form; a key that ever gave two is tagged
# again with the base form every time. fugashi strips the output, which would eat a last field left
# empty: the EOS line protects it.
BASE_FORMAT = r"%phl\t%M\t%f[10]\n"
UNKNOWN_BASE_FORMAT = r"u%f[0],%f[1]\t%M\t\n"
EOS = "EOS"
_EOS_HASH = line_hashes([EOS])[0]
# MeCab skips these as spaces; as one they cannot break the output's lines and fields. A NUL would end
# MeCab's C string early.
_AS_SPACE = str.maketrans("\x00\t\n\v", "    ")

# What the POS of a context id makes of a word
_DROPPED, _INFLECTED, _NOUN, _OTHER = range(4)

# A kept word: (term, noun, whether it starts with an ASCII letter or digit, whether its term ends
# with one, surface without whitespace, whether whitespace comes before it). None: a word that is
# not indexed.
_Kept = tuple[str, bool, bool, bool, str, bool]
_Entry = _Kept | None
MEMO_LIMIT = 1 << 17  # words remembered (about 40 MB, at 310 bytes each); then forgotten at once, to be met again
TERM_LIMIT = 1 << 18  # terms numbered (words, pairs, compounds): likewise
# An entry's flags, one byte each, so that a run of texts reads all of them with one numpy lookup.
_KEPT, _NOUN, _LEADS, _ENDS, _SPACED = 1, 2, 4, 8, 16


_numberings = itertools.count()  # with the process id, names each numbering of terms a tokenizer starts
_NO_TERMS = np.zeros(0, np.int64)  # what TermIds knows of a numbering it has not met


@dataclass(frozen=True, slots=True)
class WordCounts:
    """The word counts of a run of texts, in a form that crosses a process boundary cheaply: per
    text its (term number, count) pairs, numbers of the tokenizer that counted them, and those of
    the run's terms it had not sent before in the same session, so that the writer (TermIds) is
    sent each term once a worker rather than once a run (10,000 strings a run of 500 texts, each
    pickled, hashed and looked up again)."""

    numbering: tuple[int, int]  # (process id, which numbering of that process): whose numbers these are
    new_numbers: np.ndarray  # the numbers of the terms first sent here (int32)
    new: list[str]  # those terms
    ids: np.ndarray  # term numbers, text after text, ascending within a text (int32)
    counts: np.ndarray  # aligned with ids
    sizes: np.ndarray  # pairs per text


class TermIds:
    """The reader's side of WordCounts, for one session: each numbering's term numbers → the
    reader's ids (ids_of gives those of the terms a run sends), as the runs taught them."""

    def __init__(self, ids_of: Callable[[list[str]], np.ndarray]) -> None:
        self._ids_of = ids_of
        self._known: dict[tuple[int, int], np.ndarray] = {}

    def of(self, found: WordCounts) -> np.ndarray:
        """Term number → id (-1 for a number not taught), covering every number found.ids holds."""
        highest = max(int(found.ids.max(initial=0)), int(found.new_numbers.max(initial=0)))
        known = self._known.get(found.numbering, _NO_TERMS)
        if len(known) <= highest:
            known = self._known[found.numbering] = np.concatenate([known, np.full(2 * highest + 1 - len(known), -1, np.int64)])
        known[found.new_numbers] = self._ids_of(found.new)
        if (known[found.ids] < 0).any():
            raise ValueError(f"numbering {found.numbering}: a term was never sent (a run of the session missing or out of order)")
        return known


def _pos_kind(pos1: str, pos2: str) -> int:
    if pos1 in DROPPED_POS or pos1 == "BOS/EOS" or (pos1 in INFLECTED_POS and pos2 == "非自立可能"):
        return _DROPPED
    if pos1 in INFLECTED_POS:
        return _INFLECTED
    return _NOUN if pos1 in NOUN_POS else _OTHER


def _pos_kinds(left_ids: Path) -> list[int]:
    """What each context id's POS makes of a word (left-id.def: "id pos1,pos2,..." a line)."""
    return [_pos_kind(*line.split(" ", 1)[1].split(",")[:2]) for line in left_ids.read_text(encoding="utf-8").splitlines()]


def _entry(kind: int, spaced: str, base: str) -> _Entry:
    """What a word of this POS kind, surface (with the whitespace before it) and base form is indexed
    as (base is "" for an unknown word). Verbs and adjectives by their base form, everything else as
    written."""
    surface = spaced.lstrip(" ")
    if kind == _DROPPED or not surface or all(map(_is_symbol, surface)):
        return None
    term = (base or surface) if kind == _INFLECTED else surface
    if term in STOPWORDS:
        return None
    return term, kind == _NOUN, _leads_alphanumeric(term), _ends_alphanumeric(term), surface, surface != spaced


class Tokenizer:
    def __init__(self) -> None:
        import unidic_lite

        self._dicdir = unidic_lite.DICDIR
        self._tagger = self._new_tagger(NODE_FORMAT, UNKNOWN_FORMAT)
        self._base_tagger: Any = None  # made on the first verb or adjective met
        self._kinds = _pos_kinds(Path(self._dicdir) / "left-id.def")
        self._session: str | None = None  # of the last counts()
        self._forget()

    def _forget(self) -> None:
        """Start the memo and the numbering of entries and terms afresh."""
        self._numbering = next(_numberings)
        self._sent = np.zeros(0, bool)  # term number → whether this session's WordCounts sent it
        self._memo: dict[str, int] = {}  # MeCab's line of a word → its entry's number
        self._known_lines = LineTable()  # the memo's lines by their hashes, for counts()
        self._ambiguous: set[str] = set()  # keys that gave two base forms: never in the memo
        self._table: list[_Entry] = [None]  # entry number → entry
        self._entry_numbers: dict[_Entry, int] = {None: 0}
        self._flags: list[int] = [0]  # entry number → its _KEPT... bits
        self._entry_terms: list[int] = [0]  # entry number → its term's number (0 for None)
        self._columns: tuple[np.ndarray, np.ndarray] | None = None  # the two lists above as arrays
        self._terms: list[str] = [""]  # term number → term
        self._term_numbers: dict[str, int] = {"": 0}
        self._known_compounds = LineTable()  # a compound's parts (term numbers), by their hash → its term's number

    def _forget_if_full(self) -> None:
        if len(self._memo) > MEMO_LIMIT or len(self._terms) > TERM_LIMIT:
            self._forget()

    def _new_tagger(self, node_format: str, unknown_format: str) -> Any:
        import fugashi  # imported here so that `planindex --help` never loads MeCab

        # fugashi splits the argument string like a shell, so each backslash is written twice.
        formats = f'-O "" -F "{_shell(node_format)}" -U "{_shell(unknown_format)}" -E {EOS}'
        return fugashi.GenericTagger(f'-r "{self._dicdir}/mecabrc" -d "{self._dicdir}" {formats}')

    @staticmethod
    def version() -> str:
        return f"fugashi-{metadata.version('fugashi')}+unidic-lite-{metadata.version('unidic-lite')}+norm-{NORMALIZATION_VERSION}"

    def _kind(self, key: str) -> int:
        ident = key[: key.index("\t")]
        if ident[0] != "u":
            return self._kinds[int(ident)]
        kind = _pos_kind(*ident[1:].split(",", 1))
        return _OTHER if kind == _INFLECTED else kind  # an unknown word has no base form: as written

    def _output(self, tagger: Any, text: str) -> str:
        """MeCab's output for the text: a line per word, then EOS."""
        if "\x00" in text or "\t" in text or "\n" in text or "\v" in text:
            text = text.translate(_AS_SPACE)
        return tagger.parse(text)

    def _lines(self, tagger: Any, text: str) -> list[str]:
        """MeCab's output for the text, a line per word."""
        return _words_of(self._output(tagger, text))

    def _term(self, term: str) -> int:
        number = self._term_numbers.get(term)
        if number is None:
            number = self._term_numbers[term] = len(self._terms)
            self._terms.append(term)
        return number

    def _number(self, entry: _Entry) -> int:
        number = self._entry_numbers.get(entry)
        if number is None:
            assert entry is not None  # None is entry 0 from the start
            number = self._entry_numbers[entry] = len(self._table)
            self._table.append(entry)
            term, noun, leads, ends, _, spaced = entry
            self._flags.append(_KEPT | noun * _NOUN | leads * _LEADS | ends * _ENDS | spaced * _SPACED)
            self._entry_terms.append(self._term(term))
        return number

    def _numbers(self, text: str, keys: list[str] | None = None) -> tuple[list[str], list[int]]:
        """MeCab's line (keys, when the text was tagged already) and the number of the memo's entry
        for each word of the text; tagged again with base forms when a verb or adjective is not in
        the memo."""
        if keys is None:
            keys = self._lines(self._tagger, text)
        try:
            return keys, list(map(self._memo.__getitem__, keys))
        except KeyError:
            pass
        memo, numbers = self._memo, []
        for key in keys:
            if key not in memo:
                kind = self._kind(key)
                if kind == _INFLECTED or key in self._ambiguous:
                    return keys, list(map(self._number, self._entries_with_bases(text)))
                memo[key] = self._number(_entry(kind, key[key.index("\t") + 1 :], ""))
            numbers.append(memo[key])
        return keys, numbers

    def _entries(self, text: str) -> tuple[list[str], list[_Entry]]:
        keys, numbers = self._numbers(text)
        return keys, [self._table[number] for number in numbers]

    def _entries_with_bases(self, text: str) -> list[_Entry]:
        if self._base_tagger is None:
            self._base_tagger = self._new_tagger(BASE_FORMAT, UNKNOWN_BASE_FORMAT)
        entries = []
        for line in self._lines(self._base_tagger, text):
            key, base = line.rsplit("\t", 1)
            entry = _entry(self._kind(key), key[key.index("\t") + 1 :], base)
            number = self._number(entry)
            if key not in self._ambiguous and self._memo.setdefault(key, number) != number:
                del self._memo[key]
                self._ambiguous.add(key)
                self._known_lines.put(line_hashes([key]), np.array([-1]))
            entries.append(entry)
        return entries

    def tokens(self, normalized: str) -> list[Token]:
        """Content-word tokens of an already normalized text, with their offsets."""
        self._forget_if_full()
        keys, entries = self._entries(normalized)
        out: list[Token] = []
        before: _Entry = None  # the word before, when it is kept
        end = 0
        for key, entry in zip(keys, entries):
            end += len(key) - key.index("\t") - 1  # the surface and the whitespace before it
            if entry is not None:
                start = end - len(entry[4])
                if not entry[5] and entry[2] and before is not None and before[3]:
                    entry = _joined(before, entry)
                    start = out.pop().start
                out.append(Token(entry[0], start, end, entry[1]))
            before = entry
        return out

    def surfaces(self, text: str) -> list[str]:
        """Every MeCab surface form of the text, nothing normalized or dropped: the tokens a new
        user feeds rank-bm25 first, kept here as the evaluation's baseline."""
        return [line[line.index("\t") + 1 :].lstrip(" ") for line in self._lines(self._tagger, text)]

    def words(self, normalized: str, pairs: bool = True) -> list[str]:
        """Index terms of a text: every content word (its tokens), then for each run of touching
        nouns its adjacent pairs (with pairs: 12号線 in 都市高速鉄道12号線延伸促進協議会) and its whole,
        unless it is too long to be one name, so that a query naming part of a compound still meets
        it. A word at a time, for one text (a query); counts() finds the same terms in numpy for a
        run of texts."""
        found = self.tokens(normalized)
        compounds: list[str] = []
        run: list[str] = []  # the terms of the touching nouns up to this token
        for before, token in zip([None, *found], found):
            if token.noun and before is not None and before.noun and before.end == token.start:
                run.append(token.term)
                continue
            _compound(run, compounds, pairs)
            run = [token.term] if token.noun else []
        _compound(run, compounds, pairs)
        return [token.term for token in found] + compounds

    def counts(self, normalized: list[str], session: str | None = None) -> WordCounts:
        """Each text's index terms (words(), with pairs) counted, for a run of texts at once. The
        run's terms not sent before in the same session come with them, so that a session's
        reader (TermIds) must read every run of it; without a session, every term of the run. A
        worker forked in a session never counted in its parent (ingest.Analyzer's parent analyses
        only once its workers are forked), so what it sends is its own from the first run."""
        numbers, owners = self._numbered_terms(normalized)
        # One sort by (text, term number) counts them, packed in one integer: 32 bits when they fit
        # (a run of 500 texts and up to 2**23 terms), which numpy sorts in half the time of 64.
        shift = max(len(self._terms) - 1, 1).bit_length()
        packed = np.uint32 if len(normalized) << shift <= 1 << NARROW_KEY_BITS else np.int64
        pairs, counts = np.unique((owners.astype(packed) << shift) | numbers.astype(packed), return_counts=True)
        terms = pairs & ((1 << shift) - 1)
        sizes = np.bincount(pairs >> shift, minlength=len(normalized))
        if session is None or self._session != session:
            self._session, self._sent = session, np.zeros(0, bool)
        if len(self._sent) < len(self._terms):
            self._sent = np.concatenate([self._sent, np.zeros(len(self._terms) - len(self._sent), bool)])
        # only the terms not sent yet are made distinct: after a run or two, a few of the tens of thousands
        new_numbers = np.unique(terms[~self._sent[terms]])
        self._sent[new_numbers] = True
        new = [self._terms[number] for number in new_numbers.tolist()]
        # the process id: a forked worker carries on the numbering it inherited, as its own
        numbering = (os.getpid(), self._numbering)
        ids, counts, sizes = terms.astype(np.int32), counts.astype(np.int32), sizes.astype(np.int32)
        return WordCounts(numbering, new_numbers.astype(np.int32), new, ids, counts, sizes)

    def _numbered_terms(self, normalized: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term number, text number) of each of words()'s terms of each text, in no order: a step
        per text in Python (tagging) and the rest in numpy over every word of every text. The
        word-by-word loop it replaces cost a third as much as tagging; numpy's calls cost more than
        that loop on one short text.

        A kept word that touches the one before (no whitespace between) is joined to it, as a noun,
        when it starts with an ASCII letter or digit and the one before ends with one (UniDic splits
        'covid19'), as tokens() does; touching nouns form a run."""
        self._forget_if_full()
        entries, owners = self._found_entries(normalized)
        if self._columns is None or len(self._columns[0]) != len(self._flags):
            self._columns = np.array(self._flags, dtype=np.uint8), np.array(self._entry_terms, dtype=np.int64)
        flags, terms = self._columns[0][entries], self._columns[1][entries]
        kept, spaced, noun = (flags & _KEPT).astype(bool), (flags & _SPACED).astype(bool), (flags & _NOUN).astype(bool)
        first = np.ones(len(entries), bool)  # the first word of its text
        first[1:] = owners[1:] != owners[:-1]
        joins = kept & (flags & _LEADS).astype(bool) & ~spaced & ~first
        joins[1:] &= (kept & (flags & _ENDS).astype(bool))[:-1]
        if joins.any():
            self._join(entries, joins, terms, noun)
            kept, noun, spaced, first, terms, owners = (column[~joins] for column in (kept, noun, spaced, first, terms, owners))
        continues = noun & ~spaced & ~first  # a noun that touches the noun before it, in its run
        continues[1:] &= noun[:-1]
        at = np.flatnonzero(continues)
        starts = np.flatnonzero(noun & ~continues)
        lengths_ = np.bincount((np.cumsum(noun & ~continues) - 1)[noun], minlength=len(starts))
        named = (lengths_ > 2) & (lengths_ <= MAX_COMPOUND)  # a whole that is one name (two parts: the pair)
        # each pair of touching nouns, then each whole run
        compound_starts = np.concatenate([at - 1, starts[named]])
        compounds = self._compound_numbers(terms, compound_starts, np.concatenate([np.full(len(at), 2), lengths_[named]]))
        return np.concatenate([terms[kept], compounds]), np.concatenate([owners[kept], owners[compound_starts]])

    def _found_entries(self, normalized: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(memo entry number, text number) of every word of the texts, in order: each line of
        MeCab's output found by its hash (line_table.py); a text with a line the table lacks goes the
        memo's way (_numbers), after which its lines are found by hash too. A word found to give
        two base forms is forgotten by the table as well, and the run is looked up again, so that
        every text of it is tagged again where that word is."""
        outputs = [self._output(self._tagger, text) for text in normalized]
        hashes = line_hashes(outputs)
        ends = np.flatnonzero(hashes == _EOS_HASH)  # each text's last line (no word's line is EOS: it holds a tab)
        lengths = np.diff(ends, prepend=-1) - 1  # its words
        hashes = np.delete(hashes, ends)
        bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        owners = np.repeat(np.arange(len(normalized), dtype=np.int64), lengths)
        while True:
            ambiguous = len(self._ambiguous)
            entries = self._known_lines.find(hashes)
            missed = entries < 0
            learned: list[str] = []  # the lines missed, in order, to be put in the table with their memo numbers
            for number in np.unique(owners[missed]).tolist():
                start, end = bounds[number], bounds[number + 1]
                keys = _words_of(outputs[number])
                learned += itertools.compress(keys, missed[start:end].tolist())
                entries[start:end] = self._numbers(normalized[number], keys)[1]
            # a line made ambiguous by a later text is no longer in the memo: -1 keeps it out of the table
            self._known_lines.put(hashes[missed], np.array([self._memo.get(key, -1) for key in learned], dtype=np.int32))
            if len(self._ambiguous) == ambiguous:
                return entries, owners

    def _join(self, entries: np.ndarray, joins: np.ndarray, terms: np.ndarray, noun: np.ndarray) -> None:
        """Give each word that others join (covid + 19) the term of their surfaces laid end to end,
        as a noun (in place, on terms and noun)."""
        span, leader = "", -1
        for at in np.flatnonzero(joins).tolist():
            if not joins[at - 1]:
                leader = at - 1
                span = self._table[entries[leader]][4]  # type: ignore[index]
            span += self._table[entries[at]][4]  # type: ignore[index]
            terms[leader] = self._term(span)
            noun[leader] = True

    def _compound_numbers(self, terms: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The term numbers of compounds, each given by where its parts start in terms and how many
        they are: found by the hash of the parts (line_table.run_hashes), which a dict of the parts
        took a step in Python each to do (6 of 130 us a passage); a compound not met before is
        spelled, numbered and put in the table."""
        hashes = run_hashes(terms, starts, lengths)
        numbers = self._known_compounds.find(hashes).astype(np.int64)
        missed = np.flatnonzero(numbers < 0)
        if len(missed):
            listed = terms.tolist()
            for compound, start, length in zip(missed.tolist(), starts[missed].tolist(), lengths[missed].tolist()):
                numbers[compound] = self._term("".join(self._terms[part] for part in listed[start : start + length]))
            self._known_compounds.put(hashes[missed], numbers[missed])
        return numbers


def _words_of(output: str) -> list[str]:
    """MeCab's output for a text, a line per word: the last line is EOS."""
    return output.split("\n")[:-1]


def _joined(before: _Kept, after: _Kept) -> _Kept:
    """The one word that two touching words make when the first ends with an ASCII letter or digit
    and the second starts with one: UniDic splits 'covid19' or '2-561' into pieces."""
    span = before[4] + after[4]
    return span, True, before[2], _ends_alphanumeric(span), span, before[5]


def _compound(run: list[str], compounds: list[str], pairs: bool) -> None:
    """The terms a run of touching nouns adds: each adjacent pair (with pairs) and the whole, up to
    MAX_COMPOUND parts and, with pairs, of more than two (two parts are their pair)."""
    if len(run) < 2:
        return
    if pairs:
        compounds.extend(map(str.__add__, run, run[1:]))
    if len(run) <= MAX_COMPOUND and (len(run) > 2 or not pairs):
        compounds.append("".join(run))


def _shell(mecab_format: str) -> str:
    return mecab_format.replace("\\", "\\\\")


def _leads_alphanumeric(term: str) -> bool:
    return term.isascii() and term[:1].isalnum()


def _ends_alphanumeric(term: str) -> bool:
    return term.isascii() and term[-1:].isalnum()


@cache
def tokenizer() -> Tokenizer:
    """One MeCab tagger per process: loading the dictionary costs tens of milliseconds."""
    return Tokenizer()


def analyze(text: str) -> tuple[list[str], list[str]]:
    """(words, bigrams) of a raw text, normalized first: the same path for passages and queries."""
    normalized = normalize(text)
    return tokenizer().words(normalized), bigrams(normalized)
