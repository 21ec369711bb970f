"""BM25 over a term-major sparse matrix, scored eagerly (bm25s' idea): the weight of every
(term, passage) pair is computed once when the index is loaded, a query only decodes and adds
them up. Postings take three bytes each: a two-byte passage offset and a one-byte weight; a
field where presence alone counts (the bigrams: Presence) keeps the offsets alone.

The variant is Lucene's: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), which is never negative,
unlike rank-bm25's Okapi idf that gives 0 (or less) to a term found in half of the passages.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

K1 = 0.75  # term frequency saturates early: passages are a few sentences (tests/eval/README.md)
B = 0.3  # weak length normalization: full strength lifts one-line headings over the paragraphs they head


BLOCK = 1 << 16  # passages per block: a posting holds its passage as a two-byte offset in its block
LEVELS = 256  # a posting's weight is kept as one byte: the code of one of LEVELS factors


@dataclass(frozen=True, slots=True)
class Postings:
    """Term-major postings in blocks of BLOCK passages: those of term t in block j are the passages
    j * BLOCK + indices[segments[t * n_blocks + j] : segments[t * n_blocks + j + 1]], ascending.
    Two bytes a posting instead of four, and scoring needs no decoding: a block's offsets index
    the block's slice of the score vector."""

    segments: np.ndarray  # int64, n_terms * n_blocks + 1
    indices: np.ndarray  # uint16 offsets in the block
    lengths: np.ndarray  # float32 passage lengths in terms, per passage position

    @property
    def n_blocks(self) -> int:
        return max(1, -(-len(self.lengths) // BLOCK))

    @property
    def n_terms(self) -> int:
        return (len(self.segments) - 1) // self.n_blocks

    def df(self) -> np.ndarray:
        return np.diff(self.segments[:: self.n_blocks])

    def span(self, term: int) -> tuple[int, int]:
        """Where the term's postings are, all blocks together (aligned with the weights)."""
        return int(self.segments[term * self.n_blocks]), int(self.segments[(term + 1) * self.n_blocks])

    def bounds(self, term: int) -> list[int]:
        """Where the term's postings in each block start, and where the last ends."""
        return self.segments[term * self.n_blocks : (term + 1) * self.n_blocks + 1].tolist()

    def blocks(self, term: int) -> Iterator[tuple[int, int, int]]:
        """(first passage of the block, start, end) for each block that holds the term."""
        for block, (start, end) in enumerate(itertools.pairwise(self.bounds(term))):
            if end > start:
                yield block * BLOCK, start, end

    def positions(self, term: int) -> np.ndarray:
        """Ascending positions of the passages that hold the term (int32)."""
        parts = [self.indices[start:end].astype(np.int32) + base for base, start, end in self.blocks(term)]
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def find(self, term: int, positions: np.ndarray) -> np.ndarray:
        """For each of `positions` (ascending), where its posting of the term is, or -1 where it has
        none: a binary search each, in the block's offsets, with nothing decoded."""
        found = np.full(len(positions), -1, np.int64)
        cuts = np.searchsorted(positions, np.arange(self.n_blocks + 1) * BLOCK).tolist()
        bounds = self.bounds(term)
        for block in range(self.n_blocks):
            first, last, start, end = cuts[block], cuts[block + 1], bounds[block], bounds[block + 1]
            if first == last or start == end:
                continue
            offsets = self.indices[start:end]
            wanted = (positions[first:last] - block * BLOCK).astype(np.uint16)  # the same type: no copy of `offsets`
            at = np.minimum(np.searchsorted(offsets, wanted), end - start - 1)
            found[first:last] = np.where(offsets[at] == wanted, start + at, -1)
        return found


@dataclass(frozen=True, slots=True)
class Weights:
    """BM25 weights of the postings. A weight is idf(term) times a factor of the term frequency
    and passage length that no term changes. Most postings (87% at 100k) are of a term found once
    in its passage, whose factor is the passage's alone: `single` holds it per passage, exact, and
    such a posting stores nothing. A posting of a term found more than once is listed apart, per
    term and block like the postings, by its place among the term's postings in the block, and
    keeps the code of the nearest of LEVELS factors spaced evenly between the smallest and largest
    met, so its weight is off by at most half a step (`error`). The one-byte code of every posting
    was a third of the word arrays. A block's weights are a gather from its slice of `single`, which
    stays in cache, the repeated ones' factors looked up in a table of the LEVELS, and one multiply
    by the idf: few numpy calls, which cost more than their arithmetic on a term's few thousand."""

    single: np.ndarray  # float32 per passage: the factor of a term found once in it
    repeated: np.ndarray  # int64 per (term, block), as Postings.segments: where its repeated postings are in places and codes
    places: np.ndarray  # uint16: a repeated posting's place among its term's postings in its block
    codes: np.ndarray  # uint8, aligned with places
    idf: np.ndarray  # float32 per term
    grid: np.ndarray  # float32: the smallest factor of a repeated posting, the step between codes
    levels: np.ndarray = dataclasses.field(init=False, repr=False)  # float32: the factor of each code

    def __post_init__(self) -> None:
        levels = np.arange(LEVELS, dtype=np.float32) * self.grid[1] + self.grid[0]
        object.__setattr__(self, "levels", levels.astype(np.float32))

    @property
    def error(self) -> float:
        """The largest relative error of a weight."""
        return float(self.grid[1] / 2 / self.grid[0])

    def of(self, term: int, postings: Postings, base: int, offsets: np.ndarray) -> np.ndarray:
        """The weights of the term's postings in the block from `base`, at these offsets (all of
        the term's in the block, as intp: see score) (float32)."""
        segment = term * postings.n_blocks + base // BLOCK
        first, last = self.repeated[segment : segment + 2].tolist()
        weights = self.single[base : base + BLOCK].take(offsets)
        if last > first:
            weights[self.places[first:last]] = self.levels.take(self.codes[first:last])
        weights *= self.idf[term]
        return weights


@dataclass(frozen=True, slots=True)
class Presence:
    """Weights of a field where a term counts once in a passage, however often and however long
    the passage: every posting of a term weighs its idf, so none is stored. The bigram field: its
    evidence is a substring's, where length and repeats add nothing (tests/eval/README.md: the same
    or better on the corpus and JSQuAD), and a third of the arrays was its one-byte weights."""

    idf: np.ndarray  # float32 per term
    error = 0.0  # exact: nothing is quantized

    def of(self, term: int, postings: Postings, base: int, offsets: np.ndarray) -> np.float32:
        return self.idf[term]


@dataclass(frozen=True, slots=True)
class Block:
    """The postings of BLOCK consecutive passages (fewer in the last block), term after term: what
    build() assembles. A block at a time, the per-posting arrays of a whole table are never held
    twice, and each block is sorted on its own, in cache."""

    terms: np.ndarray  # int32 term ids, ascending
    offsets: np.ndarray  # uint16 offsets of the passages in the block, ascending within a term
    counts: np.ndarray  # int32 term frequencies, aligned


def block(terms: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> Block:
    """The Block of up to BLOCK passages given as their term ids and counts one after another,
    passage i holding the next sizes[i] of them (as store.unpack_many decodes them)."""
    terms = terms.astype(np.int64)
    offsets = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    order = np.argsort((terms << 16) | offsets)  # one int64 sort, faster than a lexsort of the two
    return Block(terms[order].astype(np.int32), offsets[order].astype(np.uint16), counts[order].astype(np.int32))


def build(blocks: list[Block], n: int, n_terms: int, frequencies: bool = True) -> tuple[Postings, np.ndarray | None]:
    """Postings of n passages from their blocks (block j holds passages j * BLOCK onwards), and the
    term frequency of each posting (float32, aligned with indices), or None without `frequencies`
    (a Presence field has no use for them: at 1M passages the bigrams' would be 750 MB). The
    frequencies only go into the weights: a query reads weights alone, so they are not kept beside
    them. Each block's postings are copied to their places, not sorted again: a term's postings in
    a block follow those of the earlier blocks, and its place is counted from the others."""
    n_blocks = max(1, -(-n // BLOCK))
    lengths = np.zeros(n, np.float32)
    per_block = np.zeros((n_terms, n_blocks), np.int64)  # postings of term t in block j: segment t * n_blocks + j
    for j, part in enumerate(blocks):
        per_block[:, j] = np.bincount(part.terms, minlength=n_terms)
        size = min(BLOCK, n - j * BLOCK)
        lengths[j * BLOCK : j * BLOCK + size] = np.bincount(part.offsets, weights=part.counts, minlength=size)
    segments = np.zeros(n_terms * n_blocks + 1, np.int64)
    np.cumsum(per_block.ravel(), out=segments[1:])
    del per_block
    indices = np.zeros(segments[-1], np.uint16)
    tfs = np.zeros(segments[-1], np.float32) if frequencies else None
    for j, part in enumerate(blocks):
        held = np.bincount(part.terms, minlength=n_terms)
        first = np.cumsum(held) - held  # where each term's postings start in this block's arrays
        places = segments[part.terms.astype(np.int64) * n_blocks + j] + (np.arange(len(part.terms)) - first[part.terms])
        indices[places] = part.offsets
        if tfs is not None:
            tfs[places] = part.counts
    return Postings(segments, indices, lengths), tfs


def idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)


def weights(postings: Postings, tfs: np.ndarray, k1: float = K1, b: float = B) -> Weights:
    """BM25 weights of the postings, given the term frequency of each."""
    n = len(postings.lengths)
    term_idf = idf(postings.df(), max(n, 1))
    avgdl = float(postings.lengths.mean()) if n else 1.0
    # tf * (k1 + 1) / (tf + k1 * norm), norm = 1 - b + b * length / avgdl: per passage for tf = 1
    norm = postings.lengths * np.float32(b / (avgdl or 1.0))
    norm += 1 - b
    norm *= k1
    single = ((k1 + 1) / (1 + norm)).astype(np.float32)
    repeated = np.flatnonzero(tfs > 1)
    segment = np.searchsorted(postings.segments, repeated, side="right") - 1  # term * n_blocks + block
    places = (repeated - postings.segments[segment]).astype(np.uint16)
    counts = np.bincount(segment, minlength=len(postings.segments) - 1)
    bounds = np.zeros(len(postings.segments), np.int64)
    np.cumsum(counts, out=bounds[1:])
    if not len(repeated):
        return Weights(single, bounds, places, np.zeros(0, np.uint8), term_idf, np.array([1, 0], np.float32))
    passages = (segment % postings.n_blocks) * BLOCK + postings.indices[repeated]
    tf = tfs[repeated]
    factor = tf * (k1 + 1) / (tf + norm[passages])
    low, high = float(factor.min()), float(factor.max())
    step = (high - low) / (LEVELS - 1)  # 0 when every repeated posting has one factor: code 0 is exact
    codes = np.rint((factor - low) / (step or 1.0)).astype(np.uint8)
    return Weights(single, bounds, places, codes, term_idf, np.array([low, step], np.float32))


def presence(postings: Postings) -> Presence:
    return Presence(idf(postings.df(), max(len(postings.lengths), 1)))


def score(
    term_ids: list[int], postings: Postings, term_weights: Weights | Presence, out: np.ndarray | None = None, scale: float = 1.0
) -> np.ndarray:
    """Sum of BM25 weights of the given terms, times `scale`, for every passage (a dense vector of
    scores), added to `out` when given."""
    scores = np.zeros(len(postings.lengths), np.float32) if out is None else out
    for term in term_ids:
        for base, start, end in postings.blocks(term):
            # add.at, not scores[indices] += weights: the same float32 additions (a term's passages
            # are distinct), in a third of the time of fancy indexing's gather and scatter. Offsets
            # converted to intp once: add.at and the weights' gather would each convert uint16.
            offsets = postings.indices[start:end].astype(np.intp)
            weights = term_weights.of(term, postings, base, offsets)
            np.add.at(scores[base : base + BLOCK], offsets, weights if scale == 1.0 else weights * np.float32(scale))
    return scores


def zeroed(vector: np.ndarray | None, length: int) -> np.ndarray:
    """The vector with every value 0, or a new float32 vector of zeros when there is none."""
    if vector is None:
        return np.zeros(length, np.float32)
    vector.view(np.uint8).fill(0)  # a memset: filling the float32 view copies the scalar one by one, at half the speed
    return vector


def holding_all(term_ids: list[int], postings: Postings, counts: np.ndarray | None = None) -> np.ndarray:
    """Ascending positions of the passages that hold every one of the terms. `counts`, a float32
    vector of one value per passage, is where they are counted when given (its content is
    replaced): a fresh one is a page fault per 4 KiB."""
    terms = sorted(term_ids, key=lambda t: _df(postings, t))
    if not terms:
        return np.zeros(0, np.int32)
    found, rest = postings.positions(terms[0]), terms[1:]
    if probing(terms, postings):
        for term in rest:
            found = found[postings.find(term, found) >= 0]
        return found
    counts = zeroed(counts, len(postings.lengths))  # float32: add.at's fast path; exact up to 2**24
    for term in terms:
        for base, start, end in postings.blocks(term):
            np.add.at(counts[base : base + BLOCK], postings.indices[start:end], np.float32(1))
    return np.flatnonzero(counts == len(terms)).astype(np.int32)


def _df(postings: Postings, term: int) -> int:
    start, end = postings.span(term)
    return end - start


def probing(term_ids: list[int], postings: Postings) -> bool:
    """Whether holding_all finds the passages holding every term by probing the shortest list in
    the others: a binary search costs about twelve times a counted posting (measured at 1M
    passages), so it does when that list is short; else it counts every posting."""
    df = sorted(_df(postings, t) for t in term_ids)
    return bool(df) and df[0] * (len(df) - 1) * 12 < sum(df[1:])


def scaled_sum(term_ids: list[int], presence: Presence, scale: float) -> np.float32:
    """What score() adds up for a passage holding every one of the terms, with the same float32
    additions in the same order: score() gives exactly this sum there and, the weights being
    positive and far above a float32 step of the sum, less everywhere else."""
    total = np.float32(0)
    for term in term_ids:
        total = np.float32(total + presence.idf[term] * np.float32(scale))
    return total


def among(positions: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Which of `positions` are in `ascending` (sorted, distinct): a binary search each, cheaper than
    np.isin's sort when one side is much shorter."""
    if not len(ascending) or not len(positions):
        return np.zeros(len(positions), bool)
    at = np.minimum(np.searchsorted(ascending, positions), len(ascending) - 1)
    return ascending[at] == positions
