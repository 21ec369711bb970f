"""Link passages (取り組み状況, 課題, 方向性…) to the KPIs they speak to, within one city.

Structure first, words second. A link's score is the share of the KPI name's information
(idf-weighted content words and compounds) found in the passage, times a prior for where the
two stand: the same section (戦略方針(2), or a 重点プロジェクト that the 戦略方針 lists as related),
the same document, or another document of the same city. Never across cities. A pair is kept
only above a threshold calibrated on hand-judged links (tests/data/gold_links.yaml), so that a
passage about nothing measurable gets no link rather than a bad one.

Three kinds of evidence reach past the KPI name's exact words, because a report rarely repeats
its indicators' names (figures of each in tests/eval/README.md, "KPI links"):

- Leading parts of a compound. KPI names are long compounds (東所沢駅, 地域子育て支援拠点施設)
  that the text shortens (東所沢周辺, 地域子育て支援施設). A Japanese compound ends in the kind
  of thing counted and begins with which one, so a passage naming the leading parts speaks of
  the same topic; a trailing run is another thing (所沢駅 inside 東所沢駅 is another station).
  The compound earns the share of its characters named; measurement words alone (利用者 of
  利用者数) name no topic and earn nothing.
- Near-copies. The 総括表 rows repeat the sentences of the 重点プロジェクト sheets (産業 repeats
  企業誘致's 企業立地セミナー sentence), while the words that tie to a KPI (製造業者) sit in the part
  not repeated. Passages reporting the same activity speak to the same KPIs: a passage whose own
  words (headings left out: every passage under a heading shares them) are close to a linked
  passage's inherits that link, discounted because its own words did not name the KPI, and under
  its own prior so that a copy in another section does not inherit a same-section link.
- Related words. Some links need what a planner knows of the field: 商店街 passages move the
  小売業 sales figure. That vocabulary is data (planindex/data/related_terms.tsv, general words
  only, never a KPI's or a place's name), earns half a word's weight, and can only add evidence;
  with the table emptied the links stand on the texts' own words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from planindex.normalize import normalize
from planindex.related_terms import related_terms
from planindex.store import Store, record_data, unpack_many, unpack_record
from planindex.tokens import tokenizer

PRIOR_SECTION = 1.0  # same 戦略方針 / 施策, or a 重点プロジェクト the 戦略方針 lists
PRIOR_DOCUMENT = 0.55  # same document, another section
PRIOR_CITY = 0.4  # another document of the same city (a plan's 施策 and a report's KPI)
THRESHOLD = 0.2  # calibrated on the gold links: below it, links are mostly wrong
MIN_SHARED_IDF = 2.0  # a link needs at least one shared term this rare (idf), not only 事業 or 数
LINKS_PER_PASSAGE = 5
SECTION_KEY = re.compile(r"(戦略方針|重点プロジェクト|基本目標|施策|将来像)\s*\(?\s*([0-9]+(?:-[0-9]+)?)\s*\)?")
KANA_END = re.compile(r"[ぁ-ゖ]$")
# Words that say how a KPI is measured or handled, not what it is about (策定・推進, 整備状況, 満足度).
GENERIC_KPI_WORDS = frozenset(
    [
        "策定",
        "推進",
        "実施",
        "状況",
        "実績",
        "割合",
        "件数",
        "人数",
        "利用",
        "利用者",
        "参加",
        "参加者",
        "充実",
        "満足",
        "満足度",
        "計画",
        "整備",
        "指定",
        "平均",
    ]
)
SUBJECT_WEIGHT = 1.5  # the words before the first の name what is measured (所沢駅 in 所沢駅の1日平均乗降客数)
SUBJECT_MATCH = 0.5  # the least share credited to a passage that names the KPI's subject
SOURCE_WEIGHT = 0.3  # a survey named in brackets (市民意識調査) says where a figure comes from
SUBJECT_END = re.compile(r"への|の|による|における|に関する|に占める")
BRACKETED = re.compile(r"[(（][^)）]*[)）]")
MEASURE_WORD_SHARE = 3  # a term in this many KPI names is measurement vocabulary (整備, 参加, 推進)
MEASURE_WORD_WEIGHT = 0.25
WORD_START = r"(?<![一-龥ァ-ヶ])"  # 所沢駅 starts no word in 東所沢駅
RELATED_WEIGHT = 0.5  # a related word (商店街 for 小売業) is evidence, weaker than the word itself
SIMILAR = 0.5  # idf-weighted cosine from which two passages report the same activity
INHERITED = 0.7  # the share of a similar passage's link strength that carries over
PROJECT_NUMBER = re.compile(r"^\s*[(（]\s*([0-9０-９]+)\s*[)）]", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    doc_id: str
    data: dict[str, Any]
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Link:
    passage_id: str
    kpi_id: str
    doc_id: str
    score: float
    reason: str


def section_key(section: list[str] | tuple[str, ...]) -> str:
    """'戦略方針(2)産業の力をＵＰ' → '戦略方針(2)'; other sections compare whole."""
    return _head_key(section[0]) if section else ""


@lru_cache(maxsize=4096)
def _head_key(heading: str) -> str:
    """Cached: linking asks for every pair of passage and KPI."""
    head = unicodedata.normalize("NFKC", heading)
    match = SECTION_KEY.search(head)
    return f"{match.group(1)}({match.group(2)})" if match else re.sub(r"\s+", "", head)


def related_projects(passages: Iterable[dict[str, Any]]) -> dict[str, str]:
    """重点プロジェクト(n) → the 戦略方針 whose ■関連する重点プロジェクト list names it."""
    mapping: dict[str, str] = {}
    for p in passages:
        if p.get("item") == "関連する重点プロジェクト":
            for number in PROJECT_NUMBER.findall(unicodedata.normalize("NFKC", p["text"])):
                mapping[f"重点プロジェクト({int(number)})"] = section_key(p["section"])
    return mapping


def meaningful(terms: set[str], city: str) -> frozenset[str]:
    """Terms that can carry a link: no single characters, numbers, parts of the city's name, or
    short words ending in kana (まち, その, 新た, 豊か: adverbs and adjectival stems, not subjects)."""
    return frozenset(t for t in terms if len(t) >= 2 and not t.isdigit() and t not in city and not (len(t) <= 3 and KANA_END.search(t)))


def _passages(store: Store, doc_ids: list[str], city: str) -> list[Record]:
    vocab = {i: t for t, i in store.vocabulary().items()}
    marks = ",".join("?" * len(doc_ids))
    rows = store.db.execute(f"SELECT id, doc_id, data, words FROM passages WHERE doc_id IN ({marks}) ORDER BY rowid", doc_ids).fetchall()
    all_ids, _, sizes = unpack_many([row[3] for row in rows])
    out = []
    for (rid, doc_id, blob, _), ids in zip(rows, np.split(all_ids, np.cumsum(sizes)[:-1])):
        data, norm = unpack_record(blob)
        record = {**data, "_norm": norm}
        out.append(Record(rid, doc_id, record, meaningful({vocab[i] for i in ids.tolist()}, city)))
    return out


def _kpis(store: Store, doc_ids: list[str], city: str) -> list[Record]:
    """KPIs by the words of their name alone: the section around them is the prior's business."""
    marks = ",".join("?" * len(doc_ids))
    rows = store.db.execute(f"SELECT id, doc_id, data FROM kpis WHERE doc_id IN ({marks}) ORDER BY rowid", doc_ids)
    out = []
    for kid, doc_id, data in rows:
        record = record_data(data)
        record["_subject"] = subject(record["name"])
        record["_runs"] = leading_runs(record["name"])
        out.append(Record(kid, doc_id, record, meaningful(set(name_words(record["name"])), city)))
    return out


def name_words(text: str) -> list[str]:
    """Words and whole compounds of a KPI name, without the pairs inside compounds (業事業, 品出荷)."""
    return tokenizer().words(normalize(text), pairs=False)


def leading_runs(name: str) -> dict[str, tuple[str, ...]]:
    """Each compound of a KPI name with the runs of its first parts that can stand for it, longest
    first: 東所沢駅 → (東所沢,). Two parts or more, short of the whole (one part is a word of the
    name already, counted on its own); a run of measurement words only (利用者 of 利用者数) names
    no topic."""
    runs = {}
    for word in name_words(name):
        parts = [t.term for t in tokenizer().tokens(word)]
        if "".join(parts) == word:
            runs[word] = tuple(
                "".join(parts[:n])
                for n in range(len(parts) - 1, 1, -1)
                if any(len(part) >= 2 and part not in GENERIC_KPI_WORDS for part in parts[:n])
            )
    return {word: found for word, found in runs.items() if found}


def named_run(runs: tuple[str, ...], text: str) -> str:
    """The first of the runs that starts a word of the text."""
    for run in runs:
        if run in text and re.search(WORD_START + re.escape(run), text):
            return run
    return ""


def subject(name: str) -> str:
    """What a KPI measures, as written before its first の: 所沢駅 in 所沢駅の1日平均乗降客数."""
    return normalize(SUBJECT_END.split(BRACKETED.sub("", name), maxsplit=1)[0])


def name_emphasis(name: str) -> dict[str, float]:
    """Multipliers for the words of a KPI name: its subject counts more, a bracketed source less."""
    unbracketed = BRACKETED.sub("", name)
    emphasis: dict[str, float] = {}
    for part, factor in ((name, SOURCE_WEIGHT), (unbracketed, 1.0), (subject(name), SUBJECT_WEIGHT)):
        for word in name_words(part):
            emphasis[word] = factor
    return emphasis


def _idf(passages: list[Record]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for record in passages:
        df.update(record.terms)
    n = len(passages)
    return {t: math.log1p((n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


def term_weights(passages: list[Record], kpis: list[Record]) -> dict[tuple[str, str], float]:
    """Weight of each word of each KPI name: idf over the passages, times the word's place in the
    name, damped for measurement vocabulary: words that many KPI names share (整備 in 整備状況,
    整備面積, 整備推進) or that only say how a figure is handled (策定・推進)."""
    idf = _idf(passages)
    in_names: Counter[str] = Counter()
    for kpi in kpis:
        in_names.update(kpi.terms)
    rarest = max(idf.values(), default=1.0)
    weights = {}
    for kpi in kpis:
        emphasis = name_emphasis(kpi.data["name"])
        for t in kpi.terms:
            generic = in_names[t] >= MEASURE_WORD_SHARE or t in GENERIC_KPI_WORDS
            weights[(kpi.id, t)] = idf.get(t, rarest) * emphasis.get(t, 1.0) * (MEASURE_WORD_WEIGHT if generic else 1.0)
    return weights


def score_pair(
    passage: Record, kpi: Record, all_weights: dict[tuple[str, str], float], prior: float
) -> tuple[float, list[tuple[str, float]]]:
    """(score, shared terms with their weight): the weighted share of the KPI name in the passage."""
    weights = {t: all_weights.get((kpi.id, t), 0.0) for t in kpi.terms}
    total = sum(weights.values())
    text = passage.data.get("_norm", "")
    related = related_terms()
    shared = []
    for t, w in weights.items():
        if t in passage.terms:
            shared.append((t, w))
            continue
        credits = []
        # a compound's leading parts name its topic (東所沢 of 東所沢駅, 地域子育て支援 of
        # 地域子育て支援拠点施設): naming them earns the compound the share of its characters named
        if (runs := kpi.data["_runs"].get(t)) and (run := named_run(runs, text)):
            credits.append((f"{run}…", w * len(run) / len(t)))
        # a neighbouring word of the field (商店街 for 小売業) earns part of the word's weight
        if near := passage.terms.intersection(related.get(t, ())):
            credits.append((f"{min(near)}~{t}", w * RELATED_WEIGHT))
        if credits:
            shared.append(max(credits, key=lambda c: c[1]))
    shared.sort(key=lambda x: -x[1])
    if total <= 0 or not shared or shared[0][1] < MIN_SHARED_IDF:
        return 0.0, shared
    coverage = sum(w for _, w in shared) / total
    # the passage names exactly what the KPI measures (所沢駅, 農地サポート事業): strong evidence
    # however much of the measurement wording (1日平均乗降客数) it leaves out
    named = kpi.data.get("_subject", "")
    if len(named) >= 3 and re.search(rf"(?<![一-龥ぁ-ゖァ-ヶ]){re.escape(named)}", passage.data.get("_norm", "")):
        coverage = max(coverage, SUBJECT_MATCH)  # 所沢駅周辺 names 所沢駅; 東所沢駅周辺 does not
    return prior * coverage, shared


def _prior(passage: Record, kpi: Record, projects: dict[str, str]) -> tuple[float, str]:
    p_key, k_key = section_key(passage.data["section"]), section_key(kpi.data["section"])
    if passage.doc_id == kpi.doc_id:
        if p_key and (p_key == k_key or projects.get(p_key) == k_key):
            via = f" (listed under {k_key})" if p_key != k_key else ""
            return PRIOR_SECTION, f"same {p_key}{via}"
        return PRIOR_DOCUMENT, "same document"
    return PRIOR_CITY, "same city, another document"


@lru_cache(maxsize=4096)
def heading_words(section: tuple[str, ...], item: str) -> frozenset[str]:
    """The words a passage is indexed with from its headings: every passage under them has them."""
    return frozenset(tokenizer().words(normalize(" ".join([*section, item]))))


def _similar(passages: list[Record], idf: dict[str, float], sources: set[int]) -> dict[int, list[tuple[int, float]]]:
    """For each passage, the source passages (by index) it nearly repeats: idf-weighted cosine of
    their own words (headings left out: passages under one heading share them whatever they say)
    at least SIMILAR. Only passages sharing a rare word are compared."""
    own = [p.terms - heading_words(tuple(p.data["section"]), p.data.get("item") or "") for p in passages]
    norms = [math.sqrt(sum(idf.get(t, 0.0) ** 2 for t in terms)) or 1.0 for terms in own]
    postings: dict[str, list[int]] = defaultdict(list)
    for i in sources:
        for t in own[i]:
            if idf.get(t, 0.0) >= MIN_SHARED_IDF:
                postings[t].append(i)
    similar: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for j, terms in enumerate(own):
        candidates = {i for t in terms for i in postings.get(t, ()) if i != j}
        for i in candidates:
            shared = own[i] & terms
            cosine = sum(idf.get(t, 0.0) ** 2 for t in shared) / (norms[i] * norms[j])
            if cosine >= SIMILAR:
                similar[j].append((i, cosine))
    return similar


def link_city(store: Store, doc_ids: list[str], city: str) -> list[Link]:
    """All links among the documents of one city."""
    passages = _passages(store, doc_ids, city)
    kpis = _kpis(store, doc_ids, city)
    if not passages or not kpis:
        return []
    weights = term_weights(passages, kpis)
    projects = related_projects(p.data for p in passages)
    # (passage index, KPI index) → (score, coverage, reason): the words' evidence first
    direct: dict[tuple[int, int], tuple[float, float, str]] = {}
    for i, passage in enumerate(passages):
        scored = []
        for k, kpi in enumerate(kpis):
            prior, where = _prior(passage, kpi, projects)
            score, shared = score_pair(passage, kpi, weights, prior)
            if score >= THRESHOLD:
                terms = ", ".join(f"{t} {w:.1f}" for t, w in shared[:4])
                scored.append((score, k, score / prior, f"{where}; shared: {terms}"))
        scored.sort(key=lambda s: -s[0])
        for score, k, coverage, reason in scored[:LINKS_PER_PASSAGE]:
            direct[(i, k)] = (score, coverage, reason)
    # a near-copy of a linked passage (the 総括表 row repeating a 重点プロジェクト's sentences) speaks
    # to the same KPIs even where its own words miss them: it inherits their coverage, discounted,
    # under its own prior
    best = dict(direct)
    linked: dict[int, list[tuple[int, float]]] = defaultdict(list)  # passage → (KPI, coverage) of its own links
    for (i, k), (_, coverage, _) in direct.items():
        linked[i].append((k, coverage))
    similar = _similar(passages, _idf(passages), set(linked))
    for j, sources in similar.items():
        for i, cosine in sources:
            for k, coverage in linked[i]:
                prior, where = _prior(passages[j], kpis[k], projects)
                score = coverage * prior * INHERITED
                if score >= THRESHOLD and score > best.get((j, k), (0.0,))[0]:
                    label = passages[i].data.get("item") or passages[i].id
                    best[(j, k)] = (score, coverage, f"{where}; like {label} (similarity {cosine:.2f})")
    by_passage: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
    for (i, k), (score, _, reason) in best.items():
        by_passage[i].append((score, k, reason))
    links: list[Link] = []
    for i, scored in sorted(by_passage.items()):
        scored.sort(key=lambda s: -s[0])
        for score, k, reason in scored[:LINKS_PER_PASSAGE]:
            links.append(Link(passages[i].id, kpis[k].id, passages[i].doc_id, round(score, 4), reason))
    return links


def relink(store: Store, cities: set[str | None] | None = None) -> int:
    """Recompute the links of the given cities (all, when None), inside the caller's transaction.

    Links never cross cities, so an ingest only relinks the cities it touched; a city with no KPI
    has nothing to link. Returns the number of links written."""
    by_city: dict[str, list[str]] = defaultdict(list)
    for doc in store.documents():
        if cities is None or doc.get("city") in cities:
            by_city[doc.get("city") or f"?{doc['id']}"].append(doc["id"])
    count = 0
    for city, doc_ids in by_city.items():
        marks = ",".join("?" * len(doc_ids))
        store.db.execute(f"DELETE FROM links WHERE doc_id IN ({marks})", doc_ids)
        if store.db.execute(f"SELECT 1 FROM kpis WHERE doc_id IN ({marks}) LIMIT 1", doc_ids).fetchone() is None:
            continue
        links = link_city(store, doc_ids, city)
        store.put_links([(k.passage_id, k.kpi_id, k.doc_id, k.score, k.reason) for k in links])
        count += len(links)
    return count


def ranked_kpis(links: list[tuple[str, str, float, str]]) -> list[tuple[str, float]]:
    """Best score per KPI over several passages' links, best first (an item's KPIs)."""
    best: dict[str, float] = {}
    for _, kpi_id, score, _ in links:
        best[kpi_id] = max(best.get(kpi_id, 0.0), score)
    return sorted(best.items(), key=lambda kv: -kv[1])
