"""Related initiatives: the passages most like a given passage or text, grouped by city.

More-like-this over the salient terms of the source (tf × idf of its normalized words, the
same analysis as search), scored with the passages' BM25 weights. City names are not salient:
they say where, not what, and would pull every hit back to the source's own city.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from planindex.errors import QueryError, UnknownRecord
from planindex.index import Index
from planindex.search import Hit, make_hit
from planindex.tokens import analyze

SALIENT_TERMS = 25
MIN_IDF = 1.0  # a word in about a third of all passages or more says nothing about a topic
MIN_DF = 2  # a word found nowhere else (a name, a one-off) cannot relate two passages
MAX_TEXT = 5000


@dataclass(frozen=True, slots=True)
class Salient:
    term: str
    term_id: int
    weight: float


@dataclass(frozen=True, slots=True)
class RelatedHit:
    hit: Hit
    shared_terms: list[str]

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "shared_terms": self.shared_terms}


@dataclass(frozen=True, slots=True)
class Related:
    source: dict[str, Any]
    groups: list[tuple[str, list[RelatedHit]]]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "groups": [{"city": city, "hits": [h.to_json() for h in hits]} for city, hits in self.groups]}


def salient_terms(index: Index, text: str, limit: int = SALIENT_TERMS, pool: np.ndarray | None = None) -> list[Salient]:
    """The source's most telling words: frequent in it, rare in the index, and present among the
    candidate passages (`pool`, a mask) at all: a word the other city never uses cannot match."""
    words, _ = analyze(text)
    collection = index.collection("passages")
    postings = collection.fields["words"].postings
    n = max(len(collection), 1)
    vocab = index.vocabulary("words")
    cities = {d.get("city") or "" for d in index.documents.values()}
    stems = {c[:-1] for c in cities if len(c) > 2} | cities
    out = []
    for term, tf in Counter(words).items():
        term_id = vocab.get(term)
        if term_id is None or len(term) < 2 or term.isdigit() or any(term in c or c in term for c in stems if c):
            continue
        start, end = postings.indptr[term_id], postings.indptr[term_id + 1]
        df = int(end - start)
        idf = math.log1p((n - df + 0.5) / (df + 0.5))
        if df < MIN_DF or idf < MIN_IDF or (pool is not None and not pool[postings.indices[start:end]].any()):
            continue
        out.append(Salient(term, term_id, (1 + math.log(tf)) * idf))
    out.sort(key=lambda s: -s.weight)
    return out[:limit]


def more_like(index: Index, terms: list[Salient]) -> np.ndarray:
    """Score of every passage: the BM25 weights of the salient terms, each times its salience."""
    collection = index.collection("passages")
    field = collection.fields["words"]
    scores = np.zeros(len(collection), np.float32)
    for term in terms:
        start, end = field.postings.indptr[term.term_id], field.postings.indptr[term.term_id + 1]
        scores[field.postings.indices[start:end]] += term.weight * field.weights[start:end]
    return scores


def _shared(index: Index, position: int, terms: list[Salient]) -> list[str]:
    postings = index.collection("passages").fields["words"].postings
    shared = []
    for term in terms:
        start, end = postings.indptr[term.term_id], postings.indptr[term.term_id + 1]
        if np.any(postings.indices[start:end] == position):
            shared.append(term.term)
    return shared


def _source(index: Index, passage_id: str | None, text: str | None) -> tuple[dict[str, Any], str, int | None]:
    """(source description, its text, its position in the passages collection or None)."""
    if passage_id:
        found = index.store.record_by_id("passages", passage_id)
        if found is None:
            raise UnknownRecord(f"no passage {passage_id!r}: ids are shown by `planindex search`")
        rowid, data = found
        positions = np.flatnonzero(index.collection("passages").rowids == rowid)
        position = int(positions[0]) if len(positions) else None
        doc_index = index.collection("passages").doc_index[position] if position is not None else -1
        doc = index.documents.get(index.doc_ids[doc_index], {}) if doc_index >= 0 else {}
        summary = {"id": doc.get("id", ""), "title": doc.get("title", ""), "path": doc.get("path", "")}
        source = {**data, "city": doc.get("city"), "doc": summary}
        return source, data["text"], position
    if not text or not text.strip():
        raise QueryError("give a passage id or --text with the text to compare")
    if len(text) > MAX_TEXT:
        raise QueryError(f"--text is {len(text):,} characters long; at most {MAX_TEXT:,} are compared")
    return {"text": text}, text, None


def related(
    index: Index,
    passage_id: str | None = None,
    text: str | None = None,
    *,
    other_cities: bool = False,
    city: str | None = None,
    k: int = 5,
) -> Related:
    """Passages like the source, best k per city; with other_cities, none of the source's city."""
    source, source_text, position = _source(index, passage_id, text)
    collection = index.collection("passages")
    cities = [index.documents[d].get("city") or "" for d in index.doc_ids] + [""]
    hit_cities = np.asarray(cities, dtype=object)[collection.doc_index]
    pool = np.ones(len(collection), dtype=bool)
    if position is not None:
        pool[position] = False
    if other_cities and source.get("city"):
        pool &= hit_cities != source["city"]
    if city:
        pool &= hit_cities == city
    terms = salient_terms(index, source_text, pool=pool)
    if not terms:
        raise QueryError("the source has no distinctive words to compare (too short, or only common words)")
    scores = more_like(index, terms)
    scores[~pool] = 0
    order = np.argsort(-scores, kind="stable")
    groups: dict[str, list[tuple[int, float]]] = {}
    for p in order:
        if scores[p] <= 0:
            break
        members = groups.setdefault(hit_cities[p], [])
        if len(members) < k:
            members.append((int(p), float(scores[p])))
        if all(len(m) >= k for m in groups.values()) and len(groups) == len(set(cities) - {""}):
            break
    records = index.store.records("passages", [int(collection.rowids[p]) for g in groups.values() for p, _ in g])
    highlight = [t.term for t in terms]
    out = []
    for group_city, members in sorted(groups.items(), key=lambda g: -g[1][0][1]):
        hits = [
            RelatedHit(make_hit(index, p, s, records[int(collection.rowids[p])][0], highlight), _shared(index, p, terms))
            for p, s in members
        ]
        out.append((group_city, hits))
    return Related({**source, "salient_terms": [t.term for t in terms]}, out)
