"""Related initiatives: the passages most like a given passage or text, grouped by city.

More-like-this: the source's salient terms (tf × idf of its normalized words, the same analysis as
search) scored with the passages' BM25 weights. What is salient is chosen for comparing two cities'
plans, where plain more-like-this is led astray (tests/eval/README.md, "Related initiatives"):

- Nouns only. A plan's verbs (図る, 進める, 行う, 向ける) are the grammar of every passage, and the ones
  rare enough to pass an idf floor are accidents of phrasing, not topics. A one-kanji noun is kept
  (命, 心, 緑): planning Japanese writes whole topics with one. So is a compound's one-kanji piece
  (線 of 号線, 駅 of 所沢駅): keeping only lone ones lost two pairs, the pieces carry part of a match.
- A city's house style says nothing about a topic: a word found in more than HOUSE_STYLE of one city's
  passages (推進, 支援, 充実) is dropped even if the other city uses it less. So are city names: they say
  where, not what, and would pull every hit back to the source's own city.
- A source is often a 総括表 cell, a list of ・bullets on unrelated initiatives (a bus trial, a railway
  extension, two road works). Over the whole cell the bullet with the rarest words wins every top place,
  so each line with two salient terms or more is also scored alone, normalized by its best candidate in
  each city, and a passage's score blends the whole-source score with its best line (SEGMENT_SHARE):
  the top of a city then holds the best match of several bullets, not the five best of one.
- Two cities name one initiative differently (Facebook / SNS, 官学連携 / 大学). A small table of general
  planning vocabulary, planindex/data/related_terms.tsv, adds the other words of a source word's group
  at RELATED_WORD_WEIGHT; it only widens the source, never the index or search.
- An initiative can run over several passages (市政概要: 広島平和記念式典参列 is an event in one passage
  and who takes part in the next). Each passage gets ITEM_CONTEXT of the scores of the passages that
  continue its item, so the half that names the event is not pushed out by the half that matched more.
- A plan files the passages of one policy area under one heading (清瀬市's 施策3-311 holds its 10年後の姿
  and its ● directions; a 総括表 row holds its 課題, 取り組み状況 and 方向性 cells). A passage whose section
  also holds a strong match for the source is likelier in the right policy area than one that matched a
  few words alone, elsewhere (an editorial note sharing only 完了次第 with a 道路 cell). Each passage gets
  SECTION_CONTEXT of the best score among the other passages of its section: the cluster hypothesis of
  retrieval, one level above item context.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from planindex.errors import QueryError, UnknownRecord
from planindex.index import Index
from planindex.normalize import normalize
from planindex.related_terms import related_terms
from planindex.search import Hit, make_hits
from planindex.tokens import analyze, tokenizer

SALIENT_TERMS = 25
MIN_IDF = 1.0  # a word in about a third of all passages or more says nothing about a topic
MIN_DF = 2  # a word found nowhere else (a name, a one-off) cannot relate two passages
MAX_TEXT = 5000
HOUSE_STYLE = 0.25  # share of one city's passages above which a word is that city's boilerplate
SEGMENT_SHARE = 0.5  # weight of a passage's best single-line match against the whole-source match
SEGMENT_MIN_TERMS = 2  # a line with fewer salient terms is a heading or a fragment: it joins only the whole
RELATED_WORD_WEIGHT = 0.7  # a related word is evidence, weaker than the word the source wrote
ITEM_CONTEXT = 0.5  # share of the scores of the passages continuing the same item added to a passage's own
SECTION_CONTEXT = 0.5  # share of the best score among the other passages of its section added to a passage's own
_KANJI = re.compile(r"[\u3400-\u9fff]")


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


def _city_stems(index: Index) -> set[str]:
    """City names and their stems (所沢市, 所沢): a term inside or around one names a place."""
    cities = {d.get("city") or "" for d in index.documents.values()} - {""}
    return {c[:-1] for c in cities if len(c) > 2} | cities


def _idf(df: int, n: int) -> float:
    return math.log1p((n - df + 0.5) / (df + 0.5))


def salient_terms(index: Index, text: str, limit: int = SALIENT_TERMS) -> list[Salient]:
    """A text's most telling words, every part of speech: frequent in it, rare in the index. The
    plain more-like-this that audit's goal matching runs on one sentence of a plan."""
    words, _ = analyze(text)
    collection = index.collection("passages")
    postings = collection.fields["words"].postings
    n = max(len(collection), 1)
    vocab = index.vocabulary()
    stems = _city_stems(index)
    out = []
    for term, tf in Counter(words).items():
        term_id = vocab.get(term)
        if term_id is None or len(term) < 2 or term.isdigit() or any(term in c or c in term for c in stems):
            continue
        start, end = postings.span(term_id)
        df = end - start
        idf = _idf(df, n)
        if df < MIN_DF or idf < MIN_IDF:
            continue
        out.append(Salient(term, term_id, (1 + math.log(tf)) * idf))
    out.sort(key=lambda s: -s.weight)
    return out[:limit]


def _line_terms(text: str, expand: bool) -> tuple[list[Counter[str]], set[str]]:
    """The noun terms of each non-empty line with their counts, related words included, and the set
    of terms that only the related-words table brought."""
    table = related_terms() if expand else {}
    lines: list[tuple[Counter[str], list[str]]] = []
    for line in text.splitlines():
        normalized = normalize(line)
        if not normalized.strip():
            continue
        words = tokenizer().words(normalized)
        inflected = {t.term for t in tokenizer().tokens(normalized) if not t.noun}
        # a verb still calls up its group (にぎわい創出 is tagged as the verb にぎわう)
        lines.append((Counter(w for w in words if w not in inflected), [r for w in words for r in table.get(w, ())]))
    written = {term for counts, _ in lines for term in counts}
    added = {r for _, related in lines for r in related} - written
    for counts, related in lines:
        counts.update(r for r in related if r in added)
    return [counts for counts, _ in lines], added


def _source_terms(
    index: Index, text: str, pool: np.ndarray, city_code: np.ndarray, expand: bool
) -> tuple[list[Salient], list[list[Salient]]]:
    """(the source's salient terms, best first; the same terms weighted by each line's counts).

    A term must be present in the pool (a word the other city never uses cannot match) and must not
    be any city's house style."""
    collection = index.collection("passages")
    postings = collection.fields["words"].postings
    n = max(len(collection), 1)
    vocab = index.vocabulary()
    stems = _city_stems(index)
    city_sizes = np.maximum(np.bincount(city_code), 1)
    lines, added = _line_terms(text, expand)
    kept: dict[str, tuple[int, float]] = {}  # term → (term id, idf × how much the source's word counts)
    for term in set().union(*lines):
        term_id = vocab.get(term)
        if term_id is None or term.isdigit() or any(term in c or c in term for c in stems):
            continue
        if len(term) < 2 and not _KANJI.match(term):
            continue
        found = postings.positions(term_id)
        idf = _idf(len(found), n)
        if (len(found) < MIN_DF and term not in added) or idf < MIN_IDF or not pool[found].any():
            continue
        if (np.bincount(city_code[found], minlength=len(city_sizes)) / city_sizes).max() > HOUSE_STYLE:
            continue
        kept[term] = (term_id, idf * (RELATED_WORD_WEIGHT if term in added else 1.0))
    whole = Counter[str]()
    for counts in lines:
        whole.update(counts)

    def weighted(counts: Counter[str], terms: list[str]) -> list[Salient]:
        return [Salient(t, kept[t][0], (1 + math.log(counts[t])) * kept[t][1]) for t in terms if counts[t]]

    terms = weighted(whole, list(kept))
    # kept is filled from a set, whose order changes with the hash seed: ties at the cut must not
    terms.sort(key=lambda s: (-s.weight, s.term))
    terms = terms[:SALIENT_TERMS]
    chosen = [t.term for t in terms]
    return terms, [weighted(counts, chosen) for counts in lines]


def more_like(index: Index, terms: list[Salient]) -> np.ndarray:
    """Score of every passage: the BM25 weights of the salient terms, each times its salience."""
    collection = index.collection("passages")
    field = collection.fields["words"]
    scores = np.zeros(len(collection), np.float32)
    for term in terms:
        for base, start, end in field.postings.blocks(term.term_id):
            offsets = field.postings.indices[start:end].astype(np.intp)
            scores[base:][offsets] += term.weight * field.weights.of(term.term_id, field.postings, base, offsets)
    return scores


def _shared(index: Index, position: int, terms: list[Salient]) -> list[str]:
    postings = index.collection("passages").fields["words"].postings
    shared = []
    for term in terms:
        if postings.find(term.term_id, np.array([position]))[0] >= 0:
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


def _city_best(scores: np.ndarray, pool: np.ndarray, city_code: np.ndarray) -> np.ndarray:
    """Each passage's best score among the pool passages of its city: hits are ranked city by city."""
    best = np.zeros(int(city_code.max()) + 1, np.float32)
    np.maximum.at(best, city_code[pool], scores[pool])
    return best[city_code]


def _score(index: Index, terms: list[Salient], lines: list[list[Salient]], pool: np.ndarray, city_code: np.ndarray) -> np.ndarray:
    """The whole-source score, blended with the passage's best match to one line of the source."""
    scores = more_like(index, terms)
    matched = [line for line in lines if len(line) >= SEGMENT_MIN_TERMS]
    if len(lines) < 2 or not matched:
        return scores
    best_line = np.zeros_like(scores)
    for line in matched:
        line_scores = more_like(index, line)
        top = _city_best(line_scores, pool, city_code)
        np.maximum(best_line, np.divide(line_scores, top, out=np.zeros_like(line_scores), where=top > 0), out=best_line)
    # in the whole-source score's units, so that a one-line source keeps its plain more-like-this score
    return (1 - SEGMENT_SHARE) * scores + SEGMENT_SHARE * best_line * _city_best(scores, pool, city_code)


def _context(index: Index, scores: np.ndarray) -> np.ndarray:
    """What each scored passage borrows from its neighbours: ITEM_CONTEXT of the scores of the passages
    that continue its item (adjacent in its document, same item heading and section), and
    SECTION_CONTEXT of the best score among the other passages of its section in its document."""
    collection = index.collection("passages")
    scored = np.flatnonzero(scores > 0)
    records = index.store.records("passages", [int(collection.rowids[p]) for p in scored])
    items: dict[int, tuple[int, str, tuple[str, ...]]] = {}
    sections: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for p in scored:
        data = records[int(collection.rowids[p])]
        section = tuple(data.get("section") or ())
        if data.get("item"):
            items[int(p)] = (int(collection.doc_index[p]), data["item"], section)
        if section:  # a passage under no heading at all has no policy area to share
            sections.setdefault((int(collection.doc_index[p]), section), []).append(int(p))
    context = np.zeros_like(scores)
    for p, key in items.items():
        for step in (-1, 1):
            q = p + step
            while items.get(q) == key:  # a passage scored 0 ends the run: it lends nothing anyway
                context[p] += ITEM_CONTEXT * scores[q]
                q += step
    for members in sections.values():
        if len(members) < 2:
            continue
        # the best of the others: the section's best for all but itself, its runner-up for the best
        first, second = np.sort(scores[members])[::-1][:2]
        for p in members:
            context[p] += SECTION_CONTEXT * (second if scores[p] == first else first)
    return context


def related(
    index: Index,
    passage_id: str | None = None,
    text: str | None = None,
    *,
    other_cities: bool = False,
    city: str | None = None,
    k: int = 5,
    expand: bool = True,
) -> Related:
    """Passages like the source, best k per city; with other_cities, none of the source's city.
    expand=False leaves out the related-words table (to measure what it adds)."""
    source, source_text, position = _source(index, passage_id, text)
    collection = index.collection("passages")
    cities = [index.documents[d].get("city") or "" for d in index.doc_ids] + [""]
    hit_cities = np.asarray(cities, dtype=object)[collection.doc_index]
    names = sorted(set(cities))
    city_code = np.asarray([names.index(c) for c in cities])[collection.doc_index]
    pool = np.ones(len(collection), dtype=bool)
    if position is not None:
        pool[position] = False
    if other_cities and source.get("city"):
        pool &= hit_cities != source["city"]
    if city:
        pool &= hit_cities == city
    terms, lines = _source_terms(index, source_text, pool, city_code, expand)
    if not terms:
        raise QueryError("the source has no distinctive words to compare (too short, or only common words)")
    scores = _score(index, terms, lines, pool, city_code)
    scores[~pool] = 0
    scores += _context(index, scores)
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
        hits = make_hits(index, [(p, s, records[int(collection.rowids[p])]) for p, s in members], highlight)
        out.append((group_city, [RelatedHit(hit, _shared(index, p, terms)) for hit, (p, _) in zip(hits, members)]))
    return Related({**source, "salient_terms": [t.term for t in terms]}, out)
