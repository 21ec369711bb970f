"""BM25 scoring: a three-passage example worked by hand, rank_bm25 as an oracle on the corpus, and
the cached arrays (index/cache/g<N>/) scoring exactly as a fresh build. Weights are kept in one
byte each (bm25.Weights): scores agree with the exact ones within `Weights.error`."""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from planindex import bm25
from planindex.index import FIELDS, Collection, Index
from planindex.search import search
from planindex.store import CACHE_FOLDER, record_norm, unpack_counts
from planindex.tokens import bigrams

# Term ids: 1 待機, 2 児童, 3 保育 (0 is never used, as in the index, whose ids start at 1).
PASSAGES = [
    (np.array([1, 2]), np.array([2, 1])),  # p0: 待機 待機 児童   length 3
    (np.array([2, 3]), np.array([1, 1])),  # p1: 児童 保育        length 2
    (np.array([3]), np.array([1])),  # p2: 保育             length 1
]
N_TERMS = 4


def built(rows: list[tuple[np.ndarray, np.ndarray]], n_terms: int) -> tuple[bm25.Postings, np.ndarray]:
    """bm25.build of passages given as (term ids, counts), passage i being rows[i]."""
    parts = [rows[start : start + bm25.BLOCK] for start in range(0, len(rows), bm25.BLOCK)]
    blocks = [bm25.block(*(np.concatenate(column) for column in zip(*part)), [len(ids) for ids, _ in part]) for part in parts]
    postings, tfs = bm25.build(blocks, len(rows), n_terms)
    assert tfs is not None  # asked for: frequencies default to on
    return postings, tfs


def hand_scores(query: list[int]) -> np.ndarray:
    """The same example by hand, with k1 = 1.2 and b = 0.75.

    N = 3 passages, lengths 3, 2, 1, so avgdl = 2.
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)):
        待機 df 1: ln(1 + 2.5 / 1.5) = ln(8/3) = 0.980829
        児童 df 2: ln(1 + 1.5 / 2.5) = ln(1.6) = 0.470004   (rank_bm25's Okapi idf: ln(1.5/2.5) < 0)
        保育 df 2: the same, 0.470004
    length normalization K(p) = k1 * (1 - b + b * len / avgdl):
        K(p0) = 1.2 * (0.25 + 0.75 * 1.5) = 1.65;  K(p1) = 1.2 * 1.0 = 1.2;  K(p2) = 1.2 * 0.625 = 0.75
    weight = idf * tf * (k1 + 1) / (tf + K):
        待機 in p0: 0.980829 * 2 * 2.2 / (2 + 1.65) = 0.980829 * 1.205479 = 1.182369
        児童 in p0: 0.470004 * 2.2 / 2.65 = 0.470004 * 0.830189 = 0.390192
        児童 in p1: 0.470004 * 2.2 / 2.2  = 0.470004
        保育 in p1: 0.470004
        保育 in p2: 0.470004 * 2.2 / 1.75 = 0.470004 * 1.257143 = 0.590862
    """
    table = {
        1: [1.182369, 0.0, 0.0],
        2: [0.390192, 0.470004, 0.0],
        3: [0.0, 0.470004, 0.590862],
    }
    return np.sum([table[t] for t in query], axis=0)


@pytest.mark.parametrize("query", [[1], [2], [3], [1, 2], [2, 3], [1, 2, 3]])
def test_three_passages_scored_by_hand(query: list[int]) -> None:
    postings, tfs = built(PASSAGES, N_TERMS)
    weights = bm25.weights(postings, tfs, k1=1.2, b=0.75)  # the worked example's parameters, not the tuned defaults
    assert weights.error < 0.002  # a tenth of a percent: the example still checks the formula
    assert bm25.score(query, postings, weights) == pytest.approx(hand_scores(query), rel=weights.error, abs=1e-6)


def test_the_hand_example_ranks_as_a_reader_expects() -> None:
    postings, tfs = built(PASSAGES, N_TERMS)
    weights = bm25.weights(postings, tfs)
    # 児童 once in the short p1 beats 児童 once in the longer p0; 保育 alone in p2 beats p1's share.
    assert list(np.argsort(-bm25.score([2], postings, weights))[:2]) == [1, 0]
    assert list(np.argsort(-bm25.score([3], postings, weights))[:2]) == [2, 1]
    assert bm25.idf(np.array([1, 2, 3]), 3) == pytest.approx([math.log(8 / 3), math.log(1.6), math.log1p(0.5 / 3.5)], abs=1e-6)


def test_idf_is_never_negative_where_okapi_idf_is() -> None:
    """The known difference from rank_bm25: Okapi's idf ln((N - df + 0.5) / (df + 0.5)) is zero for
    a term in half the passages and negative above (rank_bm25 then substitutes epsilon times the
    mean idf), so a passage can lose score by holding a query word. Lucene's ln(1 + ...) keeps
    every idf positive and still decreasing in df."""
    n = 10
    df = np.arange(1, n + 1)
    lucene = bm25.idf(df, n)
    okapi = np.log((n - df + 0.5) / (df + 0.5))
    assert (lucene > 0).all() and (np.diff(lucene) < 0).all()
    assert (okapi[df >= n / 2] <= 0).all()


def corpus_terms(index: Index) -> tuple[list[list[int]], bm25.Postings, bm25.Weights]:
    """The word postings of the corpus passages, and each passage as the list of its term ids with
    repeats: the same tokens, for rank_bm25."""
    field = index.collection("passages").fields["words"]
    documents = [
        [int(term) for term, count in zip(*unpack_counts(words)) for _ in range(count)]
        for _, _, _, words, _ in index.store.postings_rows("passages")
    ]
    return documents, field.postings, field.weights


@pytest.fixture(scope="module")
def corpus(corpus_index: Path) -> Iterator[Index]:
    index = Index.open(corpus_index)
    yield index
    index.close()


def test_rank_bm25_ranks_the_corpus_alike_for_terms_in_under_half_the_passages(corpus: Index) -> None:
    """With the same k1, b and tokens, the term-frequency part of both formulas is identical, and for
    a term in fewer than half the passages both idfs are positive: one term's scores differ by one
    constant factor (the ratio of the idfs), so the rankings are the same, passage for passage,
    but for passages whose scores are closer than the one-byte weights can tell apart."""
    documents, postings, weights = corpus_terms(corpus)
    oracle = BM25Okapi(documents, k1=bm25.K1, b=bm25.B)
    n = len(documents)
    df = postings.df()
    terms = [t for t in range(postings.n_terms) if 2 <= df[t] < n / 2]
    assert len(terms) > 200
    for term in terms[:: max(1, len(terms) // 300)]:
        ours = bm25.score([term], postings, weights)
        theirs = oracle.get_scores([term])
        ratio = bm25.idf(df[term : term + 1], n)[0] / math.log((n - df[term] + 0.5) / (df[term] + 0.5))
        assert ours == pytest.approx(theirs * ratio, rel=weights.error + 1e-5, abs=1e-5)
        held = np.flatnonzero(ours > 0)
        exact = theirs[held][np.argsort(-theirs[held], kind="stable")]
        kept = ours[held][np.argsort(-theirs[held], kind="stable")]
        apart = exact[:-1] > exact[1:] * (1 + 2 * weights.error) / (1 - 2 * weights.error)  # apart by more than the error: kept in order
        assert (kept[:-1][apart] > kept[1:][apart]).all()


def test_rank_bm25_agrees_on_the_top_of_multi_word_queries(corpus: Index) -> None:
    """Several words: the two idfs weigh words a little differently, so only the top is compared."""
    documents, postings, weights = corpus_terms(corpus)
    oracle = BM25Okapi(documents, k1=bm25.K1, b=bm25.B)
    vocabulary = corpus.vocabulary()
    for words in (["待機", "児童"], ["農業", "担い手"], ["地域", "協議会"], ["健康", "寿命"]):
        query = [vocabulary[w] for w in words]
        ours, theirs = bm25.score(query, postings, weights), oracle.get_scores(query)
        top_ours, top_theirs = set(np.argsort(-ours)[:5]), set(np.argsort(-theirs)[:5])
        assert len(top_ours & top_theirs) >= 4, words


def test_cached_arrays_score_as_a_fresh_build(corpus_index: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    shutil.copytree(corpus_index, folder, ignore=shutil.ignore_patterns(CACHE_FOLDER))
    queries = ["待機児童", "農業 担い手", "ＤＸ", "健康寿命", "地域づくり協議会"]

    fresh = Index.open(folder)  # builds the arrays from the term counts, and writes the cache
    built = {q: [(h.id, h.score) for h in search(fresh, q, 20).hits] for q in queries}
    arrays = {t: fresh.collection(t) for t in ("passages", "kpis")}
    cache = folder / CACHE_FOLDER / f"g{fresh.generation}"
    fresh.close()
    assert sorted(p.name for p in cache.iterdir()) == ["kpis", "passages"]

    loaded = Index.open(folder)
    try:
        for table, collection in arrays.items():
            again = loaded.collection(table)
            assert isinstance(again.rowids.base, np.memmap)  # read from the cache, memory-mapped
            assert np.array_equal(again.rowids, collection.rowids) and again.kinds == collection.kinds
            for name in FIELDS:
                a, b = again.fields[name], collection.fields[name]
                for part in ("segments", "indices", "lengths"):
                    assert np.array_equal(getattr(a.postings, part), getattr(b.postings, part))
                assert type(a.weights) is type(b.weights)
                for part in (f.name for f in dataclasses.fields(a.weights)):
                    assert np.array_equal(getattr(a.weights, part), getattr(b.weights, part))
        assert {q: [(h.id, h.score) for h in search(loaded, q, 20).hits] for q in queries} == built
    finally:
        loaded.close()


@pytest.mark.parametrize("table", ["passages", "kpis"])
def test_the_bigram_postings_are_the_bigrams_of_the_stored_texts(corpus: Index, table: str) -> None:
    """The bigram arrays are counted from the stored normalized texts when they are built: the same
    postings, lengths and idf as counting each text's bigrams one by one, and a vocabulary of
    exactly the bigrams the table's texts hold, in their own order. A bigram weighs its idf alone."""
    counted = [Counter(bigrams(record_norm(data))) for *_, data in corpus.store.postings_rows(table)]
    vocabulary = corpus.collection(table).gram_vocabulary()
    assert list(vocabulary) == sorted(set().union(*counted)) and list(vocabulary.values()) == list(range(len(vocabulary)))
    rows = [(np.array(sorted(vocabulary[g] for g in c), np.int32), np.array([c[g] for g in sorted(c)], np.int32)) for c in counted]
    postings, _ = built(rows, len(vocabulary))
    field = corpus.collection(table).fields["grams"]
    for part in ("segments", "indices", "lengths"):
        assert np.array_equal(getattr(field.postings, part), getattr(postings, part))
    assert isinstance(field.weights, bm25.Presence) and np.array_equal(field.weights.idf, bm25.presence(postings).idf)
    collection = corpus.collection(table)
    for char in "島地ＤX":
        assert collection.grams_holding(char) == [i for g, i in vocabulary.items() if char in g]
    grams = [*list(vocabulary)[::50], "ゐゑ", "ゑ"]  # and two that no text holds
    assert collection.gram_ids(grams) == [vocabulary[g] for g in grams if g in vocabulary]


def term_arrays(collection: Collection) -> dict[str, list[tuple[bytes, bytes]]]:
    """Per field, each term's passages and weights, then the lengths and idf: the arrays as
    positions, whatever the blocks (read with the BLOCK they were built with)."""
    out = {}
    for name in FIELDS:
        postings, weights = collection.fields[name].postings, collection.fields[name].weights
        terms = [
            (postings.positions(t).tobytes(), _weights_bytes(weights, postings, t))
            for t in range(postings.n_terms)
        ]
        out[name] = [*terms, (postings.lengths.tobytes(), weights.idf.tobytes())]
    return out


def _weights_bytes(weights: bm25.Weights | bm25.Presence, postings: bm25.Postings, term: int) -> bytes:
    """The term's weight in each passage that holds it (a Presence gives one for all of a block's)."""
    return b"".join(
        np.broadcast_to(weights.of(term, postings, base, postings.indices[a:b].astype(np.intp)), b - a).tobytes()
        for base, a, b in postings.blocks(term)
    )


def test_arrays_built_in_many_blocks_are_those_of_one(corpus_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bigram ids are given once every block's bigrams are known, and each block's postings are
    placed after the earlier blocks': blocks of 16 passages make, term for term, the arrays of one."""
    one = Index.open(corpus_index)
    try:
        expected = {table: (one.collection(table).gram_keys.copy(), term_arrays(one.collection(table))) for table in ("passages", "kpis")}
    finally:
        one.close()
    folder = tmp_path / "index"
    shutil.copytree(corpus_index, folder, ignore=shutil.ignore_patterns(CACHE_FOLDER))
    monkeypatch.setattr(bm25, "BLOCK", 16)
    many = Index.open(folder)
    try:
        for table, (gram_keys, arrays) in expected.items():
            collection = many.collection(table)
            assert collection.fields["words"].postings.n_blocks == -(-len(collection) // 16) > 1
            assert np.array_equal(collection.gram_keys, gram_keys)
            assert term_arrays(collection) == arrays
    finally:
        many.close()


def test_postings_across_blocks_of_passages() -> None:
    """Past 65,536 passages the postings fall into blocks of two-byte offsets: positions, scores,
    holders and lookups must not see the seams. Term 9 is rare, so that holding_all probes the
    other lists by binary search, where common terms are counted."""
    rng = np.random.default_rng(7)
    n = bm25.BLOCK + 5000
    held = rng.random((n, 10)) < 0.3
    held[:, 0] = False  # term id 0 is never used, as in the index
    held[:, 9] = False
    held[[3, bm25.BLOCK - 1, bm25.BLOCK, n - 1], 9] = True
    held[[3, bm25.BLOCK - 1, bm25.BLOCK, n - 1], 1] = True
    rows = [(np.flatnonzero(row), rng.integers(1, 4, size=int(row.sum()))) for row in held]
    postings, tfs = built(rows, 10)
    weights = bm25.weights(postings, tfs)
    assert postings.n_blocks == 2 and postings.indices.dtype == np.uint16
    assert np.array_equal(postings.df(), held.sum(axis=0))
    for term in range(10):
        assert np.array_equal(postings.positions(term), np.flatnonzero(held[:, term]))
    for terms in ([1], [2, 5], [1, 9], [3, 4, 8], [1, 2, 3, 9]):
        expected = np.zeros(n, np.float32)
        for term in terms:
            for base, start, end in postings.blocks(term):
                offsets = postings.indices[start:end].astype(np.intp)
                expected[base:][offsets] += weights.of(term, postings, base, offsets)
        scores = bm25.score(terms, postings, weights)
        assert np.array_equal(scores, expected)
        holders = bm25.holding_all(terms, postings)
        assert np.array_equal(holders, np.flatnonzero(held[:, terms].all(axis=1)))
        # presence alone: each holder of a term gets its idf, however often it holds it
        presence = bm25.presence(postings)
        idf = bm25.idf(held.sum(axis=0), n)
        expected = (held[:, terms] * idf[terms]).sum(axis=1, dtype=np.float32)
        assert np.allclose(bm25.score(terms, postings, presence), expected, rtol=1e-6)
        assert np.allclose(bm25.score(terms, postings, presence, scale=0.3), 0.3 * expected, rtol=1e-6)
        # what search adds as substring evidence: in the passages holding every term, one sum
        assert np.allclose(bm25.score(terms, postings, presence)[holders], idf[terms].sum(dtype=np.float32), rtol=1e-6)
        # and the holders are where the scaled presence scores reach their whole sum, not below
        partial = bm25.score(terms, postings, presence, scale=0.3)
        assert np.array_equal(np.flatnonzero(partial == bm25.scaled_sum(terms, presence, 0.3)), holders)
        assert bm25.probing(terms, postings) == (9 in terms)
    probes = np.unique(rng.integers(0, n, 500))
    assert np.array_equal(postings.find(9, probes) >= 0, held[probes, 9])


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(1, 300), st.integers(2, 6), st.floats(0.02, 0.98), st.integers(0, 2**32 - 1))
def test_the_passages_whose_scaled_presence_reaches_its_sum_hold_every_term(n: int, n_terms: int, density: float, seed: int) -> None:
    """search finds the holders of all of a term's bigrams from their summed partial evidence:
    the same passages as holding_all, however many share a df (and so an idf) or hold all but one."""
    rng = np.random.default_rng(seed)
    held = rng.random((n, n_terms + 1)) < density
    held[:, 0] = False
    rows = [(np.flatnonzero(row), np.ones(int(row.sum()), np.int64)) for row in held]
    postings, _ = built(rows, n_terms + 1)
    presence = bm25.presence(postings)
    terms = [t for t in range(1, n_terms + 1) if held[:, t].any()]
    assume(terms)  # search sums the bigrams of a term that has some
    partial = bm25.score(terms, postings, presence, scale=0.3)
    found = np.flatnonzero(partial == bm25.scaled_sum(terms, presence, 0.3))
    assert np.array_equal(found, bm25.holding_all(terms, postings))
