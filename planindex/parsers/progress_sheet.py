"""進捗管理表: KPI tables with one column per fiscal year (R1..R7) and a 単位 column.

Two shapes share the header: 戦略指標 tables, where each indicator has 目標 / 実績 / 達成率 rows,
and KPI group tables (その1 …), one row per indicator with its actual values. A KPI printed on
two rows (健康寿命の順位(男・女)) becomes two KPIs, one per row, named 健康寿命の順位(男) and (女):
each row is its own series with its own trend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planindex.layout import Row, Table
from planindex.numbers import fiscal_year_of_label, is_year_label, parse_value
from planindex.parsers.base import Context, Sink, clean, fold
from planindex.records import Kpi, SeriesPoint

METRICS = {"目標": "target", "実績": "actual", "達成率": "rate"}
LABEL = re.compile(r"^([①-⑳㉑-㉟])\s*")
REDUCE_MARK = re.compile(r"\s*※\s*値の削減\s*")
PAIR = re.compile(r"[(（]([^()（）・]+)・([^()（）・]+)[)）]")
# Indicators where a fall is the goal even when the sheet does not say ※値の削減.
REDUCE_WORDS = ("待機児童", "犯罪", "事故", "転出数", "不登校", "滞納", "死亡", "ごみ排出", "二酸化炭素", "CO2")
STRATEGIC = "戦略指標"


@dataclass
class _Draft:
    name: str
    kind: str
    label: str
    section: tuple[str, ...]
    page: int
    direction: str
    unit: str = ""
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # year label -> metric -> raw


def is_kpi_table(table: Table) -> bool:
    """Year columns holding figures, not prose (a table of yearly goals has year columns too)."""
    header = table.rows[0].cells
    year_cols = [i for i, c in enumerate(header) if is_year_label(c)]
    if len(year_cols) < 3:
        return False
    values = [len(fold(row.cells[i])) for row in table.rows[1:] for i in year_cols if i < len(row.cells) and row.cells[i].strip()]
    return not values or sorted(values)[len(values) // 2] <= 16


def _header(row: Row) -> tuple[list[tuple[int, str]], int | None] | None:
    years = [(i, clean(c)) for i, c in enumerate(row.cells) if is_year_label(c)]
    if len(years) < 3:
        return None
    unit_col = next((i for i, c in enumerate(row.cells) if fold(c) == "単位"), None)
    return years, unit_col


def direction_of(name: str) -> str:
    folded = fold(name)
    return "down" if "※値の削減" in folded or any(word in folded for word in REDUCE_WORDS) else "up"


def _split_name(cell: str) -> tuple[str, str, str]:
    """'②犯罪発生件数 ※値の削減' → ('②', '犯罪発生件数', 'down')."""
    text = clean(cell).replace("\n", "")
    direction = direction_of(text)
    label_match = LABEL.match(text)
    label = label_match.group(1) if label_match else ""
    name = REDUCE_MARK.sub("", text[label_match.end() if label_match else 0 :]).strip()
    return label, name, direction


def _series(draft: _Draft, years: list[tuple[int, str]]) -> tuple[SeriesPoint, ...]:
    points = []
    for _, label in years:
        raw = draft.values.get(label, {})
        target, target_as_of = parse_value(raw.get("target", ""))
        actual, actual_as_of = parse_value(raw.get("actual", ""))
        rate, _ = parse_value(raw.get("rate", ""))
        points.append(
            SeriesPoint(
                label=label,
                fiscal_year=fiscal_year_of_label(label),
                target=target,
                actual=actual,
                rate=rate,
                as_of_fiscal_year=actual_as_of or target_as_of,
                raw_target=raw.get("target", ""),
                raw_actual=raw.get("actual", ""),
                raw_rate=raw.get("rate", ""),
            )
        )
    return tuple(points)


def _split_pair(draft: _Draft, second: _Draft) -> None:
    """Name the two rows of one printed KPI after the pair in its name: (男・女) → (男), (女)."""
    match = PAIR.search(draft.name)
    if match:
        first_name, second_name = match.group(1), match.group(2)
        base = draft.name[: match.start()] + "({})" + draft.name[match.end() :]
        draft.name, second.name = base.format(first_name), base.format(second_name)
    else:
        second.name = f"{draft.name} (2)"


def parse(table: Table, ctx: Context, sink: Sink) -> None:
    """Turn one KPI table (or several stacked under repeated headers) into KPIs."""
    drafts: list[_Draft] = []
    years: list[tuple[int, str]] = []
    unit_col: int | None = None
    group_kind, group_section = "KPI", ctx.section()
    current: _Draft | None = None
    for row in table.rows:
        header = _header(row)
        if header:
            years, unit_col = header
            first = clean(row.cells[0]).replace("\n", " ")
            group_kind = STRATEGIC if fold(first) == STRATEGIC else "KPI"
            group_section = ctx.section() + ((first,) if first and group_kind == "KPI" else ())
            current = None
            continue
        if not years:
            continue
        first_year = years[0][0]
        metric = next((METRICS[fold(c)] for c in row.cells[1:first_year] if fold(c) in METRICS), None)
        name_cell = row.cells[0]
        unit = clean(row.cells[unit_col]) if unit_col is not None else ""
        page = row.pages[0]
        if metric:  # a 戦略指標 row: 目標, 実績 or 達成率
            if name_cell.strip() or current is None:
                name = clean(name_cell).replace("\n", "")
                current = _Draft(name, STRATEGIC, "", group_section, page, direction_of(name))
                drafts.append(current)
            if metric != "rate" and unit and not current.unit:
                current.unit = unit
        else:  # a KPI row: the actual values
            label, name, direction = _split_name(name_cell)
            if name:
                current = _Draft(name, group_kind, label, group_section, page, direction, unit)
                drafts.append(current)
            elif current is not None:  # the second row of a KPI printed on two rows
                second = _Draft(current.name, current.kind, current.label, current.section, page, current.direction, unit)
                _split_pair(current, second)
                drafts.append(second)
                current = second
            else:
                continue
            metric = "actual"
        for col, label in years:
            if col < len(row.cells) and row.cells[col].strip():
                current.values.setdefault(label, {})[metric] = clean(row.cells[col])
    for draft in drafts:
        sink.kpi(
            Kpi(
                id="",
                doc_id="",
                page=draft.page,
                name=draft.name,
                kind=draft.kind,
                unit=draft.unit,
                direction=draft.direction,
                label=draft.label,
                section=draft.section,
                series=_series(draft, years),
            )
        )


BASE_VALUE = re.compile(r"【基準値】")
LEGEND_WORDS = {"達成率", "目標", "実績"}


def is_chart_legend(text: str) -> bool:
    """A chart legend printed as loose words: 達成率 目標 実績."""
    rest = fold(text)
    for word in sorted(LEGEND_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not rest and bool(fold(text))


def attach_base(text: str, sink: Sink) -> bool:
    """A chart title '所沢市への定住意向率 【基準値】R1：79.6%' gives the base value of the last 戦略指標."""
    if not BASE_VALUE.search(text):
        return False
    for index in range(len(sink.kpis) - 1, -1, -1):
        if sink.kpis[index].kind == STRATEGIC:
            if sink.kpis[index].base is None:
                sink.update_kpi(index, base=clean(text).replace("\n", " "))
            return True
    return False
