"""Layout by geometry: the order in which a PDF draws its text and rules must not matter, and the
helpers that rebuild lines, tables and reading order do what the documents need.

The PDFs here are made in the test with PyMuPDF (rules with draw_line, text with insert_text in an
embedded Japanese font), so that the same page can be written in several content-stream orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from planindex.extract import extract
from planindex.layout import PageLayout, Row, Table, TextBlock, join_lines, layout, merge_continued_tables
from planindex.pdf import PageContent, Rule, TextRun
from planindex.records import Extraction

FONT = pymupdf.Font("japan")


# --- a page drawn in any order -------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float = 9.0
    rotate: int = 0  # 90: written bottom to top, as a vertical label of a cell may be


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float


Op = Text | Line


def _cell(x: float, top: float, lines: list[str], size: float = 9.0) -> list[Text]:
    return [Text(x + 4, top + 12 + i * (size + 3), line, size) for i, line in enumerate(lines)]


def _grid(xs: list[float], ys: list[float]) -> list[Line]:
    return [Line(xs[0], y, xs[-1], y) for y in ys] + [Line(x, ys[0], x, ys[-1]) for x in xs]


def _sheet() -> list[list[Op]]:
    """One 進捗管理表 page as cells: each inner list is one cell's (or heading's) drawing ops, in
    reading order. A 総括表 item table whose 項目 labels are written vertically (one glyph per
    line, or rotated text), and a KPI table with R1..R5 and 単位 columns."""
    cells: list[list[Op]] = [
        [Text(40, 40, "令和5年度 総合戦略進捗管理表", 18)],
        [Text(40, 62, "戦略方針(2)産業の力をＵＰ", 14)],
        [Text(40, 78, "産業や雇用を創出し、就業者数の増加を目指して、市内の事業者と農業者を支えます。", 10)],
    ]
    xs, ys = [40, 80, 320, 560, 800], [85, 105, 185, 255]
    cells += [_cell(x, ys[0], [label]) for x, label in zip(xs, ["項目", "取り組み状況", "現状の課題", "今後の方向性"])]
    rows = [
        (
            ["農", "業"],
            ["・農地の貸し借りを支援した。", "・新規就農者を育成した。"],
            ["・担い手が不足している。"],
            ["・スマート農業を推進する。"],
        ),
        (
            ["商", "業"],
            ["・商店街の空き店舗を活用した。"],
            ["・来街者が減っている。", "・後継者がいない店が多い。"],
            ["・キャッシュレス決済を広げる。"],
        ),
    ]
    for top, row in zip(ys[1:], rows):
        cells += [_cell(x, top, lines) for x, lines in zip(xs[1:], row[1:])]
    cells.append(_cell(xs[0], ys[1], rows[0][0]))
    cells.append([Text(xs[0] + 16, ys[2] + 40, "".join(rows[1][0]), rotate=90)])
    cells.append(_grid(xs, ys))
    xs, ys = [40, 320, 400, 480, 560, 640, 720, 800], [280, 300, 320, 340]
    kpis = [
        ["その1 産業基盤を整備する", "R1", "R2", "R3", "R4", "R5", "単位"],
        ["①農地サポート事業の実績", "6.2", "2.5", "6.1", "2.8", "6.7", "ha"],
        ["②製造業事業所数", "253(H30)", "248(H31)", "237(R2)", "224(R3)", "224(R3)", "事業所"],
    ]
    for top, row in zip(ys, kpis):
        cells += [_cell(x, top - 4, [value]) for x, value in zip(xs, row)]
    cells.append(_grid(xs, ys))
    return cells


def _render(path: Path, cells: list[list[Op]], order: str) -> Path:
    """`rows`: cell by cell as read; `columns`: column by column from the right, bottom up, each
    cell's lines last first, rules the other way round; `shuffled`: every op anywhere."""
    ops: list[Op]
    if order == "rows":
        ops = [op for cell in cells for op in cell]
    elif order == "columns":
        texts = [op for cell in cells for op in cell if isinstance(op, Text)]
        rules = [op for cell in cells for op in cell if isinstance(op, Line)]
        ops = sorted(texts, key=lambda t: (-t.x, -t.y)) + rules[::-1]
    else:
        ops = [op for cell in cells for op in cell]
        random.Random(7).shuffle(ops)
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)
    page.insert_font(fontname="F0", fontbuffer=FONT.buffer)
    for op in ops:
        if isinstance(op, Text):
            page.insert_text((op.x, op.y), op.text, fontname="F0", fontsize=op.size, rotate=op.rotate)
        else:
            page.draw_line((op.x0, op.y0), (op.x1, op.y1), width=0.5)
    doc.save(path)
    doc.close()
    return path


def _records(extraction: Extraction) -> tuple[list[Any], list[Any]]:
    """Everything but the ids (they carry the document hash, which differs with the byte order)."""
    passages = [(p.page, p.kind, p.item, p.section, p.text) for p in extraction.passages]
    kpis = []
    for kpi in extraction.kpis:
        data = kpi.to_json()
        data.pop("id")
        kpis.append(data)
    return passages, kpis


@pytest.fixture(scope="module")
def by_order(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Extraction]:
    folder = tmp_path_factory.mktemp("orders")
    cells = _sheet()
    return {order: extract(_render(folder / f"{order}.pdf", cells, order)) for order in ("rows", "columns", "shuffled")}


@pytest.mark.parametrize("order", ["columns", "shuffled"])
def test_one_table_drawn_in_another_order_gives_identical_records(by_order: dict[str, Extraction], order: str) -> None:
    assert _records(by_order[order]) == _records(by_order["rows"])


def test_the_records_are_the_tables_read_right(by_order: dict[str, Extraction]) -> None:
    """So that the comparison above is not between two empty or equally wrong results."""
    extraction = by_order["rows"]
    cells = {(p.item, p.kind): p for p in extraction.passages}
    farming = cells[("農業", "取り組み状況")]
    assert farming.text == "・農地の貸し借りを支援した。\n・新規就農者を育成した。"
    assert farming.section == ("戦略方針(2)産業の力をＵＰ", "農業")
    assert cells[("商業", "課題")].text == "・来街者が減っている。\n・後継者がいない店が多い。"
    assert cells[("商業", "方向性")].text == "・キャッシュレス決済を広げる。"
    kpis = {k.name: k for k in extraction.kpis}
    assert set(kpis) == {"農地サポート事業の実績", "製造業事業所数"}
    farm = kpis["農地サポート事業の実績"]
    assert (farm.label, farm.unit, farm.kind) == ("①", "ha", "KPI")
    assert [p.actual for p in farm.series] == [6.2, 2.5, 6.1, 2.8, 6.7]
    works = kpis["製造業事業所数"].series
    assert (works[0].raw_actual, works[0].actual, works[0].as_of_fiscal_year) == ("253(H30)", 253, 2018)


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["・農地の貸し借りを支援し", "た。", "・新規就農者を育成した。"], "・農地の貸し借りを支援した。\n・新規就農者を育成した。"),
        (["手続きのDX", "化を進めます。"], "手続きのDX化を進めます。"),
        (["Digital", "Transformation"], "Digital Transformation"),
        (["（１）農業", "（２）商業"], "（１）農業\n（２）商業"),
        (["保", "健", "医", "療"], "保健医療"),  # a vertical label, one glyph per line
    ],
)
def test_join_lines(lines: list[str], expected: str) -> None:
    ends = [100.0] * len(lines)
    assert join_lines(lines, ends, right_edge=100.0, size=10.0) == expected


def _run(text: str, x0: float, y0: float, size: float = 10.0, width: float | None = None) -> TextRun:
    return TextRun(text, x0, y0, x0 + (width if width is not None else size * len(text)), y0 + size, size)


def _page(number: int, runs: list[TextRun], rules: tuple[Rule, ...] = ()) -> PageContent:
    return PageContent(number, 595.0, 842.0, tuple(runs), rules)


def _texts(page: PageLayout) -> list[str]:
    return [el.text if isinstance(el, TextBlock) else " | ".join(" ".join(row.cells) for row in el.rows) for el in page.elements]


def test_running_headers_and_page_numbers_are_dropped_but_a_question_at_the_top_is_not() -> None:
    pages = [
        _page(
            n,
            [
                _run("令和5年度 進捗管理表", 40, 20),
                _run(f"問{n}", 40, 45),
                _run(f"{'あいうえお'[n]}についてお聞きします。", 40 + 20 + 20, 45),  # 2 font sizes after 問n
                _run("本文の段落です。", 40, 200),
                _run(f"- {n} -", 280, 815),
            ],
        )
        for n in (1, 2, 3)
    ]
    laid = layout(pages)
    for n, page in enumerate(laid, start=1):
        assert page.running_text == ["令和5年度 進捗管理表", f"- {n} -"]
        assert _texts(page)[0] == f"問{n} {'あいうえお'[n]}についてお聞きします。"


def test_a_row_split_over_a_page_break_is_joined_and_the_repeated_header_dropped() -> None:
    columns = [40.0, 80.0, 800.0]

    def row(cells: list[str], page: int) -> Row:
        return Row(cells, [(40, 0, 80, 10), (80, 0, 800, 10)], [page])

    first = Table([row(["項目", "取り組み状況"], 1), row(["農業", "・農地の貸し借りを"], 1)], 1, (40, 100, 800, 780), list(columns))
    second = Table(
        [row(["項目", "取り組み状況"], 2), row(["", "支援した。"], 2), row(["商業", "・空き店舗を活用した。"], 2)],
        2,
        (40, 60, 800, 200),
        list(columns),
    )
    pages = [PageLayout(1, [first], []), PageLayout(2, [second], [])]
    merge_continued_tables(pages)
    assert [r.cells for r in first.rows] == [
        ["項目", "取り組み状況"],
        ["農業", "・農地の貸し借りを支援した。"],
        ["商業", "・空き店舗を活用した。"],
    ]
    assert first.rows[1].pages == [1, 2]
    assert pages[1].elements == []


def test_options_and_counts_printed_without_rules_become_rows() -> None:
    """A survey answer list: label on the left, count far to the right, a two-line label with its
    count set between the lines."""
    runs = [
        _run("問１ 福井県の暮らしについてお聞きします。", 40, 40),
        _run("１．暮らしてきてよかった", 60, 80),
        _run("697", 400, 80, width=18),
        _run("２．どちらかといえば県外に移り住みたい、という理由がとても長い回答", 60, 98),
        _run("131", 400, 104, width=18),
        _run("ので二行になった", 72, 110),
        _run("３．わからない", 60, 128),
        _run("59", 406, 128, width=12),
        _run("・「暮らしてきてよかった」が44.4％で最も高かった。これは長い段落の一行目で右端まで続く文章です。", 40, 170),
    ]
    page = layout([_page(1, runs)])[0]
    tables = [el for el in page.elements if isinstance(el, Table)]
    assert len(tables) == 1
    assert [[c for c in row.cells if c] for row in tables[0].rows] == [
        ["１．暮らしてきてよかった", "697"],
        ["２．どちらかといえば県外に移り住みたい、という理由がとても長い回答ので二行になった", "131"],
        ["３．わからない", "59"],
    ]
    assert _texts(page)[0].startswith("問１") and _texts(page)[-1].startswith("・「暮らしてきてよかった」")


def test_two_columns_are_read_one_after_the_other() -> None:
    """A slide: prose on the left, notes on the right, their lines at the same heights."""
    left = ["左の段の一行目は長い文章で、", "二行目に続いて終わる。", "左の段の三行目も続く文。"]
    right = ["右の注記の一行目は別の話、", "右の注記の二行目で終わる。", "右の注記の三行目がある。"]
    runs = [_run("二段組みの頁の見出し", 40, 20, size=16)]
    for i, (a, b) in enumerate(zip(left, right)):
        runs += [_run(a, 40, 60 + 14 * i, size=12), _run(b, 400, 60 + 14 * i, size=12)]
    texts = _texts(layout([_page(1, runs)])[0])
    assert "".join(texts[1:]).index("左の段の三行目") < "".join(texts[1:]).index("右の注記の一行目")


def test_a_ruled_frame_around_a_chart_is_a_box_not_a_table() -> None:
    """A chart in a frame: the frame's text is laid out inside it, rows of figures kept as rows."""
    frame = (Rule(40, 300, 560, 300), Rule(40, 500, 560, 500), Rule(40, 300, 40, 500), Rule(560, 300, 560, 500))
    runs = [
        _run("0%", 100, 320, 9), _run("50%", 300, 320, 9), _run("100%", 500, 320, 9),
        _run("全体", 60, 350, 9), _run("47.3%", 150, 350, 9), _run("40.2%", 350, 350, 9),
        _run("若い世代", 50, 380, 9), _run("44.1%", 150, 380, 9), _run("35.7%", 350, 380, 9),
    ]  # fmt: skip
    page = layout([_page(1, runs, frame)])[0]
    rows = [" ".join(c for c in row.cells if c) for el in page.elements if isinstance(el, Table) for row in el.rows]
    assert "全体 47.3% 40.2%" in rows and "若い世代 44.1% 35.7%" in rows
    assert all(el.width > 1 for el in page.elements if isinstance(el, Table))
