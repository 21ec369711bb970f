"""進捗管理表 KPIs against ground truth parsed from seed 001 (tests/data/truth), not from the generator."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from planindex.extract import extract
from planindex.numbers import parse_value
from planindex.records import Extraction, Kpi
from tests.conftest import PDFS

TRUTH = Path(__file__).parent / "data" / "truth"
YEARS = ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]


def fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def senryaku() -> Extraction:
    return extract(PDFS["senryaku"])


def _expected() -> list[dict]:
    """One entry per KPI series: a KPI printed on two rows is two KPIs, (男) and (女)."""
    out = []
    for kpi in json.loads((TRUTH / "tokorozawa_r5_kpis.json").read_text(encoding="utf-8")):
        if kpi["kind"] == "戦略指標":
            out.append({**kpi, "series": {y: (kpi["target"][y], kpi["actual"][y], kpi["rate"][y]) for y in YEARS}})
            continue
        rows = kpi["rows"]
        names = [kpi["name"]]
        if len(rows) == 2:
            names = [kpi["name"].replace("(男・女)", "(男)"), kpi["name"].replace("(男・女)", "(女)")]
        for name, row in zip(names, rows):
            out.append({**kpi, "name": name, "series": {y: ("", row[y], "") for y in YEARS}})
    return out


def _find(kpis: tuple[Kpi, ...], expected: dict) -> Kpi | None:
    strategy = fold(expected["strategy"])[:6]
    for kpi in kpis:
        if fold(kpi.name) == fold(expected["name"]) and fold(kpi.section[0]).startswith(strategy) and kpi.kind == expected["kind"]:
            return kpi
    return None


def _number(raw: str) -> float | None:
    return parse_value(raw)[0]


def test_every_kpi_of_the_four_strategies_with_name_unit_direction_and_values(senryaku: Extraction) -> None:
    expected = _expected()
    found, problems = 0, []
    for exp in expected:
        kpi = _find(senryaku.kpis, exp)
        if kpi is None:
            problems.append(f"missing {exp['strategy']} {exp['name']}")
            continue
        series = {p.label: p for p in kpi.series}
        wrong = []
        if fold(kpi.unit) != fold(exp["unit"]):
            wrong.append(f"unit {kpi.unit!r} != {exp['unit']!r}")
        if kpi.direction != exp["direction"]:
            wrong.append(f"direction {kpi.direction} != {exp['direction']}")
        if kpi.kind == "KPI" and kpi.label != exp["label"]:
            wrong.append(f"label {kpi.label} != {exp['label']}")
        for year, (target, actual, rate) in exp["series"].items():
            point = series.get(year)
            if point is None:
                wrong.append(f"no {year}")
                continue
            got = (point.target, point.actual, point.rate)
            want = (_number(target), _number(actual), _number(rate))
            if got != want or point.raw_actual != actual.strip():
                wrong.append(f"{year} {got} != {want}")
        if wrong:
            problems.append(f"{exp['name']}: {'; '.join(wrong)}")
        else:
            found += 1
    print(f"進捗管理表 KPIs exact: {found}/{len(expected)}")
    assert not problems, "\n".join(problems)
    assert len([k for k in senryaku.kpis if k.kind in ("戦略指標", "KPI")]) == len(expected)


def test_values_with_a_reference_year_keep_it(senryaku: Extraction) -> None:
    kpi = next(k for k in senryaku.kpis if k.name.startswith("製造品出荷額"))
    r1 = kpi.series[0]
    assert (r1.label, r1.fiscal_year, r1.actual, r1.as_of_fiscal_year, r1.raw_actual) == ("R1", 2019, 1830.0, 2017, "1,830 (H29)")
    assert kpi.base == "製造品出荷額 【基準値】R1：1,830億円"


def test_non_numbers_stay_raw_with_no_number(senryaku: Extraction) -> None:
    plan = next(k for k in senryaku.kpis if "保健医療計画" in k.name)
    assert [(p.raw_actual, p.actual) for p in plan.series[:2]] == [("策定", None), ("推進", None)]
    level = next(k for k in senryaku.kpis if k.name.startswith("児童生徒の確かな学力"))
    assert (level.series[1].raw_actual, level.series[1].actual) == ("中止", None)
    assert level.series[5].raw_actual == "" and level.series[5].actual is None


def test_lower_is_better_indicators_point_down(senryaku: Extraction) -> None:
    downs = {k.name for k in senryaku.kpis if k.direction == "down"}
    assert {"犯罪発生件数", "若年層人口に占める転出数の割合", "就学前児童の保育待機児童数"} <= downs
