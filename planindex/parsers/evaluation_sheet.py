"""政策評価表: the 目標指標 table (策定時の数値, 実績, 目標値, 達成率, 将来目標) and the 主要事業 table
(事業名, 決算額, 予算額, 成果指標, 単位, 実績, 目標値, 達成率), each row a KPI."""

from __future__ import annotations

import re

from planindex.layout import Table
from planindex.numbers import parse_value
from planindex.parsers.base import Context, Sink, clean, fold
from planindex.parsers.progress_sheet import direction_of
from planindex.records import Kpi, SeriesPoint

YEAR_IN_HEADER = re.compile(r"(H|R|平成|令和)(\d{1,2}|元)")
ERA_BASE = {"H": 1988, "平成": 1988, "R": 2018, "令和": 2018}
ERA_LETTER = {"平成": "H", "令和": "R"}


def _year(header: str) -> tuple[str, int | None]:
    match = YEAR_IN_HEADER.search(fold(header))
    if not match:
        return "", None
    era, number = match.group(1), match.group(2)
    year = 1 if number == "元" else int(number)
    return f"{ERA_LETTER.get(era, era)}{year}", ERA_BASE[era] + year


def _column(header: list[str], *words: str, exclude: tuple[str, ...] = ()) -> int | None:
    for i, cell in enumerate(header):
        text = fold(cell)
        if all(w in text for w in words) and not any(x in text for x in exclude):
            return i
    return None


def is_indicator_table(table: Table) -> bool:
    header = [fold(c) for c in table.rows[0].cells]
    return any("指標名" in c for c in header) and any("達成率" in c for c in header)


def parse(table: Table, ctx: Context, sink: Sink) -> None:
    header = table.rows[0].cells
    name_col = _column(header, "指標名")
    unit_col = _column(header, "単位", exclude=("千円",))
    actual_col = _column(header, "実績")
    target_col = _column(header, "目標値")
    rate_col = _column(header, "達成率")
    base_col = _column(header, "策定時")
    future_col = _column(header, "将来目標")
    project_col = _column(header, "事業名")
    extra_cols = [i for i, c in enumerate(header) if any(w in fold(c) for w in ("決算額", "予算額"))]
    kind = "成果指標" if project_col is not None else "目標指標"
    label, fiscal_year = _year(header[actual_col]) if actual_col is not None else ("", None)

    def cell(row_cells: list[str], col: int | None) -> str:
        return clean(row_cells[col]).replace("\n", "") if col is not None and col < len(row_cells) else ""

    for row in table.rows[1:]:
        cells = row.cells
        name = cell(cells, name_col)
        if not name:
            continue
        raw_target, raw_actual, raw_rate = cell(cells, target_col), cell(cells, actual_col), cell(cells, rate_col)
        actual, as_of = parse_value(raw_actual)
        series = [
            SeriesPoint(
                label, fiscal_year, parse_value(raw_target)[0], actual, parse_value(raw_rate)[0], as_of, raw_target, raw_actual, raw_rate
            )
        ]
        if future_col is not None and cell(cells, future_col):
            future_label, future_year = _year(header[future_col])
            raw_future = cell(cells, future_col)
            series.append(SeriesPoint(future_label, future_year, parse_value(raw_future)[0], raw_target=raw_future))
        attributes = {clean(header[i]).replace("\n", ""): cell(cells, i) for i in extra_cols}
        if project_col is not None:
            attributes["事業名"] = cell(cells, project_col)
        sink.kpi(
            Kpi(
                id="",
                doc_id="",
                page=row.pages[0],
                name=name,
                kind=kind,
                unit=cell(cells, unit_col),
                direction=direction_of(name),
                section=ctx.section(),
                base=cell(cells, base_col) or None,
                series=tuple(series),
                attributes=attributes,
            )
        )
