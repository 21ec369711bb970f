"""Consistency audit of plans and reports: numbers that do not add up, units that contradict the
indicator, broken heading numbering, one indicator under two names, 順調 narratives beside falling
KPIs, goals with no reported activity, and indicators moving the wrong way year after year.

Each rule is a function from the indexed records of one city to findings; `audit` runs them all.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from planindex.index import Index
from planindex.linking import section_key
from planindex.numbers import is_year_label
from planindex.related import more_like, salient_terms
from planindex.store import unpack_record

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
RATE_TOLERANCE = 0.5  # points: figures are printed rounded, and a rate is often computed before rounding
ON_TRACK = ("順調",)  # 順調に進行している, 概ね順調に進行している
WEAK_ACHIEVEMENT = 80.0  # %: a 戦略指標 below this is not "on track", whatever the narrative says
AGAINST_YEARS = 2  # consecutive moves against the direction that make a trend
GOAL_COVERAGE = 0.3  # share of a goal's salient words an activity must report for the goal to count as acted on
COUNT_WORDS = ("乗降客数", "人数", "件数", "客数", "者数", "世帯数", "組織数", "事業所数", "箇所数", "回数", "校数")
LABELS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
WHERE = {"table": "表", "chart title": "グラフの題"}
BASE_NAME = re.compile(r"^(.*?)\s*【基準値】")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    doc_id: str
    doc_title: str
    page: int
    records: list[str]
    evidence: dict[str, Any]
    explanation: str
    city: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "city": self.city,
            "doc": {"id": self.doc_id, "title": self.doc_title},
            "page": self.page,
            "records": self.records,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }


@dataclass
class CityRecords:
    city: str
    docs: dict[str, dict[str, Any]]
    passages: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _finding(
    records: CityRecords, rule: str, severity: str, record: dict[str, Any], ids: list[str], evidence: dict[str, Any], text: str
) -> Finding:
    doc = records.docs[record["doc_id"]]
    return Finding(rule, severity, doc["id"], doc["title"], record.get("page", 0), ids, evidence, text, records.city)


# --- 1. 達成率 -------------------------------------------------------------------------------


def expected_rates(target: float, actual: float, direction: str) -> tuple[float, float]:
    """(capped, uncapped) achievement as the sheets compute it: actual/target, or target/actual when
    lower is better; a target of 0 is met by anything on the right side of it."""
    if target == 0:
        met = actual >= 0 if direction == "up" else actual <= 0
        return (100.0, 100.0) if met else (0.0, 0.0)
    uncapped = (100.0 * target / actual if actual else 100.0) if direction == "down" else 100.0 * actual / target
    return min(uncapped, 100.0), uncapped


def rate_findings(records: CityRecords) -> list[Finding]:
    out = []
    for kpi in records.kpis:
        for point in kpi["series"]:
            target, actual, rate = point["target"], point["actual"], point["rate"]
            if target is None or actual is None or rate is None:
                continue
            capped, uncapped = expected_rates(target, actual, kpi["direction"])
            if min(abs(rate - capped), abs(rate - uncapped)) > RATE_TOLERANCE:
                out.append(
                    _finding(
                        records, "達成率", "high", kpi, [kpi["id"]],
                        {"year": point["label"], "target": target, "actual": actual, "reported_rate": rate,
                         "recomputed_rate": round(capped, 1), "direction": kpi["direction"]},
                        f"{kpi['name']} {point['label']}: 達成率は {rate:g}% と記載されていますが、目標 {target:g} と"
                        f"実績 {actual:g} からは {capped:.1f}% になります。",
                    )
                )  # fmt: skip
    return out


# --- 2. units ----------------------------------------------------------------------------------


def _is_count(name: str) -> bool:
    return any(word in name for word in COUNT_WORDS)


def _measure(name: str) -> str:
    """What is measured, without what of: 所沢駅の1日平均乗降客数 → 1日平均乗降客数."""
    folded = _fold(name)
    return folded.split("の", 1)[1] if "の" in folded else ""


def unit_findings(records: CityRecords) -> list[Finding]:
    out = []
    for kpi in records.kpis:
        if _is_count(kpi["name"]) and _fold(kpi["unit"]) == "%":
            out.append(
                _finding(
                    records, "単位", "high", kpi, [kpi["id"]], {"name": kpi["name"], "unit": kpi["unit"]},
                    f"{kpi['name']} は人数・件数を数える指標ですが、単位が % になっています。",
                )
            )  # fmt: skip
    by_measure: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for kpi in records.kpis:
        measure = _measure(kpi["name"])
        if len(measure) >= 4:
            by_measure[(kpi["doc_id"], measure)].append(kpi)
    for twins in by_measure.values():
        units = {_fold(k["unit"]) for k in twins}
        if len(twins) > 1 and len(units) > 1:
            out.append(
                _finding(
                    records, "単位", "high", twins[0], [k["id"] for k in twins], {k["name"]: k["unit"] for k in twins},
                    "同じ量を測る対の指標で単位が異なります: "
                    + "、".join(f"{k['name']} [{k['unit'] or '-'}]" for k in twins) + "。",
                )
            )  # fmt: skip
    return out


# --- 3. headings -------------------------------------------------------------------------------


def heading_findings(records: CityRecords) -> list[Finding]:
    """A label sequence that restarts inside one section means a group heading was printed twice
    (その2 twice under 戦略方針(4)); a jump means one is missing."""
    out = []
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for kpi in records.kpis:
        if kpi["label"] in LABELS:
            groups[(kpi["doc_id"], tuple(kpi["section"]))].append(kpi)
    for (_, section), kpis in groups.items():
        labels = [k["label"] for i, k in enumerate(kpis) if i == 0 or k["label"] != kpis[i - 1]["label"]]
        numbers = [LABELS.index(label) + 1 for label in labels]
        restarts = [i for i in range(1, len(numbers)) if numbers[i] <= numbers[i - 1]]
        gaps = [i for i in range(1, len(numbers)) if numbers[i] > numbers[i - 1] + 1]
        heading = section[-1] if section else ""
        for i in restarts:
            first_again = next(k for k in kpis if k["label"] == labels[i] and kpis.index(k) > 0 and k is not kpis[0])
            out.append(
                _finding(
                    records, "見出し", "medium", first_again, [k["id"] for k in kpis], {"heading": heading, "labels": labels},
                    f"見出し「{heading}」が2回現れます。KPIの番号が {labels[i]} からやり直されており"
                    f"（{kpis[-1]['name']} など）、後半は別の見出しに属すると考えられます。",
                )
            )  # fmt: skip
        for i in gaps:
            out.append(
                _finding(
                    records, "見出し", "low", kpis[0], [k["id"] for k in kpis], {"heading": heading, "labels": labels},
                    f"「{heading}」のKPI番号が {labels[i - 1]} から {labels[i]} に飛んでいます。",
                )
            )  # fmt: skip
    return out


# --- 4. one indicator, two names -----------------------------------------------------------------


def _core(name: str) -> str:
    """A name without its bracketed source and label: 所沢への定住意向率 (市民意識調査) → 所沢への定住意向率."""
    return re.sub(r"[(（][^)）]*[)）]", "", _fold(name.lstrip(LABELS)))


def _near(a: str, b: str) -> bool:
    """Two spellings of one name: long, almost equal, different."""
    if a == b or min(len(a), len(b)) < 6:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.9 and abs(len(a) - len(b)) <= 2


def _twins(a: str, b: str) -> bool:
    """Same measure of two subjects, one the other with a qualifier in front (東所沢駅, 所沢駅)."""
    subject_a, subject_b = a.split("の", 1)[0], b.split("の", 1)[0]
    return _measure(a) == _measure(b) != "" and subject_a != subject_b and (subject_a.endswith(subject_b) or subject_b.endswith(subject_a))


def naming_findings(records: CityRecords) -> list[Finding]:
    names: list[tuple[str, dict[str, Any], str]] = []
    for kpi in records.kpis:
        names.append((_core(kpi["name"]), kpi, "table"))
        base = BASE_NAME.match(kpi.get("base") or "")
        if base:
            names.append((_core(base.group(1)), kpi, "chart title"))
    out, seen = [], set()
    for i, (a, kpi_a, where_a) in enumerate(names):
        for b, kpi_b, where_b in names[i + 1 :]:
            pair = tuple(sorted((a, b)))
            if pair in seen or not _near(a, b):
                continue
            if kpi_a["id"] != kpi_b["id"] and _twins(a, b):
                continue  # 所沢駅 / 東所沢駅: a qualifier in front names another place, not another spelling
            seen.add(pair)
            out.append(
                _finding(
                    records, "名称", "medium", kpi_a, sorted({kpi_a["id"], kpi_b["id"]}),
                    {"names": [a, b], "where": [where_a, where_b]},
                    f"同じ指標に2つの名称があります: 「{a}」（{WHERE[where_a]}）と「{b}」（{WHERE[where_b]}）。",
                )
            )  # fmt: skip
    return out


# --- 5. narrative against numbers ------------------------------------------------------------------


def _latest(kpi: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    rated = [p for p in kpi["series"] if p["rate"] is not None]
    return (rated[-1] if rated else None), (rated[-2] if len(rated) > 1 else None)


def narrative_findings(records: CityRecords) -> list[Finding]:
    out = []
    strategic = [k for k in records.kpis if k["kind"] == "戦略指標"]
    for passage in records.passages:
        if passage["kind"] != "評価" or not any(word in passage["text"] for word in ON_TRACK):
            continue
        key = section_key(passage["section"])
        for kpi in strategic:
            if section_key(kpi["section"]) != key:
                continue
            last, before = _latest(kpi)
            if last is None:
                continue
            falling = before is not None and last["rate"] < before["rate"]
            if last["rate"] < WEAK_ACHIEVEMENT:
                why = f"{last['label']} の達成率は {last['rate']:g}%"
                why += f"（{before['label']} の {before['rate']:g}% から低下）" if falling else ""
                out.append(
                    _finding(
                        records, "進捗と数値", "high", passage, [passage["id"], kpi["id"]],
                        {"narrative": passage["text"], "kpi": kpi["name"], "rate": last["rate"], "year": last["label"],
                         "previous_rate": before["rate"] if before else None},
                        f"{key} の進捗状況は「{passage['text']}」ですが、戦略指標 {kpi['name']} の{why}です"
                        f"（基準 {WEAK_ACHIEVEMENT:g}%）。",
                    )
                )  # fmt: skip
    return out


# --- 6. plan against report -------------------------------------------------------------------------


def goal_items(passage: dict[str, Any]) -> list[str]:
    """The goals a 目標 passage states: each bullet of a 具体的な取り組み目標, or the whole text."""
    lines = [line.strip() for line in passage["text"].split("\n") if line.strip()]
    bullets = [line for line in lines if line.startswith("・")]
    return bullets if len(bullets) > 1 else [" ".join(lines)]


def is_goal(passage: dict[str, Any]) -> bool:
    """A commitment to check against reports: a 重点プロジェクト's 具体的な取り組み目標, a yearly goal
    (各年度の目標), or a plan 施策's 10年後の姿 and directions. A 基本目標 is a vision, not a commitment."""
    section = passage["section"]
    project = bool(section) and _fold(section[0]).startswith("重点プロジェクト")
    if passage["kind"] == "目標" and (project or is_year_label(passage["item"])):
        return True
    return passage["kind"] in ("目標", "方向性") and any(_fold(s).startswith("施策") for s in section)


@dataclass(frozen=True, slots=True)
class GoalMatch:
    """A goal with its best-matching reported activity: coverage is the share of the goal's
    salient words (idf-weighted) that the activity's text contains."""

    goal: str
    passage_id: str
    activity_id: str
    coverage: float
    shared_terms: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "passage_id": self.passage_id,
            "activity_id": self.activity_id,
            "coverage": round(self.coverage, 3),
            "shared_terms": self.shared_terms,
            "reported": self.coverage >= GOAL_COVERAGE,
        }


def goal_matches(index: Index, records: CityRecords) -> tuple[list[GoalMatch], list[Finding]]:
    """Every goal of the city against its reported activities; findings for goals none reports."""
    activities = [p for p in records.passages if p["kind"] == "取り組み状況"]
    goals = [p for p in records.passages if is_goal(p)]
    if not goals:
        return [], []
    if not activities:
        doc = records.docs[goals[0]["doc_id"]]
        note = f"{records.city}: 目標・方向性が {len(goals)} 件ありますが、この市の取り組み状況（報告）は索引にありません。"
        return [], [Finding("計画と報告", "low", doc["id"], doc["title"], goals[0]["page"], [], {"goals": len(goals)}, note, records.city)]
    collection = index.collection("passages")
    rowid_position = {int(r): i for i, r in enumerate(collection.rowids)}
    by_position = {}
    for p in activities:
        found = index.store.record_by_id("passages", p["id"])
        if found:
            by_position[rowid_position[found[0]]] = p
    positions = np.fromiter(by_position, dtype=np.int64)
    matches, findings = [], []
    for passage in goals:
        for goal in goal_items(passage):
            terms = salient_terms(index, goal)
            if not terms:
                continue
            activity = by_position[int(positions[int(np.argmax(more_like(index, terms)[positions]))])]
            shared = [t for t in terms if t.term in activity["_norm"]]
            coverage = sum(t.weight for t in shared) / sum(t.weight for t in terms)
            match = GoalMatch(goal, passage["id"], activity["id"], coverage, [t.term for t in shared])
            matches.append(match)
            if coverage < GOAL_COVERAGE:
                findings.append(
                    _finding(
                        records, "計画と報告", "medium", passage, [passage["id"], activity["id"]],
                        {"goal": goal, "best_activity": activity["text"][:120], "coverage": round(coverage, 2),
                         "shared_terms": match.shared_terms},
                        f"目標「{goal[:60]}」に対応する取り組み状況の報告が見当たりません。最も近い取り組み状況でも"
                        f"目標の語の {coverage:.0%} しか含みません（基準 {GOAL_COVERAGE:.0%}）。",
                    )
                )  # fmt: skip
    return matches, findings


# --- 7. trend against direction ------------------------------------------------------------------------


def against_runs(kpi: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Maximal runs of known actual values, each moving against the KPI's direction."""
    known = [p for p in kpi["series"] if p["actual"] is not None]
    runs: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for prev, point in itertools.pairwise(known):
        wrong = point["actual"] > prev["actual"] if kpi["direction"] == "down" else point["actual"] < prev["actual"]
        if wrong:
            current = [*(current or [prev]), point]
        elif current:
            runs.append(current)
            current = []
    return [*runs, current] if current else runs


def trend_findings(records: CityRecords) -> list[Finding]:
    out = []
    for kpi in records.kpis:
        for run in against_runs(kpi):
            if len(run) - 1 < AGAINST_YEARS:
                continue
            values = " → ".join(f"{p['actual']:g}" for p in run)
            better = "減少" if kpi["direction"] == "down" else "増加"
            out.append(
                _finding(
                    records, "傾向", "high" if kpi["kind"] == "戦略指標" else "medium", kpi, [kpi["id"]],
                    {"years": [p["label"] for p in run], "values": [p["actual"] for p in run], "direction": kpi["direction"]},
                    f"{kpi['name']} は {len(run) - 1} 年連続で望ましくない方向に動いています（{better}が望ましい）: "
                    f"{values}（{run[0]['label']}–{run[-1]['label']}）。",
                )
            )  # fmt: skip
    return out


# --- running -----------------------------------------------------------------------------------


def _city_records(index: Index, city: str | None, doc: str | None) -> list[CityRecords]:
    by_city: dict[str, CityRecords] = {}
    for doc_id, document in index.documents.items():
        if doc and not (doc_id.startswith(doc) or doc in document.get("title", "") or doc in document.get("path", "")):
            continue
        name = document.get("city") or ""
        if city and city != name:
            continue
        by_city.setdefault(name, CityRecords(name, {})).docs[doc_id] = document
    for records in by_city.values():
        ids = list(records.docs)
        marks = ",".join("?" * len(ids))
        for table, target in (("passages", records.passages), ("kpis", records.kpis)):
            rows = index.store.db.execute(f"SELECT doc_id, data FROM {table} WHERE doc_id IN ({marks}) ORDER BY rowid", ids)
            for doc_id, blob in rows:
                data, norm = unpack_record(blob)
                target.append({**data, "doc_id": doc_id, "_norm": norm})
    return list(by_city.values())


RULES: tuple[Callable[[CityRecords], list[Finding]], ...] = (
    rate_findings,
    unit_findings,
    heading_findings,
    naming_findings,
    narrative_findings,
    trend_findings,
)


@dataclass(frozen=True, slots=True)
class AuditReport:
    findings: list[Finding]
    goals: list[GoalMatch]

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings], "goals": [g.to_json() for g in self.goals]}


def audit(index: Index, city: str | None = None, doc: str | None = None) -> AuditReport:
    """Every finding of every rule, most severe first, then by document and page; and every goal
    with its best-matching reported activity."""
    findings: list[Finding] = []
    goals: list[GoalMatch] = []
    for records in _city_records(index, city, doc):
        for rule in RULES:
            findings.extend(rule(records))
        matches, unreported = goal_matches(index, records)
        goals.extend(matches)
        findings.extend(unreported)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.doc_title, f.page, f.rule))
    return AuditReport(findings, goals)


def to_csv(findings: list[Finding]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["severity", "rule", "city", "document", "page", "records", "explanation"])
    for f in findings:
        writer.writerow([f.severity, f.rule, f.city, f.doc_title, f.page, " ".join(f.records), f.explanation])
    return buffer.getvalue()
