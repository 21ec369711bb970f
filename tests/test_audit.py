"""The audit (issue 6): each rule on the corpus and on a crafted case."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from planindex import audit as rules
from planindex.index import Index


@pytest.fixture(scope="module")
def report(corpus_index: Path) -> rules.AuditReport:
    index = Index.open(corpus_index)
    result = rules.audit(index)
    index.close()
    return result


def of_rule(report: rules.AuditReport, rule: str) -> list[rules.Finding]:
    return [f for f in report.findings if f.rule == rule]


def series(*values: tuple[float | None, float | None, float | None]) -> list[dict[str, Any]]:
    return [
        {"label": f"R{i}", "fiscal_year": 2018 + i, "target": t, "actual": a, "rate": r, "raw": {"target": "", "actual": "", "rate": ""}}
        for i, (t, a, r) in enumerate(values, start=1)
    ]


def kpi(
    name: str,
    unit: str = "人",
    direction: str = "up",
    kind: str = "KPI",
    label: str = "",
    section: tuple[str, ...] = ("戦略方針(1)",),
    **extra: Any,
) -> dict[str, Any]:
    return {"id": name, "doc_id": "d", "page": 1, "name": name, "unit": unit, "direction": direction, "kind": kind, "label": label,
            "section": list(section), "base": extra.get("base"), "series": extra.get("series", [])}  # fmt: skip


def city(kpis: list[dict[str, Any]], passages: list[dict[str, Any]] | None = None) -> rules.CityRecords:
    return rules.CityRecords("テスト市", {"d": {"id": "d", "title": "テスト"}}, passages or [], kpis)


# --- on the corpus -------------------------------------------------------------------------------


def test_no_rate_finding_on_the_corpus(report: rules.AuditReport) -> None:
    assert of_rule(report, "達成率") == []


def test_units_count_with_percent_and_twins(report: rules.AuditReport) -> None:
    texts = " ".join(f.explanation for f in of_rule(report, "単位"))
    assert "東所沢駅の1日平均乗降客数 は人数・件数を数える指標ですが、単位が % になっています。" in texts
    assert "所沢駅の1日平均乗降客数 [人]、東所沢駅の1日平均乗降客数 [%]" in texts


def test_duplicated_heading_under_strategy_4(report: rules.AuditReport) -> None:
    (finding,) = of_rule(report, "見出し")
    assert finding.evidence["heading"] == "その2 快適な交通環境を提供する" and finding.page == 7


def test_one_indicator_two_names(report: rules.AuditReport) -> None:
    names = [f.evidence["names"] for f in of_rule(report, "名称")]
    assert ["所沢への定住意向率", "所沢市への定住意向率"] in names


def test_on_track_narrative_against_falling_strategy_indicators(report: rules.AuditReport) -> None:
    found = {(f.evidence["kpi"], f.evidence["rate"]) for f in of_rule(report, "進捗と数値")}
    assert found == {("居住環境の満足度 (市民意識調査)", 59.6), ("地域づくりに関する施策 の満足度 (市民意識調査)", 43.4)}


def test_trend_against_direction_children_waiting(report: rules.AuditReport) -> None:
    waiting = next(f for f in of_rule(report, "傾向") if f.evidence["values"][-3:] == [3, 33, 53])
    assert waiting.evidence["direction"] == "down" and "待機児童" in waiting.explanation


def test_goals_are_matched_with_reported_activities(report: rules.AuditReport) -> None:
    assert len(report.goals) >= 20
    assert any(g.coverage >= rules.GOAL_COVERAGE for g in report.goals)
    unreported = of_rule(report, "計画と報告")
    assert all(f.evidence.get("coverage", 0) <= rules.GOAL_COVERAGE for f in unreported if "coverage" in f.evidence)  # rounded to 2 places
    assert sorted(report.findings, key=lambda f: rules.SEVERITY_ORDER[f.severity]) == report.findings


def test_cli_csv_and_json(corpus_index: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "planindex.cli", "audit", "--csv", "--index", str(corpus_index)], capture_output=True, text=True
    )
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows and {r["severity"] for r in rows} <= {"high", "medium", "low"} and rows[0]["severity"] == "high"
    out = subprocess.run(
        [sys.executable, "-m", "planindex.cli", "audit", "--json", "--index", str(corpus_index)], capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    assert set(data["findings"][0]) == {"rule", "severity", "city", "doc", "page", "records", "evidence", "explanation"}


# --- crafted cases ----------------------------------------------------------------------------------


def test_rate_conventions() -> None:
    assert rules.expected_rates(80, 84.3, "up") == (100.0, pytest.approx(105.375))
    assert rules.expected_rates(0, 351, "up") == (100.0, 100.0)
    assert rules.expected_rates(2000, 2500, "down")[0] == 80.0
    good = kpi("指標", series=series((55, 32.9, 59.8), (17, 32, 188), (0, 80, 100)))
    bad = kpi("指標", series=series((55, 32.9, 65.0)))
    assert rules.rate_findings(city([good])) == []
    (finding,) = rules.rate_findings(city([bad]))
    assert finding.evidence["recomputed_rate"] == 59.8


def test_units_crafted() -> None:
    findings = rules.unit_findings(city([kpi("図書館の利用者数", "%"), kpi("A館の年間来館者数", "人"), kpi("B館の年間来館者数", "件")]))
    assert [f.rule for f in findings] == ["単位", "単位"]


def test_headings_crafted() -> None:
    restart = [kpi("a", label="①"), kpi("b", label="②"), kpi("c", label="①"), kpi("d", label="②")]
    gap = [kpi("e", label="①", section=("s",)), kpi("f", label="③", section=("s",))]
    pair = [kpi("g(男)", label="①", section=("t",)), kpi("g(女)", label="①", section=("t",)), kpi("h", label="②", section=("t",))]
    assert [f.severity for f in rules.heading_findings(city(restart))] == ["medium"]
    assert [f.severity for f in rules.heading_findings(city(gap))] == ["low"]
    assert rules.heading_findings(city(pair)) == []


def test_names_crafted() -> None:
    findings = rules.naming_findings(
        city([kpi("②とことこ景観資源の指定件数"), kpi("とことろ景観資源の指定件数", section=("戦略方針(2)",))])
    )
    assert len(findings) == 1
    assert rules.naming_findings(city([kpi("所沢駅の1日平均乗降客数"), kpi("東所沢駅の1日平均乗降客数")])) == []


def test_narrative_crafted() -> None:
    weak = kpi("満足度", "%", kind="戦略指標", series=series((60, 40, 66.7), (60, 30, 50.0)))
    strong = kpi("満足度", "%", kind="戦略指標", section=("戦略方針(2)",), series=series((60, 59, 98.3)))
    passages = [
        {
            "id": "p1",
            "doc_id": "d",
            "page": 1,
            "kind": "評価",
            "text": "概ね順調に進行している",
            "section": ["戦略方針(1)まち"],
            "item": "",
        },
        {"id": "p2", "doc_id": "d", "page": 1, "kind": "評価", "text": "順調に進行している", "section": ["戦略方針(2)しごと"], "item": ""},
    ]
    (finding,) = rules.narrative_findings(city([weak, strong], passages))
    assert finding.evidence["rate"] == 50.0 and finding.evidence["previous_rate"] == 66.7


def test_trend_crafted() -> None:
    down = kpi("犯罪件数", direction="down", series=series((None, 10, None), (None, 12, None), (None, 15, None), (None, 9, None)))
    once = kpi("来館者数", series=series((None, 10, None), (None, 8, None), (None, 9, None)))
    (finding,) = rules.trend_findings(city([down, once]))
    assert finding.evidence["values"] == [10, 12, 15]


def test_goal_items_split_bullets() -> None:
    assert rules.goal_items({"text": "・道路の整備\n・公園の整備"}) == ["・道路の整備", "・公園の整備"]
    assert rules.goal_items({"text": "子育てに関する制度が\n行き渡ります"}) == ["子育てに関する制度が 行き渡ります"]
