"""Tables of no known layout: text tables under year columns become one passage per cell; any
other table one passage per row, so that a label and its figures stay together."""

from __future__ import annotations

from planindex.layout import FIGURES, Table
from planindex.numbers import is_year_label
from planindex.parsers.base import Context, Sink, clean


def is_year_text_table(table: Table) -> bool:
    """Columns headed by fiscal years (Ｈ２７（実績） … Ｈ３０) holding prose, one cell per year."""
    header = table.rows[0].cells
    return len(table.rows) >= 2 and sum(is_year_label(c) for c in header) >= max(2, len(header) - 1)


def is_figure_table(table: Table) -> bool:
    """Rows of a label and its figures (an option and its count, a category and its shares):
    not a form of labels and prose, though it may have two columns like one."""
    rows = [[c for c in row.cells if c.strip()] for row in table.rows]
    rows = [cells for cells in rows if len(cells) >= 2]
    return bool(rows) and sum(bool(FIGURES.match(cells[-1].strip())) for cells in rows) >= 0.8 * len(rows)


def parse_year_text(table: Table, ctx: Context, sink: Sink) -> None:
    header = [clean(c).replace("\n", "") for c in table.rows[0].cells]
    for row in table.rows[1:]:
        for col, text in enumerate(row.cells):
            sink.passage(ctx.kind or "本文", text, row.pages[0], ctx.section(), header[col], row.boxes[col], tuple(row.pages))


def parse_rows(table: Table, ctx: Context, sink: Sink) -> None:
    for row in table.rows:
        cells = [clean(c).replace("\n", " ") for c in row.cells if c.strip()]
        if not cells:
            continue
        bbox = (row.boxes[0][0], row.boxes[0][1], row.boxes[-1][2], max(b[3] for b in row.boxes))
        item = cells[0] if len(cells) > 1 and len(cells[0]) <= 30 else ctx.item
        sink.passage(ctx.kind or "本文", " ".join(cells), row.pages[0], ctx.section(), item, bbox, tuple(row.pages))
