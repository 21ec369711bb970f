"""Query → ranked passages (or KPIs): BM25 on words with a character-bigram fallback, a
coordination factor for the soft AND, filters, phrase and exclusion checks, and snippets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planindex import bm25
from planindex.index import Collection, Index
from planindex.query import Query, Term, parse
from planindex.snippets import Segment, marked, snippet
from planindex.tokens import bigrams

SHORT_TERM = 3  # characters: below this a morphological token is unreliable, bigrams decide too
GRAM_WEIGHT = 0.5  # bigram evidence of a substring match (every bigram of the term), beside word evidence
PARTIAL_GRAM_WEIGHT = 0.3  # bigram evidence of a partial match (some of its bigrams), a tie-breaker below words
GROUPS = 1024  # of scores, whose maxima bound the k-th best score from below
LINKED_KPIS = 3  # KPIs shown with a hit: the best links; the rest are one `planindex show` away


@dataclass(frozen=True, slots=True)
class Filters:
    city: str | None = None
    year: int | None = None
    kind: str | None = None
    doc: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    kind: str
    item: str
    text: str
    snippet: list[Segment]
    city: str | None
    year: int | None
    doc: dict[str, str]
    page: int
    section: list[str]
    kpis: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "kind": self.kind,
            "item": self.item,
            "text": self.text,
            "snippet": marked(self.snippet),
            "city": self.city,
            "year": self.year,
            "doc": self.doc,
            "page": self.page,
            "section": self.section,
            "kpis": self.kpis,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    total: int
    took_ms: float
    hits: list[Hit]

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "took_ms": round(self.took_ms, 2), "hits": [h.to_json() for h in self.hits]}


def term_scores(index: Index, collection: Collection, term: Term, out: np.ndarray | None = None) -> np.ndarray:
    """BM25 evidence for one typed term, from three sources:
    - its words found in the index, summed (a word missing from the index is skipped rather than
      voiding the term: a compound typed whole, 障害者支援, or a question brings words no passage has);
    - its bigrams, in the passages that hold every one of them: a substring that crosses word
      boundaries, or a short term MeCab splits differently in a query and in a passage;
    - its kanji and kana bigrams anywhere, at a lower weight: a partial match (空き家 meets 空き店舗,
      行財政 meets 財政), which ranks a passage that shares part of a word above one that shares none.
    The scores are written into `out` when given (its content is replaced), else into a new vector."""
    words = collection.fields["words"]
    grams = collection.fields["grams"]
    word_ids = sorted(set(index.word_ids(list(term.words))))
    scores = bm25.score(word_ids, words.postings, words.weights, bm25.zeroed(out, len(words.postings.lengths)))
    if len(term.norm) == 1:
        # One character has no bigram of its own: the bigrams that hold it stand for it (島 finds 三ヶ島).
        return bm25.score(collection.grams_holding(term.norm), grams.postings, grams.weights, scores)
    partial_ids = sorted(set(collection.gram_ids([g for g in term.grams if _partial_gram(g)])))
    other_ids = sorted(set(collection.gram_ids([g for g in term.grams if not _partial_gram(g)])))
    # Latin letters and digits are split at script boundaries, the same way in a query and a passage:
    # a known ASCII word needs no substring match, which would find DV inside DVD and PR inside PRO.
    # Nor is there one when a bigram of the term is in no passage.
    ascii_word = bool(word_ids) and term.norm.isascii()
    substring = not ascii_word and bool(term.grams) and len(partial_ids) + len(other_ids) == len(set(term.grams))
    # a short term is split unreliably by MeCab, and a term with no known word has only its bigrams
    weight = GRAM_WEIGHT if word_ids and len(term.norm) > SHORT_TERM else 1.0
    # One bigram (支援, 空き): the passages holding it are those it gives a partial score, so both
    # its weights go in one pass over its postings.
    alone = substring and len(partial_ids) == 1 and not other_ids
    if not substring or alone:
        bm25.score(partial_ids, grams.postings, grams.weights, scores, scale=PARTIAL_GRAM_WEIGHT + (weight if alone else 0.0))
        return scores
    gram_ids = partial_ids + other_ids
    if other_ids or bm25.probing(gram_ids, grams.postings):
        bm25.score(partial_ids, grams.postings, grams.weights, scores, scale=PARTIAL_GRAM_WEIGHT)
        holders = bm25.holding_all(gram_ids, grams.postings, collection.scratch("holding"))
    else:
        # Every bigram of the term is a partial one, and counting its holders would walk the postings
        # just scored again: summed apart, their partial evidence reaches its whole exactly where all are.
        partial = bm25.zeroed(collection.scratch("partial"), len(scores))
        bm25.score(partial_ids, grams.postings, grams.weights, partial, scale=PARTIAL_GRAM_WEIGHT)
        holders = np.flatnonzero(partial == bm25.scaled_sum(partial_ids, grams.weights, PARTIAL_GRAM_WEIGHT))
        scores += partial
    # A bigram weighs its idf wherever it is (bm25.Presence): in the passages holding every bigram of
    # the term, the substring evidence is the same sum, added at those positions alone.
    scores[holders] += np.float32(weight * grams.weights.idf[gram_ids].sum(dtype=np.float32))
    return scores


def _partial_gram(gram: str) -> bool:
    """A bigram that means something on its own: two kanji or kana (空き of 空き家 and 空き店舗). Two
    Latin letters do not: the "or" of forest would meet every "for" and "report"."""
    return not any(ch.isascii() for ch in gram)


def rank(index: Index, collection: Collection, query: Query, out: np.ndarray | None = None) -> np.ndarray:
    """Scores of every record: the sum over groups times the share of groups matched. Written into
    `out` when given (its content is replaced), else into a new vector."""
    if len(query.groups) == 1:  # the share is 1 wherever the score is positive: nothing to multiply
        return _group_scores(index, collection, query.groups[0], out)
    total = _group_scores(index, collection, query.groups[0], out)
    matched, positive = collection.scratch("matched"), collection.scratch("positive", np.bool_)
    matched[:] = np.greater(total, 0, out=positive)
    for group in query.groups[1:]:
        group_scores = _group_scores(index, collection, group, collection.scratch("group"))
        total += group_scores
        matched += np.greater(group_scores, 0, out=positive)
    total *= np.divide(matched, len(query.groups), out=matched)
    return total


def _group_scores(index: Index, collection: Collection, group: tuple[Term, ...], out: np.ndarray | None) -> np.ndarray:
    """The best of the alternatives, passage by passage (scores are never negative)."""
    scores = term_scores(index, collection, group[0], out)
    for term in group[1:]:
        np.maximum(scores, term_scores(index, collection, term, collection.scratch("alternative")), out=scores)
    return scores


def filter_mask(index: Index, collection: Collection, filters: Filters) -> np.ndarray | None:
    """Positions allowed by the filters, or None when nothing is filtered."""
    mask: np.ndarray | None = None

    def both(condition: np.ndarray) -> None:
        nonlocal mask
        mask = condition if mask is None else mask & condition

    doc_ok = []
    for doc_id in index.doc_ids:
        doc = index.documents[doc_id]
        ok = True
        if filters.city and filters.city not in (doc.get("city") or ""):
            ok = False
        if filters.year and not _covers(doc, filters.year):
            ok = False
        if filters.doc and not (
            doc_id.startswith(filters.doc) or filters.doc in doc.get("title", "") or filters.doc in doc.get("path", "")
        ):
            ok = False
        doc_ok.append(ok)
    if filters.city or filters.year or filters.doc:
        allowed = np.asarray([*doc_ok, False], dtype=bool)  # index -1: a record of no known document
        both(allowed[collection.doc_index])
    if filters.kind:
        codes = [i for i, k in enumerate(collection.kinds) if k == filters.kind]
        both(np.isin(collection.kind_index, codes))
    return mask


def _covers(doc: dict[str, Any], year: int) -> bool:
    period = doc.get("period")
    if period:
        return period[0] <= year <= period[1]
    return doc.get("fiscal_year") == year


def _passes(norm: str, query: Query) -> bool:
    return all(p in norm for p in query.phrases) and not any(x in norm for x in query.excludes)


def _holders(collection: Collection, text: str) -> np.ndarray | None:
    """Ascending positions of the passages holding every bigram of a normalized text, or None when
    it has none. A passage whose text contains it holds them all (bigrams skip the same spaces and
    symbols in both), so this is a superset of those that contain it, found without reading text."""
    grams = bigrams(text)
    if not grams or any(len(g) != 2 for g in grams):
        return None
    ids = collection.gram_ids(grams)
    if len(ids) < len(grams):
        return np.zeros(0, np.int32)
    return bm25.holding_all(sorted(set(ids)), collection.fields["grams"].postings, collection.scratch("holding"))


def _text_checked(index: Index, table: str, collection: Collection, query: Query, positive: np.ndarray) -> np.ndarray:
    """The positions whose text passes the phrases and exclusions. Only the passages that hold a
    phrase's bigrams can contain it, and only those that hold an exclusion's bigrams can be
    rejected by it: the text of those alone is read, not of every passage that scored."""
    for phrase in query.phrases:
        holders = _holders(collection, phrase)
        if holders is not None:
            positive = positive[bm25.among(positive, holders)]
    if query.phrases:  # a phrase must be found in the text of every candidate
        suspect = np.ones(len(positive), bool)
    else:
        suspect = np.zeros(len(positive), bool)
        for excluded in query.excludes:
            holders = _holders(collection, excluded)
            suspect |= True if holders is None else bm25.among(positive, holders)
    checked = positive[suspect]
    norms = index.store.norms(table, [int(r) for r in collection.rowids[checked]])
    passes = np.ones(len(positive), bool)
    passes[suspect] = [_passes(norms.get(int(r), ""), query) for r in collection.rowids[checked]]
    return positive[passes]


def _best_first(scores: np.ndarray, batch: int) -> Iterator[np.ndarray]:
    """Positions with a positive score, best first and ties by position (a stable sort), `batch` at
    a time: those not below the batch-th best come first, and the rest is found and sorted only
    if the caller reads on."""
    kth, best = _top_candidates(scores, batch)
    parts = [lambda: best]
    if kth > 0:
        parts.append(lambda: np.flatnonzero((scores > 0) & (scores < kth)))
    for part in parts:
        positions = part()
        ordered = positions[np.argsort(-scores[positions], kind="stable")]
        for start in range(0, len(ordered), batch):
            yield ordered[start : start + batch]


def _top_candidates(scores: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """(the k-th best score, ascending positions of the scores not below it), or (0, every positive
    position) when fewer than k are positive. The scores are dealt into GROUPS groups (position
    modulo GROUPS, the tail one to a group): the k-th best of the groups' maxima is reached by at
    least k scores, one in each of k groups, so it is at most the k-th best score, and only the
    groups whose maximum reaches it can hold a candidate. One elementwise maximum over the rows
    and a partition of a thousand maxima find it, where a scan of the whole vector for the scores
    above a threshold costs twice as much."""
    if not len(scores):
        return 0.0, np.zeros(0, np.intp)
    groups = min(GROUPS, len(scores))
    whole = len(scores) - len(scores) % groups
    grid = scores[:whole].reshape(-1, groups)
    tail = scores[whole:]
    maxima = np.concatenate([grid.max(axis=0), tail])
    threshold = np.partition(maxima, len(maxima) - k)[len(maxima) - k] if len(maxima) >= k else 0
    if threshold > 0:
        columns = np.flatnonzero(maxima[:groups] >= threshold)
        rows, which = np.nonzero(grid[:, columns] >= threshold)
        positions = np.concatenate([rows * groups + columns[which], whole + np.flatnonzero(tail >= threshold)])
    else:
        positions = np.flatnonzero(scores > 0)
    if len(positions) < k:  # few scores are positive: all of them
        return 0.0, positions
    candidates = scores[positions]
    kth = float(np.partition(candidates, len(candidates) - k)[len(candidates) - k])
    return kth, positions[candidates >= kth]


def top_positions(
    index: Index, table: str, query: Query, k: int, filters: Filters
) -> tuple[list[tuple[int, float]], int, dict[int, dict[str, Any]]]:
    """(position, score) of the best k records, the number that matched, and their stored data."""
    collection = index.collection(table)
    scores = rank(index, collection, query, collection.scratch("scores"))
    mask = filter_mask(index, collection, filters)
    if mask is not None:
        scores[~mask] = 0
    if query.phrases or query.excludes:
        positive = np.flatnonzero(scores > 0)  # on booleans: ten times numpy's scan of floats
        kept = _text_checked(index, table, collection, query, positive)
        scores[positive[~bm25.among(positive, kept)]] = 0
    chosen: list[tuple[int, float]] = []
    records: dict[int, dict[str, Any]] = {}
    for positions in _best_first(scores, max(k, 1)):
        fetched = index.store.records(table, [int(collection.rowids[p]) for p in positions])
        for p in positions:
            rowid = int(collection.rowids[p])
            if rowid in fetched and len(chosen) < k:
                chosen.append((int(p), float(scores[p])))
                records[int(p)] = fetched[rowid]
        if len(chosen) >= k:
            break
    # scores are never negative; counted on booleans, eight times faster than on floats
    return chosen, int(np.count_nonzero(scores > 0)), records


def make_hits(index: Index, found: list[tuple[int, float, dict[str, Any]]], terms: list[str]) -> list[Hit]:
    """Hits for (position, score, record data) of passages, with their documents, snippets and
    linked KPIs: the KPIs of all of them in one query."""
    collection = index.collection("passages")
    links = index.store.linked_kpis([data["id"] for _, _, data in found], LINKED_KPIS)
    hits = []
    for position, score, data in found:
        doc_index = collection.doc_index[position]
        doc = index.documents.get(index.doc_ids[doc_index], {}) if doc_index >= 0 else {}
        hits.append(
            Hit(
                id=data["id"],
                score=score,
                kind=data["kind"],
                item=data["item"],
                text=data["text"],
                snippet=snippet(data["text"], terms),
                city=doc.get("city"),
                year=doc.get("fiscal_year"),
                doc={"id": doc.get("id", ""), "title": doc.get("title", ""), "path": doc.get("path", "")},
                page=data["page"],
                section=data["section"],
                kpis=[{"id": kpi_id, "name": name, "score": round(link_score, 3)} for kpi_id, name, link_score in links[data["id"]]],
            )
        )
    return hits


def search(index: Index, text: str, k: int = 10, filters: Filters | None = None) -> SearchResult:
    """Search the passages. Raises QueryError for a query that cannot be run."""
    started = time.perf_counter()
    query = parse(text)
    chosen, total, records = top_positions(index, "passages", query, max(0, k), filters or Filters())
    terms = query.highlight_terms()
    hits = make_hits(index, [(position, score, records[position]) for position, score in chosen], terms)
    return SearchResult(text, total, (time.perf_counter() - started) * 1000, hits)
