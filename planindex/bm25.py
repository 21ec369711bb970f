"""BM25 over a term-major sparse matrix, scored eagerly (bm25s' idea): the weight of every
(term, passage) pair is computed once when the index is loaded, a query only adds them up.

The variant is Lucene's: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), which is never negative,
unlike rank-bm25's Okapi idf that gives 0 (or less) to a term found in half of the passages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K1 = 0.75  # term frequency saturates early: passages are a few sentences (tests/eval/README.md)
B = 0.3  # weak length normalization: full strength lifts one-line headings over the paragraphs they head


@dataclass(frozen=True, slots=True)
class Postings:
    """Term-major CSR: passages (row positions) of term t are indices[indptr[t]:indptr[t+1]]."""

    indptr: np.ndarray  # int64, n_terms + 1
    indices: np.ndarray  # int32 passage positions
    lengths: np.ndarray  # float32 passage lengths in terms, per passage position

    @property
    def n_terms(self) -> int:
        return len(self.indptr) - 1

    def df(self) -> np.ndarray:
        return np.diff(self.indptr)


def build(rows: list[tuple[np.ndarray, np.ndarray]], n_terms: int) -> tuple[Postings, np.ndarray]:
    """Postings from per-passage (term ids, counts) pairs, passage i being rows[i], and the term
    frequency of each posting (float32, aligned with indices). The frequencies only go into the
    weights: a query reads weights alone, so they are not kept beside them (a third of the arrays)."""
    n = len(rows)
    lengths = np.array([counts.sum() for _, counts in rows], dtype=np.float32) if n else np.zeros(0, np.float32)
    if n == 0:
        return Postings(np.zeros(n_terms + 1, np.int64), np.zeros(0, np.int32), lengths), np.zeros(0, np.float32)
    # int32 ids and in-place work: at 1M passages a posting array is a gigabyte, and every
    # temporary one more
    terms = np.concatenate([ids for ids, _ in rows]).astype(np.int32, copy=False)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    order = np.argsort(terms, kind="stable")
    del terms
    passages = np.repeat(np.arange(n, dtype=np.int32), [len(ids) for ids, _ in rows])[order]
    counts = np.concatenate([c for _, c in rows])[order].astype(np.float32)
    return Postings(indptr, passages, lengths), counts


def idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)


def weights(postings: Postings, tfs: np.ndarray, k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 weight of each posting, aligned with postings.indices."""
    n = len(postings.lengths)
    if n == 0 or len(postings.indices) == 0:
        return np.zeros(len(postings.indices), np.float32)
    avgdl = float(postings.lengths.mean()) or 1.0
    # idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)), in that order of float32
    # operations, but in place: two posting-sized arrays instead of six
    denominator = postings.lengths[postings.indices]
    denominator *= b
    denominator /= avgdl
    denominator += 1 - b
    denominator *= k1
    denominator += tfs
    weight = np.repeat(idf(postings.df(), n), postings.df())
    weight *= tfs
    weight *= k1 + 1
    weight /= denominator
    return weight


def score(term_ids: list[int], postings: Postings, term_weights: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of BM25 weights of the given terms for every passage (a dense vector of scores)."""
    scores = np.zeros(len(postings.lengths), np.float32) if out is None else out
    for term in term_ids:
        start, end = postings.indptr[term], postings.indptr[term + 1]
        # add.at, not scores[indices] += weights: the same float32 additions (a term's passages are
        # distinct), in a third of the time of fancy indexing's gather and scatter on long postings.
        np.add.at(scores, postings.indices[start:end], term_weights[start:end])
    return scores


def holding_all(term_ids: list[int], postings: Postings) -> np.ndarray:
    """Ascending positions of the passages that hold every one of the terms."""
    lists = sorted((postings.indices[postings.indptr[t] : postings.indptr[t + 1]] for t in term_ids), key=len)
    if not lists:
        return np.zeros(0, np.int32)
    found, rest = np.asarray(lists[0]), lists[1:]
    # A binary search costs about twelve times a counted posting (measured at 1M passages): the
    # shortest list is probed in the others when it is short, else every posting is counted.
    if len(found) * len(rest) * 12 < sum(len(other) for other in rest):
        for other in rest:
            found = found[among(found, other)]
        return found
    counts = np.zeros(len(postings.lengths), np.float32)  # float32: add.at's fast path; exact up to 2**24
    for each in lists:
        np.add.at(counts, each, np.float32(1))
    return np.flatnonzero(counts == len(lists)).astype(np.int32)


def among(positions: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Which of `positions` are in `ascending` (sorted, distinct): a binary search each, cheaper than
    np.isin's sort when one side is much shorter."""
    if not len(ascending) or not len(positions):
        return np.zeros(len(positions), bool)
    at = np.minimum(np.searchsorted(ascending, positions), len(ascending) - 1)
    return ascending[at] == positions


def score_at(term_ids: list[int], positions: np.ndarray, postings: Postings, term_weights: np.ndarray, out: np.ndarray) -> np.ndarray:
    """score() restricted to `positions`, ascending passages that hold every one of the terms:
    out[i] gets the weights of positions[i], term after term, in the order score() adds them."""
    for term in term_ids:
        start, end = postings.indptr[term], postings.indptr[term + 1]
        out += term_weights[start:end][np.searchsorted(postings.indices[start:end], positions)]
    return out
