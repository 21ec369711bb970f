"""Query → ranked passages (or KPIs): BM25 on words with a character-bigram fallback, a
coordination factor for the soft AND, filters, phrase and exclusion checks, and snippets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planindex import bm25
from planindex.index import Collection, Index
from planindex.query import Query, Term, parse
from planindex.snippets import Segment, marked, snippet

SHORT_TERM = 3  # characters: below this a morphological token is unreliable, bigrams decide too
GRAM_WEIGHT = 0.5  # bigram evidence of a substring match (every bigram of the term), beside word evidence
PARTIAL_GRAM_WEIGHT = 0.3  # bigram evidence of a partial match (some of its bigrams), a tie-breaker below words


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


def term_scores(index: Index, collection: Collection, term: Term) -> np.ndarray:
    """BM25 evidence for one typed term, from three sources:
    - its words found in the index, summed (a word missing from the index is skipped rather than
      voiding the term: a compound typed whole, 障害者支援, or a question brings words no passage has);
    - its bigrams, in the passages that hold every one of them: a substring that crosses word
      boundaries, or a short term MeCab splits differently in a query and in a passage;
    - its kanji and kana bigrams anywhere, at a lower weight: a partial match (空き家 meets 空き店舗,
      行財政 meets 財政), which ranks a passage that shares part of a word above one that shares none."""
    words = collection.fields["words"]
    grams = collection.fields["grams"]
    word_ids = sorted(set(index.term_ids("words", list(term.words))))
    scores = np.zeros(len(collection), np.float32)
    bm25.score(word_ids, words.postings, words.weights, scores)
    if len(term.norm) == 1:
        # One character has no bigram of its own: the bigrams that hold it stand for it (島 finds 三ヶ島).
        # A scan of the bigram vocabulary, paid only by one-character queries.
        holding = [gid for gram, gid in index.vocabulary("grams").items() if term.norm in gram]
        return bm25.score(holding, grams.postings, grams.weights, scores)
    partial_ids = sorted(set(index.term_ids("grams", [g for g in term.grams if _partial_gram(g)])))
    other_ids = sorted(set(index.term_ids("grams", [g for g in term.grams if not _partial_gram(g)])))
    partial_scores = bm25.score(partial_ids, grams.postings, grams.weights)
    scores += PARTIAL_GRAM_WEIGHT * partial_scores
    # Latin letters and digits are split at script boundaries, the same way in a query and a passage:
    # a known ASCII word needs no substring match, which would find DV inside DVD and PR inside PRO.
    ascii_word = bool(word_ids) and term.norm.isascii()
    if term.grams and not ascii_word and len(partial_ids) + len(other_ids) == len(set(term.grams)):
        gram_ids = partial_ids + other_ids
        present = np.zeros(len(collection), np.int16)
        for gid in gram_ids:
            start, end = grams.postings.indptr[gid], grams.postings.indptr[gid + 1]
            present[grams.postings.indices[start:end]] += 1
        substring = present == len(gram_ids)
        gram_scores = bm25.score(other_ids, grams.postings, grams.weights, partial_scores.copy())
        # a short term is split unreliably by MeCab, and a term with no known word has only its bigrams
        weight = GRAM_WEIGHT if word_ids and len(term.norm) > SHORT_TERM else 1.0
        scores[substring] += weight * gram_scores[substring]
    return scores


def _partial_gram(gram: str) -> bool:
    """A bigram that means something on its own: two kanji or kana (空き of 空き家 and 空き店舗). Two
    Latin letters do not: the "or" of forest would meet every "for" and "report"."""
    return not any(ch.isascii() for ch in gram)


def rank(index: Index, collection: Collection, query: Query) -> np.ndarray:
    """Scores of every record: the sum over groups times the share of groups matched."""
    total = np.zeros(len(collection), np.float32)
    matched = np.zeros(len(collection), np.float32)
    for group in query.groups:
        group_scores = np.zeros(len(collection), np.float32)
        for term in group:
            np.maximum(group_scores, term_scores(index, collection, term), out=group_scores)
        total += group_scores
        matched += group_scores > 0
    return total * (matched / len(query.groups))


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


def top_positions(
    index: Index, table: str, query: Query, k: int, filters: Filters
) -> tuple[list[tuple[int, float]], int, dict[int, tuple[dict[str, Any], str]]]:
    """(position, score) of the best k records, the number that matched, and their stored data."""
    collection = index.collection(table)
    scores = rank(index, collection, query)
    mask = filter_mask(index, collection, filters)
    if mask is not None:
        scores[~mask] = 0
    positive = np.flatnonzero(scores > 0)
    order = positive[np.argsort(-scores[positive], kind="stable")]
    needs_text = bool(query.phrases or query.excludes)
    chosen: list[tuple[int, float]] = []
    records: dict[int, tuple[dict[str, Any], str]] = {}
    total = len(order)
    batch = max(k * 4, 50) if needs_text else max(k, 1)  # a phrase or an exclusion may reject records
    for start in range(0, len(order), batch):
        positions = order[start : start + batch]
        fetched = index.store.records(table, [int(collection.rowids[p]) for p in positions])
        for p in positions:
            rowid = int(collection.rowids[p])
            if rowid not in fetched:
                continue
            data, norm = fetched[rowid]
            if needs_text and not _passes(norm, query):
                total -= 1
                continue
            if len(chosen) < k:
                chosen.append((int(p), float(scores[p])))
                records[int(p)] = (data, norm)
        if len(chosen) >= k and not needs_text:
            break
    return chosen, total, records


def linked_kpis(index: Index, passage_id: str, limit: int = 3) -> list[dict[str, Any]]:
    out = []
    for _, kpi_id, link_score, _ in index.store.links_of("passage_id", passage_id)[:limit]:
        found = index.store.record_by_id("kpis", kpi_id)
        if found:
            out.append({"id": kpi_id, "name": found[1]["name"], "score": round(link_score, 3)})
    return out


def make_hit(index: Index, position: int, score: float, data: dict[str, Any], terms: list[str]) -> Hit:
    """A hit for the passage at `position`, with its document, snippet and linked KPIs."""
    collection = index.collection("passages")
    doc_index = collection.doc_index[position]
    doc = index.documents.get(index.doc_ids[doc_index], {}) if doc_index >= 0 else {}
    return Hit(
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
        kpis=linked_kpis(index, data["id"]),
    )


def search(index: Index, text: str, k: int = 10, filters: Filters | None = None) -> SearchResult:
    """Search the passages. Raises QueryError for a query that cannot be run."""
    started = time.perf_counter()
    query = parse(text)
    chosen, total, records = top_positions(index, "passages", query, max(0, k), filters or Filters())
    terms = query.highlight_terms()
    hits = [make_hit(index, position, score, records[position][0], terms) for position, score in chosen]
    return SearchResult(text, total, (time.perf_counter() - started) * 1000, hits)
