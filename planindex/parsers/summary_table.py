"""総括表: the form (重点プロジェクト / 具体的な取り組み目標 / 進捗状況) and the table
項目 / 取り組み状況 / 現状の課題 / 今後の方向性, one passage per cell."""

from __future__ import annotations

from planindex.kinds import kind_of_label
from planindex.layout import Table
from planindex.parsers.base import Context, Sink, clean, fold

# Form labels that open a new part of the document rather than hold a passage.
SECTION_LABELS = ("重点プロジェクト", "戦略方針", "重点課題", "基本方針", "政策", "施策")
ITEM_HEADERS = ("項目", "事項", "取組項目", "区分")


def is_item_table(table: Table) -> bool:
    """A header whose first cell names the item and whose other cells announce passage kinds."""
    header = table.rows[0].cells
    if len(header) < 2 or fold(header[0]) not in ITEM_HEADERS:
        return False
    return sum(kind_of_label(c) is not None for c in header[1:]) >= len(header[1:]) - 1


def parse_items(table: Table, ctx: Context, sink: Sink) -> None:
    kinds = [kind_of_label(c) or "本文" for c in table.rows[0].cells]
    for row in table.rows[1:]:
        item = clean(row.cells[0]).replace("\n", "")
        section = ctx.section() + ((item,) if item else ())
        for col in range(1, len(row.cells)):
            sink.passage(kinds[col], row.cells[col], row.pages[0], section, item, row.boxes[col], tuple(row.pages))


def is_form(table: Table) -> bool:
    """Two columns, a short label on the left of each row."""
    return table.width == 2 and all(len(fold(r.cells[0])) <= 30 for r in table.rows)


def parse_form(table: Table, ctx: Context, sink: Sink) -> None:
    for row in table.rows:
        label, value = clean(row.cells[0]).replace("\n", ""), row.cells[1]
        if fold(label) in SECTION_LABELS and len(fold(value)) <= 60:
            ctx.enter(1, label + clean(value).replace("\n", ""))
            continue
        kind = kind_of_label(label) or ctx.kind or "本文"
        sink.passage(kind, value, row.pages[0], ctx.section(), "", row.boxes[1], tuple(row.pages))
