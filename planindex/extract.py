"""PDF → records: read the pages, lay them out, walk the elements with the per-layout parsers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

from planindex.errors import CorruptPdf, NoTextLayer
from planindex.kinds import kind_of_label
from planindex.layout import PAGE_LABEL, PageLayout, Table, TextBlock, layout
from planindex.meta import detect_city, detect_kind, detect_years
from planindex.parsers import evaluation_sheet, generic, plan, progress_sheet, summary_table
from planindex.parsers.base import Context, Sink, clean, fold
from planindex.pdf import PdfFile, damage_warning, read_pdf
from planindex.records import Document, Extraction

BRACKET_LABEL = re.compile(r"^[【■]([^】]{1,20})】?")
ProgressCallback = Callable[[int, int], None]


def _title(info: PdfFile, pages: list[PageLayout]) -> str:
    """A running header names the document; else the first heading; else the file name."""
    for text in pages[0].running_text:
        if not PAGE_LABEL.match(text) and len(text) >= 6:
            return text
    for el in pages[0].elements[:3]:
        if isinstance(el, TextBlock) and el.heading_level == 1:
            return clean(el.text).replace("\n", " ")
    return info.metadata_title or info.path.stem


def describe(
    info: PdfFile, pages: list[PageLayout], city: str | None = None, year: int | None = None, title: str | None = None
) -> Document:
    title = title or _title(info, pages)
    texts = [t for p in pages for t in p.running_text]
    texts += [el.text if isinstance(el, TextBlock) else " ".join(c for r in el.rows for c in r.cells) for p in pages for el in p.elements]
    body = "\n".join(texts)
    fiscal_year, period = detect_years(title, body)
    return Document(
        id=info.sha256[:16],
        path=str(info.path),
        sha256=info.sha256,
        pages=info.page_count,
        title=title,
        kind=detect_kind(title, body),
        city=city or detect_city(title + "\n" + body),
        fiscal_year=year or fiscal_year,
        period=period if not year else None,
    )


def _parse_table(table: Table, ctx: Context, sink: Sink) -> None:
    if progress_sheet.is_kpi_table(table):
        progress_sheet.parse(table, ctx, sink)
    elif evaluation_sheet.is_indicator_table(table):
        evaluation_sheet.parse(table, ctx, sink)
    elif summary_table.is_item_table(table):
        summary_table.parse_items(table, ctx, sink)
    elif generic.is_year_text_table(table):
        generic.parse_year_text(table, ctx, sink)
    elif generic.is_figure_table(table):
        generic.parse_rows(table, ctx, sink)
    elif summary_table.is_form(table):
        summary_table.parse_form(table, ctx, sink)
    else:
        generic.parse_rows(table, ctx, sink)


def walk(pages: list[PageLayout], sink: Sink, title: str) -> None:
    """Feed every element, in reading order, to the parser for its layout."""
    elements = [el for page in pages for el in page.elements]
    headings = [i for i, el in enumerate(elements) if isinstance(el, TextBlock) and el.heading_level]
    next_heading = {i: clean(elements[j].text) for i, j in itertools.pairwise(headings)}
    ctx = Context()
    in_direction = False
    for i, el in enumerate(elements):
        if isinstance(el, Table):
            in_direction = False
            _parse_table(el, ctx, sink)
            continue
        text = clean(el.text)
        if el.heading_level:
            in_direction = False
            flat = text.replace("\n", "")
            if i == headings[0] and fold(flat) == fold(title):
                continue
            if plan.is_measure_title(flat, next_heading.get(i)):
                ctx.enter(el.heading_level, flat)
            elif plan.is_kind_label(flat):
                ctx.announce(kind_of_label(flat))
            elif ctx.kind == "方向性" and not plan.is_structural(flat):
                sink.passage("方向性", flat, el.page, ctx.section(), flat, el.bbox)
                in_direction = True
            elif plan.is_marked_label(flat):
                label = BRACKET_LABEL.match(fold(flat))
                ctx.announce(kind_of_label(flat), label.group(1) if label else "")
            else:
                ctx.enter(el.heading_level, flat, kind_of_label(flat))
            continue
        if in_direction:
            sink.extend_last_passage(text)
        elif progress_sheet.is_chart_legend(text) or progress_sheet.attach_base(text, sink):
            continue
        else:
            label = BRACKET_LABEL.match(fold(text))
            kind = (kind_of_label(label.group(1)) if label else None) or ctx.kind or "本文"
            item = label.group(1) if label else ctx.item
            sink.passage(kind, text, el.page, ctx.section(), item, el.bbox)


def extract(
    path: Path,
    *,
    city: str | None = None,
    year: int | None = None,
    title: str | None = None,
    on_page: ProgressCallback | None = None,
    digest: str | None = None,
) -> Extraction:
    """Structured records of one PDF. Raises an InputError subclass when the file cannot be used.
    digest: the file's SHA-256, when the caller has hashed it already."""
    info, page_iter = read_pdf(path, digest)
    pages = []
    for content in page_iter:
        pages.append(content)
        if on_page:
            on_page(content.number, info.page_count)
    lost = [page.number for page in pages if page.lost]
    if not any(page.runs for page in pages):
        if lost:
            raise CorruptPdf(path, "damaged PDF: no page could be read after repairing it (a truncated download?): get the file again")
        raise NoTextLayer(path, "no page has a text layer (a scanned PDF?): OCR it first, e.g. with ocrmypdf")
    # The pages a damaged file lost make one warning, not one each.
    warnings = ([damage_warning(lost)] if lost else []) + [page.warning for page in pages if page.warning and not page.lost]
    laid = layout(pages)
    document = describe(info, laid, city, year, title)
    sink = Sink(document.id)
    walk(laid, sink, document.title)
    return Extraction(document, tuple(sink.passages), tuple(sink.kpis), tuple(warnings))
