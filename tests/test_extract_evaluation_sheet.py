"""政策評価表 (seed 002): indicator tables and passages, ground truth typed from the seed."""

from __future__ import annotations

import pytest

from planindex.extract import extract
from planindex.records import Extraction
from tests.conftest import PDFS

# 指標名, 単位, 策定時の数値, H29 実績, H29 目標値, 達成率, 将来目標 (H30)
TARGET_INDICATORS = [
    ("地域活動への関心度", "%", "49.1", 50.2, 53.6, 93.7, 55.0),
    ("地域のつながりの変化", "%", "14.2", 13.0, 18.7, 69.5, 20.0),
    ("地域活動への協力意向", "%", "57.8", 54.9, 63.2, 86.9, 65.0),
]
# 事業名, 決算額, 予算額, 成果指標, 単位, 実績, 目標値, 達成率
PROJECTS = [
    ("地域づくり支援事業", "9,973", "10,117", "地域づくり協議会交付金事業申請件数", "件", 39, 43, 91),
    ("公民館主催事業", "7,519", "8,615", "市民等と協働で企画実施した事業の割合", "%", 58.8, 58.2, 101),
    ("所沢市コミュニティ活動推進事業", "6,000", "16,500", "事業実施件数", "件", 3, 4, 75),
    ("自治会・町内会応援事業※", "21,332", "22,237", "自治会・町内会加入率", "%", 62.5, 68, 92),
    ("「紡ごう絆」地域応援事業", "1,521", "1,562", "事業申請件数", "件", 32, 17, 188),
    ("市民活動支援事業", "9,680", "10,874", "講座受講者の満足度", "%", 84.9, 80, 106),
    ("防犯灯LED化整備事業", "1,690", "20,284", "LED灯交換数", "灯", 7068, 7068, 100),
]


@pytest.fixture(scope="module")
def hyoka() -> Extraction:
    return extract(PDFS["hyoka"])


def nfkc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text)


def test_document_is_a_2018_evaluation_sheet_of_tokorozawa(hyoka: Extraction) -> None:
    doc = hyoka.document
    assert (doc.kind, doc.city, doc.fiscal_year) == ("政策評価表", "所沢市", 2018)


def test_the_three_target_indicators(hyoka: Extraction) -> None:
    kpis = {k.name: k for k in hyoka.kpis if k.kind == "目標指標"}
    assert len(kpis) == 3
    for name, unit, base, actual, target, rate, future in TARGET_INDICATORS:
        kpi = kpis[name]
        h29, h30 = kpi.series
        assert (nfkc(kpi.unit), kpi.base) == (unit, base)
        assert (h29.label, h29.fiscal_year, h29.actual, h29.target, h29.rate) == ("H29", 2017, actual, target, rate)
        assert (h30.label, h30.fiscal_year, h30.target) == ("H30", 2018, future)


def test_the_seven_main_projects(hyoka: Extraction) -> None:
    kpis = [k for k in hyoka.kpis if k.kind == "成果指標"]
    assert len(kpis) == 7
    for kpi, (project, settled, budget, name, unit, actual, target, rate) in zip(kpis, PROJECTS):
        attributes = {nfkc(k): v for k, v in kpi.attributes.items()}
        assert attributes["事業名"] == project
        assert attributes["H29決算額(単位:千円)"] == settled
        assert attributes["H30予算額(単位:千円)"] == budget
        point = kpi.series[0]
        assert (kpi.name, nfkc(kpi.unit), point.actual, point.target, point.rate) == (name, unit, actual, target, rate)


def test_passages_of_the_right_kinds(hyoka: Extraction) -> None:
    by_kind: dict[str, list[str]] = {}
    for p in hyoka.passages:
        by_kind.setdefault(p.kind, []).append(p.text)
    assert any(t.startswith("まちづくりセンターを中心とする行政機関") for t in by_kind["方向性"])
    activities = by_kind["取り組み状況"]
    assert sum(1 for t in activities if t.startswith("・")) >= 4  # 各年度の活動内容, one per year
    assert any("地域づくり協議会未設立地区" in t for t in activities)
    assert any(t.startswith("防犯灯のＬＥＤ化事業については") for t in by_kind["評価"])
    assert any("平成29年度末時点で市内11地区のうち9地区" in t for t in by_kind["評価"])
    goals = [p for p in hyoka.passages if p.kind == "目標"]
    assert {p.item for p in goals} >= {"Ｈ２７（実績）", "Ｈ３０"}
