"""MeCab's output lines → the tokenizer's memo entry numbers, for a whole run of texts in numpy
(and, the same way, its compounds → their term numbers).

Looking each line up in the memo (a dict keyed by the line) costs a str object and a hash per word,
about 300 ns, a seventh of tagging it: here every line of a run of texts is hashed at once from its
code points and found in an open-addressing table of the lines the memo holds. The table is a
cache of the memo: a line it lacks (or that it was told to forget) goes the memo's way.

A line's hash is the polynomial sum of its code points (and of the newline that ends it) in an odd
base, from its first power, modulo 2**64 and made odd: two different lines share one with a chance
of about 2**-64 (2**-44 where their code points differ only by multiples of 2**20, which takes
private-use characters), and a run of words looks each line up against at most a few hundred
thousand.
"""

from __future__ import annotations

import numpy as np

BASE = 0x9E3779B97F4A7C15  # odd, so that it has an inverse modulo 2**64
_INVERSE = pow(BASE, -1, 1 << 64)
BLOCK = 1 << 16  # code points of texts hashed at once
SLOT_BITS = 19  # 2**19 slots: four times the memo's limit (tokens.MEMO_LIMIT), which a run's new lines can pass
_EMPTY = 0  # a slot no hash has taken; hashes are made odd, so none is 0
_ABSENT = -1  # a line the table does not know, or was told to forget

# BASE**i and BASE**-i mod 2**64, grown to the most code points hashed at once
_powers = np.ones(1, np.uint64)
_inverses = np.ones(1, np.uint64)


def _grown(powers: np.ndarray, base: int, length: int) -> np.ndarray:
    while len(powers) < length:
        grown = np.empty(2 * len(powers), np.uint64)
        grown[: len(powers)] = powers
        with np.errstate(over="ignore"):  # wrapping is the modulus
            grown[len(powers) :] = powers * (powers[-1] * np.uint64(base))
        powers = grown
    return powers


def line_hashes(texts: list[str]) -> np.ndarray:
    """The hash (uint64) of each line of each text, text after text (a text's lines are separated
    by newlines; its last needs none). Texts are hashed together up to BLOCK code points: arrays
    of a whole run of texts were large enough that the allocator gave their pages back to the
    system after each run and took them again, zeroed, on the next."""
    groups: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if size >= BLOCK:
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += len(text) + 1
    return np.concatenate([_hashes("\n".join([*group, ""])) for group in groups if group] or [np.empty(0, np.uint64)])


def _hashes(lines: str) -> np.ndarray:
    """The hash of each line of a text whose every line ends with a newline."""
    codes = np.frombuffer(lines.encode("utf-32-le", "surrogatepass"), np.uint32)
    ends = np.flatnonzero(codes == 10) + 1  # past each line's newline
    return _spans_hashes(codes, np.concatenate([[0], ends[:-1]]), ends)


def run_hashes(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The hash of each run values[start : start + length] of non-negative integers below 2**32, as
    a line's of those code points (without its newline): the tokenizer finds its compounds, runs of
    touching nouns' term numbers, in a LineTable as it finds MeCab's lines."""
    return _spans_hashes(values, starts, starts + lengths)


def _spans_hashes(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The hash of each span codes[start:end]: from the running sums of code times BASE**place, a
    span's is the difference of the sums at its ends, brought back to its own first place by
    BASE**-start, so that its first code point is times BASE**1."""
    global _powers, _inverses
    _powers, _inverses = _grown(_powers, BASE, len(codes)), _grown(_inverses, _INVERSE, len(codes))
    sums = np.empty(len(codes) + 1, np.uint64)
    sums[0] = 0
    with np.errstate(over="ignore"):
        np.multiply(codes.astype(np.uint64, copy=False), _powers[: len(codes)], out=sums[1:])
        np.cumsum(sums[1:], out=sums[1:])
        # times BASE once more: the odd bit set below would merge spans whose sums differ by one (one
        # code point more in their first place: "12" and "22", or compounds whose first parts follow),
        # and spans whose sums differ a little would start at one slot (LineTable) and probe on
        return ((sums[ends] - sums[starts]) * _inverses[starts] * np.uint64(BASE)) | np.uint64(1)


class LineTable:
    """Line hash → memo entry number, with linear probing over numpy arrays."""

    def __init__(self) -> None:
        # np.zeros is lazy: pages of the 6 MB are only mapped as hashes land on them
        self._hashes = np.zeros(1 << SLOT_BITS, np.uint64)
        self._numbers = np.zeros(1 << SLOT_BITS, np.int32)
        self._shift = np.uint64(64 - SLOT_BITS)  # slots from the high bits, which every code point stirs
        self.size = 0

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Each hash's number (int32), or -1 for a line the table does not know. Most lines are in
        the first slot they try: the probing goes on for the few that are not."""
        mask = len(self._hashes) - 1
        slots = (hashes >> self._shift).astype(np.intp)
        there = self._hashes[slots]
        found = np.where(there == hashes, self._numbers[slots], _ABSENT)
        pending = np.flatnonzero((there != hashes) & (there != _EMPTY))
        while len(pending):
            slots[pending] = (slots[pending] + 1) & mask
            there = self._hashes[slots[pending]]
            hit = there == hashes[pending]
            found[pending[hit]] = self._numbers[slots[pending[hit]]]
            pending = pending[~hit & (there != _EMPTY)]
        return found

    def put(self, hashes: np.ndarray, numbers: np.ndarray) -> None:
        """Remember each line's number (a hash given twice keeps its first); -1 makes the table send
        the line the memo's way again. All lines at once: a run's first texts teach it tens of
        thousands, at 3 us each one by one. A table half full takes no new line (probing would slow
        down): those go the memo's way."""
        hashes, first = np.unique(np.asarray(hashes, np.uint64), return_index=True)
        numbers = np.asarray(numbers, np.int32)[first]
        mask = len(self._hashes) - 1
        slots = (hashes >> self._shift).astype(np.intp)
        pending = np.arange(len(hashes))
        while len(pending):
            there = self._hashes[slots[pending]]
            known = there == hashes[pending]
            self._numbers[slots[pending[known]]] = numbers[pending[known]]
            free = there == _EMPTY
            claims = pending[free & (numbers[pending] != _ABSENT)]
            # one line per free slot, while the table is under half full; the others probe on
            _, firsts = np.unique(slots[claims], return_index=True)
            taken = claims[firsts][: max(len(self._hashes) // 2 - self.size, 0)]
            self._hashes[slots[taken]], self._numbers[slots[taken]] = hashes[taken], numbers[taken]
            self.size += len(taken)
            onward = pending[~known & ~free]
            slots[onward] = (slots[onward] + 1) & mask
            # a claim that lost its slot to another line probes on from it; one refused for room is dropped
            pending = np.concatenate([onward, np.setdiff1d(claims, taken)]) if len(taken) == len(firsts) else onward
