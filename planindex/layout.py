"""Turn positioned text runs and ruling lines into reading-order elements: text blocks and tables.

Only geometry is used, never the order of the content stream:

- tables come from the drawn rules (cells split or merged where a rule is absent); a ruled
  frame around a single cell is a box (a chart, a boxed note), not a table, and its text is laid
  out as a page of its own;
- rows of text aligned in columns without rules (a survey option and its count, the labels and
  figures of a chart) become tables too, so that a label stays with its figures;
- the remaining text is cut into paragraphs, column by column;
- the reading order is an XY-cut: top to bottom, and left column before right column where a
  gutter runs down the whole of what is left of the page.

Running headers and footers are set aside, and a table row that continues on the next page is
joined to its first part.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from planindex.pdf import WIDE_GAP, PageContent, Rule, TextRun

BBox = tuple[float, float, float, float]
MARGIN_BAND = 0.075  # share of the page height, top and bottom, where running headers live
BULLETS = "・•➢➤➡▶►▸◦▪"
ITEM_MARKS = BULLETS + "●○◆◇■□◎※-‐①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
NUMBERED_ITEM = re.compile(r"^([（(][0-9０-９一二三四五六七八九十]{1,3}[)）]|[0-9０-９]{1,2}[．.　 ])")
PAGE_LABEL = re.compile(r"^[-‐ー－ ]*(\d+|[０-９]+)\s*(ページ|頁)?[-‐ー－ ]*$")
# Figures as tables print them, one or several to a piece: 1,156  46.2%  (24)  5点  -  2.7%1.6%
FIGURE = r"(?:[(（]?[-‐−－+]?[0-9０-９][0-9０-９,，.．]*[%％点人件円]?[)）]?|[-‐−－―])"
FIGURES = re.compile(rf"^{FIGURE}(?:(?:\s+|(?<=[%％点人件円)）])){FIGURE})*$")  # a separator: no backtracking
SNAP = 1.5  # points within which two rule coordinates are the same line
SPLIT_SLACK = 14.0  # points: a table ending this close to the lowest table edge of the document filled its page
COLUMN_GAP = 3.0  # font sizes: a wider gap inside a line of prose is a gutter between two columns
SPACE_GAP = 0.8  # font sizes: a wider gap between two runs of a line reads as a space
GUTTER = 6.0  # points: the narrowest empty band that separates two columns


@dataclass(slots=True)
class TextBlock:
    text: str
    size: float
    page: int
    bbox: BBox
    bold: bool = False
    heading_level: int = 0  # 0 body text; 1 the largest heading size of the document, 2 the next...


@dataclass(slots=True)
class Row:
    cells: list[str]
    boxes: list[BBox]
    pages: list[int]  # the pages the row is printed on: two when it continues over a break


@dataclass(slots=True)
class Table:
    rows: list[Row]
    page: int
    bbox: BBox
    columns: list[float] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.columns) - 1


Element = TextBlock | Table


@dataclass(slots=True)
class PageLayout:
    number: int
    elements: list[Element]
    running_text: list[str]
    warning: str | None = None


# --- lines of text ---------------------------------------------------------------------------


def _same_line(a: TextRun, b: TextRun) -> bool:
    ca, cb = (a.y0 + a.y1) / 2, (b.y0 + b.y1) / 2
    return abs(ca - cb) < 0.45 * max(a.size, b.size)


def _lines(runs: Iterable[TextRun]) -> list[list[TextRun]]:
    """Group runs into visual lines, top to bottom, each left to right. A vertical run is a line
    of its own, placed by its top; vertical runs side by side read right to left."""
    lines: list[list[TextRun]] = []
    last: TextRun | None = None
    for run in sorted(runs, key=lambda r: (r.y0 + r.y1, r.x0)):
        if last is not None and not run.vertical and not last.vertical and _same_line(last, run):
            lines[-1].append(run)
        else:
            lines.append([run])
        last = run
    keyed = []
    for line in lines:
        line.sort(key=lambda r: r.x0)
        keyed.append(((min(r.y0 for r in line), -line[0].x0 if line[0].vertical else line[0].x0), line))
    keyed.sort(key=lambda k: k[0])
    return [line for _, line in keyed]


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _join_runs(line: list[TextRun]) -> str:
    """One line's text: runs far apart are separated by a space (chart labels, cells of a row),
    close ones are glued, with a space only between two Latin words."""
    text = line[0].text
    for prev, run in itertools.pairwise(line):
        gap = run.x0 - prev.x1
        latin = _is_latin(text[-1:].strip() or "。") and _is_latin(run.text[:1])
        if gap > SPACE_GAP * run.size or (gap > 0.3 * run.size and latin):
            text += " "
        text += run.text
    return text.strip()


def join_lines(lines: list[str], ends: list[float], right_edge: float, size: float) -> str:
    """Join wrapped lines: no space inside Japanese, a new item at a bullet or after a short line ending 。."""
    if len(lines) > 1 and all(len(line) == 1 for line in lines):
        return "".join(lines)  # vertical text, one glyph per line
    items: list[str] = []
    for i, line in enumerate(lines):
        starts_item = (
            line[:1] in ITEM_MARKS
            or bool(NUMBERED_ITEM.match(line))
            or (i > 0 and lines[i - 1].endswith(("。", "：", ":")) and ends[i - 1] < right_edge - 1.5 * size)
        )
        if not items or starts_item:
            items.append(line)
        elif _is_latin(items[-1][-1:]) and _is_latin(line[:1]):
            items[-1] += " " + line
        else:
            items[-1] += line
    return "\n".join(items)


def _text_of(runs: list[TextRun], right_edge: float) -> tuple[str, float]:
    lines = _lines(runs)
    texts = [_join_runs(line) for line in lines]
    ends = [max(r.x1 for r in line) for line in lines]
    size = max((r.size for r in runs), default=10.0)
    return join_lines(texts, ends, right_edge, size), size


def _bbox(runs: Iterable[TextRun]) -> BBox:
    _, x0, y0, x1, y1, *_ = zip(*runs)
    return min(x0), min(y0), max(x1), max(y1)


@dataclass(slots=True)
class _Piece:
    """Runs of one line close enough to read as one piece of text: a cell, a label, a figure."""

    runs: list[TextRun]
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    text: str
    is_value: bool  # figures only: a count, a share, a score


def _pieces(line: list[TextRun], gap: float) -> list[_Piece]:
    """Cut a line where two runs are more than `gap` font sizes apart, or apart at all and of
    clearly different sizes (a column of small notes set close beside the body text)."""
    groups: list[list[TextRun]] = [[line[0]]]
    for prev, run in itertools.pairwise(line):
        space, small, large = run.x0 - prev.x1, min(prev.size, run.size), max(prev.size, run.size)
        if space > gap * large or (space > SPACE_GAP * small and small < 0.75 * large):
            groups.append([])
        groups[-1].append(run)
    pieces = []
    for g in groups:
        text = _join_runs(g)
        pieces.append(_Piece(g, *_bbox(g), max(r.size for r in g), text, bool(FIGURES.match(text))))
    return pieces


# --- tables from rules -----------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _snap(values: Iterable[float]) -> list[float]:
    snapped: list[float] = []
    for v in sorted(values):
        if not snapped or v - snapped[-1] > SNAP:
            snapped.append(v)
    return snapped


@dataclass(slots=True)
class _Grid:
    xs: list[float]
    ys: list[float]
    hs: list[Rule]
    vs: list[Rule]

    @property
    def bbox(self) -> BBox:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]


def _grids(rules: tuple[Rule, ...]) -> list[_Grid]:
    """Connected groups of rules that form a grid, smallest first (a table inside a frame is
    claimed before the frame)."""
    hs = [r for r in rules if r.horizontal]
    vs = sorted((r for r in rules if not r.horizontal), key=lambda r: r.x0)
    if len(hs) < 2 or len(vs) < 2:
        return []
    vx = [v.x0 for v in vs]
    uf = _UnionFind(len(hs) + len(vs))
    for i, h in enumerate(hs):
        for j in range(bisect_left(vx, h.x0 - SNAP), bisect_right(vx, h.x1 + SNAP)):
            v = vs[j]
            if v.y0 - SNAP <= h.y0 <= v.y1 + SNAP:
                uf.union(i, len(hs) + j)
    groups: dict[int, list[int]] = {}
    for i in range(len(hs) + len(vs)):
        groups.setdefault(uf.find(i), []).append(i)
    grids = []
    for members in groups.values():
        gh = [hs[i] for i in members if i < len(hs)]
        gv = [vs[i - len(hs)] for i in members if i >= len(hs)]
        xs, ys = _snap(v.x0 for v in gv), _snap(h.y0 for h in gh)
        if len(xs) >= 2 and len(ys) >= 2:
            grids.append(_Grid(xs, ys, gh, gv))
    grids.sort(key=lambda g: (g.xs[-1] - g.xs[0]) * (g.ys[-1] - g.ys[0]))
    return grids


class _Coverage:
    """Which stretches of each grid line are drawn: rules indexed by the grid line they lie on."""

    def __init__(self, lines: list[float], rules: list[Rule], horizontal: bool) -> None:
        self.spans: list[list[tuple[float, float]]] = [[] for _ in lines]
        for r in rules:
            pos, a, b = (r.y0, r.x0, r.x1) if horizontal else (r.x0, r.y0, r.y1)
            i = bisect_left(lines, pos - SNAP)
            if i < len(lines) and abs(lines[i] - pos) <= SNAP:
                self.spans[i].append((a, b))

    def covers(self, line: int, lo: float, hi: float) -> bool:
        """Is there a rule on grid line `line` spanning the middle of [lo, hi]?"""
        mid = (lo + hi) / 2
        return any(a - SNAP <= mid <= b + SNAP for a, b in self.spans[line])


def _cell_slots(grid: _Grid) -> list[list[int]]:
    """For each grid band (row, column) the id of the merged cell it belongs to."""
    xs, ys = grid.xs, grid.ys
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    across, down = _Coverage(ys, grid.hs, horizontal=True), _Coverage(xs, grid.vs, horizontal=False)
    uf = _UnionFind(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not down.covers(c + 1, ys[r], ys[r + 1]):
                uf.union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and not across.covers(r + 1, xs[c], xs[c + 1]):
                uf.union(r * n_cols + c, (r + 1) * n_cols + c)
    return [[uf.find(r * n_cols + c) for c in range(n_cols)] for r in range(n_rows)]


def _band(edges: list[float], v: float) -> int:
    return min(max(bisect_right(edges, v) - 1, 0), len(edges) - 2)


def _build_table(grid: _Grid, slots: list[list[int]], runs: list[TextRun], page: int) -> Table:
    xs, ys = grid.xs, grid.ys
    boxes: dict[int, list[float]] = {}
    for r, row in enumerate(slots):
        for c, slot in enumerate(row):
            box = boxes.setdefault(slot, [xs[c], ys[r], xs[c + 1], ys[r + 1]])
            box[2], box[3] = max(box[2], xs[c + 1]), max(box[3], ys[r + 1])
    members: dict[int, list[TextRun]] = {slot: [] for slot in boxes}
    for run in runs:
        members[slots[_band(ys, (run.y0 + run.y1) / 2)][_band(xs, (run.x0 + run.x1) / 2)]].append(run)
    rows: list[Row] = []
    seen: set[int] = set()
    for row in slots:
        cells, cell_boxes = [], []
        for slot in row:
            box = tuple(boxes[slot])
            if slot in seen:
                cells.append("")
            else:
                seen.add(slot)
                cells.append(_text_of(members[slot], box[2])[0] if members[slot] else "")
            cell_boxes.append(box)
        rows.append(Row(cells, cell_boxes, [page]))
    rows = [row for row in rows if any(row.cells)] or rows[:1]
    return Table(rows, page, grid.bbox, list(xs))


# --- tables without rules --------------------------------------------------------------------


def _is_row(line: list[_Piece]) -> bool:
    """Two pieces or more, the last a figure: a label and its counts, a chart's category and values."""
    return len(line) >= 2 and line[-1].is_value


def _continues_zone(line: list[_Piece], prev: list[_Piece], value_left: float) -> bool:
    """A line that still belongs to the table above: figures alone (a count centred on a label
    of two lines, a chart's figure set off its row), or the wrapped rest of a label, printed tight
    under it and left of the figures."""
    size = max(p.size for p in line)
    gap = line[0].y0 - max(p.y1 for p in prev)
    if all(p.is_value for p in line):  # a figure set above its bar, between two rows of a chart
        return gap <= COLUMN_GAP * size and line[0].x0 >= value_left - size
    return gap <= size and line[-1].x1 <= value_left + size / 2


def _row_tables(lines: list[list[_Piece]], page: int) -> tuple[list[Table], list[list[_Piece]]]:
    """Tables printed without rules: runs of lines that end in figures, with the wrapped lines of
    their labels. Returns the tables and the lines left for paragraphs."""
    tables: list[Table] = []
    rest: list[list[_Piece]] = []
    zone: list[list[_Piece]] = []
    value_left = 0.0

    def close() -> None:
        if zone:
            tables.append(_zone_table(zone, value_left, page))
            zone.clear()

    for line in lines:
        if _is_row(line):
            prev_bottom = max(p.y1 for p in zone[-1]) if zone else 0.0
            if zone and line[0].y0 - prev_bottom > COLUMN_GAP * line[0].size:
                close()
            left = min(p.x0 for p in line if p.is_value)
            value_left = min(value_left, left) if zone else left
            zone.append(line)
        elif zone and _continues_zone(line, zone[-1], value_left):
            zone.append(line)
        else:
            close()
            rest.append(line)
    close()
    return tables, rest


def _zone_table(zone: list[list[_Piece]], value_left: float, page: int) -> Table:
    """Rows: a new row starts at a label that opens an item (１．, （２）) or at a label with
    figures after a row that had its figures; any other line continues the current row."""
    rows: list[list[_Piece]] = []
    has_values: list[bool] = []
    for line in zone:
        labels = [p for p in line if p.x0 < value_left - p.size / 2]
        values = len(labels) < len(line)
        opens = bool(labels) and (labels[0].text[:1] in ITEM_MARKS or bool(NUMBERED_ITEM.match(labels[0].text)))
        if not rows or (labels and (opens or (values and has_values[-1]))):
            rows.append([])
            has_values.append(False)
        rows[-1] += line
        has_values[-1] = has_values[-1] or values
    # Columns: the x extents of all pieces, merged where they overlap.
    spans: list[list[float]] = []
    for p in sorted((p for line in zone for p in line), key=lambda p: p.x0):
        if spans and p.x0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], p.x1)
        else:
            spans.append([p.x0, p.x1])
    starts = [s[0] for s in spans]
    table_rows = []
    for pieces in rows:
        y0, y1 = min(p.y0 for p in pieces), max(p.y1 for p in pieces)
        cells: list[list[TextRun]] = [[] for _ in spans]
        for p in pieces:
            cells[bisect_right(starts, p.x0) - 1] += p.runs
        texts = [_text_of(runs, span[1])[0] if runs else "" for runs, span in zip(cells, spans)]
        table_rows.append(Row(texts, [(s[0], y0, s[1], y1) for s in spans], [page]))
    bbox = _bbox(r for line in zone for p in line for r in p.runs)
    return Table(table_rows, page, bbox, [*starts, spans[-1][1]])


# --- paragraphs ------------------------------------------------------------------------------


def _segments(lines: list[list[_Piece]]) -> list[list[_Piece]]:
    """Cut lines at column gutters; pieces of a line not cut apart stay one segment of text.

    A gap is a gutter when it is very wide, or when the lines just above and below leave it
    empty while the text left of it goes on: two columns of prose set close together (a slide's
    text beside its notes). A gap that a neighbouring line runs across, or with nothing left of
    it above or below, is spacing inside one column (問２ hanging before its question).
    """
    out: list[list[_Piece]] = []
    for i, line in enumerate(lines):
        reach = 2 * max(p.size for p in line)
        neighbours = [other for other in lines[max(i - 3, 0) : i + 4] if other is not line and abs(other[0].y0 - line[0].y0) <= reach]
        segment = [line[0]]
        for piece in line[1:]:
            a, b = segment[-1].x1, piece.x0
            mid = (a + b) / 2
            crossed = any(p.x0 < mid < p.x1 for other in neighbours for p in other)
            left_column = any(other[0].x0 < mid for other in neighbours)
            if b - a > COLUMN_GAP * piece.size or (left_column and not crossed):
                out.append(segment)
                segment = []
            segment.append(piece)
        out.append(segment)
    return out


def _text_blocks(lines: list[list[_Piece]], page: int) -> list[TextBlock]:
    """Paragraphs and headings, column by column: a segment of a line continues the paragraph
    just above it in its column, unless the size changes, the gap is wide, the left edge moves
    out, or the line above stopped short of the paragraph's width (the last line of a paragraph)."""
    segments = _segments(lines)
    sizes: Counter[float] = Counter()
    for segment in segments:
        for piece in segment:
            for run in piece.runs:
                sizes[run.size] += len(run.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    blocks: list[list[list[_Piece]]] = []
    for segment in segments:
        x0, y0, x1 = segment[0].x0, min(p.y0 for p in segment), segment[-1].x1
        size = max(p.size for p in segment)
        target = None
        for block in reversed(blocks):
            prev = block[-1]
            prev_x0, prev_x1, prev_y1 = prev[0].x0, prev[-1].x1, max(p.y1 for p in prev)
            if x0 >= prev_x1 or x1 <= prev_x0 or prev_y1 > y0 + 0.5 * size:
                continue  # another column, or the same line
            prev_size = max(p.size for p in prev)
            aligned = abs(x0 - block[0][0].x0) < 3 * size or x0 > block[0][0].x0
            if size > body_size * 1.08:
                # Headings may follow each other, each short: a line of large text is short
                # unless it reaches the right edge of the text around it in its column.
                width = max(s[-1].x1 for s in segments if s[0].x0 < x1 and s[-1].x1 > x0 and abs(s[0].y0 - y0) <= 8 * size)
            else:
                width = max(max(s[-1].x1 for s in block), x1)
            short = prev_x1 < width - 2.5 * size
            if abs(prev_size - size) <= 0.6 and y0 - prev_y1 <= 0.9 * size and aligned and not short:
                target = block
            break
        if target is None:
            blocks.append([segment])
        else:
            target.append(segment)
    out = []
    for block in blocks:
        runs = [r for segment in block for piece in segment for r in piece.runs]
        bbox = _bbox(runs)
        text, size = _text_of(runs, bbox[2] + 2)
        out.append(TextBlock(text, size, page, bbox, all(r.bold for r in runs)))
    return out


def _free_text(runs: list[TextRun], page: int) -> list[Element]:
    """Text outside ruled tables: vertical runs on their own, rule-less tables, then paragraphs."""
    vertical = [TextBlock(r.text, r.size, page, (r.x0, r.y0, r.x1, r.y1), r.bold) for r in runs if r.vertical]
    lines = [_pieces(line, WIDE_GAP) for line in _lines(r for r in runs if not r.vertical)]
    tables, rest = _row_tables(lines, page)
    return [*vertical, *tables, *_text_blocks(rest, page)]


# --- reading order ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    """What the reading order moves as one piece: an element, or a ruled box and all it holds."""

    bbox: BBox
    elements: list[Element]


def _gutter(units: list[_Unit]) -> float | None:
    """An x where an empty band at least GUTTER wide runs down the whole of `units`."""
    reach = None
    for unit in sorted(units, key=lambda u: u.bbox[0]):
        if reach is not None and unit.bbox[0] - reach >= GUTTER:
            return (reach + unit.bbox[0]) / 2
        reach = unit.bbox[2] if reach is None else max(reach, unit.bbox[2])
    return None


def _reading_order(units: list[_Unit]) -> list[Element]:
    """XY-cut: left column before right where a gutter runs down everything left to read;
    otherwise the topmost band (units overlapping in height) first, then the rest."""
    out: list[Element] = []
    pending = sorted(units, key=lambda u: (u.bbox[1], u.bbox[0]))
    while pending:
        cut = _gutter(pending) if len(pending) > 1 else None
        if cut is not None:
            out += _reading_order([u for u in pending if u.bbox[0] < cut])
            out += _reading_order([u for u in pending if u.bbox[0] >= cut])
            return out
        bottom, i = pending[0].bbox[3], 1
        while i < len(pending) and pending[i].bbox[1] < bottom - 1:
            bottom = max(bottom, pending[i].bbox[3])
            i += 1
        band, pending = pending[:i], pending[i:]
        if len(band) == 1 or _gutter(band) is None:
            out += [el for unit in sorted(band, key=lambda u: (u.bbox[1], u.bbox[0])) for el in unit.elements]
        else:
            out += _reading_order(band)
    return out


# --- pages -----------------------------------------------------------------------------------


def _in_band(run: TextRun, height: float) -> bool:
    return run.y1 < height * MARGIN_BAND or run.y0 > height * (1 - MARGIN_BAND)


def _signature(text: str) -> str:
    return re.sub(r"[0-9０-９]+", "#", text)


def _inside(box: BBox, outer: BBox) -> bool:
    return box[0] >= outer[0] - SNAP and box[1] >= outer[1] - SNAP and box[2] <= outer[2] + SNAP and box[3] <= outer[3] + SNAP


def page_layout(page: PageContent, running: set[str]) -> PageLayout:
    """Elements of one page in reading order; `running` holds header/footer signatures to drop."""
    free = [run for run in page.runs if not _in_band(run, page.height)]
    running_text: list[str] = []
    for piece in _band_pieces(page):
        text = piece.text
        if _signature(text) in running or PAGE_LABEL.match(text):
            running_text.append(text)
        else:
            free += piece.runs
    units: list[_Unit] = []
    for grid in _grids(page.rules):
        x0, y0, x1, y1 = grid.bbox
        inside = [r for r in free if x0 <= (r.x0 + r.x1) / 2 <= x1 and y0 <= (r.y0 + r.y1) / 2 <= y1]
        slots = _cell_slots(grid)
        if not inside and len(grid.ys) < 3:
            continue  # a frame or an underline, not a table
        ids = {id(r) for r in inside}
        free = [r for r in free if id(r) not in ids]
        if len({slot for row in slots for slot in row}) == 1:
            # A box around one cell: a chart or a boxed note, read as a page of its own.
            held = [u for u in units if _inside(u.bbox, grid.bbox)]
            units = [u for u in units if not _inside(u.bbox, grid.bbox)]
            held += [_Unit(el.bbox, [el]) for el in _free_text(inside, page.number)]
            units.append(_Unit(grid.bbox, _reading_order(held)))
        else:
            table = _build_table(grid, slots, inside, page.number)
            units.append(_Unit(table.bbox, [table]))
    units += [_Unit(el.bbox, [el]) for el in _free_text(free, page.number)]
    return PageLayout(page.number, _reading_order(units), running_text, page.warning)


def _band_pieces(page: PageContent) -> list[_Piece]:
    """Texts in the top and bottom bands, cut only at wide gaps: a header is judged as a whole
    (問２ at the top of many pages is part of its question, not a running header), but a page
    number set apart from a caption on the same line is a text of its own."""
    return [piece for line in _lines(r for r in page.runs if _in_band(r, page.height)) for piece in _pieces(line, COLUMN_GAP)]


def running_signatures(pages: list[PageContent]) -> set[str]:
    """Texts in the top or bottom band that repeat on several pages: running headers and footers."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_signature(piece.text) for piece in _band_pieces(page)})
    threshold = 2 if len(pages) >= 2 else 10**9
    return {sig for sig, n in counts.items() if n >= threshold}


def _continues(prev: Table, nxt: Table) -> bool:
    return prev.width == nxt.width and all(abs(a - b) <= 2 for a, b in zip(prev.columns, nxt.columns))


def _append_cell(head: str, tail: str) -> str:
    if not head or not tail:
        return head or tail
    if tail[:1] in ITEM_MARKS:
        return head + "\n" + tail
    return head + (" " if _is_latin(head[-1]) and _is_latin(tail[0]) else "") + tail


def _mid_sentence(last: Row, first: Row) -> bool:
    """Does the next page's first row read as the rest of the last row? Some text cell of it
    must start mid-sentence (no bullet or number) where the last row's cell had not ended."""
    for head, tail in zip(last.cells, first.cells):
        head, tail = head.rstrip(), tail.lstrip()
        if len(tail) < 8 or not head:
            continue  # labels and figures say nothing either way
        if tail[:1] not in ITEM_MARKS and not NUMBERED_ITEM.match(tail) and not head.endswith(("。", "）", ")")):
            return True
    return False


def merge_continued_tables(pages: list[PageLayout]) -> None:
    """Join a table that runs over a page break: drop its repeated header, glue a split row.

    A row continues when the first cell of the next page's first row is empty (the item label
    stays with the first part of a split row, as in the real documents), or when the table filled
    its page to the bottom: a row moved whole to the next page leaves a gap above the footer.
    """
    bottom = max((el.bbox[3] for page in pages for el in page.elements if isinstance(el, Table)), default=0.0)
    tail: Element | None = None
    tail_bottom = 0.0  # where the last printed part of `tail` ends on its page
    for page in pages:
        if page.elements and isinstance(tail, Table) and isinstance(page.elements[0], Table):
            prev, nxt = tail, page.elements[0]
            rows = list(nxt.rows)
            if _continues(prev, nxt) and rows and (rows[0].cells == prev.rows[0].cells or not rows[0].cells[0]):
                if rows and rows[0].cells == prev.rows[0].cells:
                    rows = rows[1:]
                # a split row: its item cell is empty on the new page, or the table ran to the foot of the page
                if (
                    rows
                    and prev.rows
                    and (not rows[0].cells[0] or (tail_bottom >= bottom - SPLIT_SLACK and _mid_sentence(prev.rows[-1], rows[0])))
                ):
                    first, last = rows.pop(0), prev.rows[-1]
                    last.cells = [_append_cell(a, b) for a, b in zip(last.cells, first.cells)]
                    last.pages = sorted(set(last.pages) | set(first.pages))
                prev.rows.extend(rows)
                tail_bottom = nxt.bbox[3]
                page.elements.pop(0)
                if not page.elements:
                    continue  # the whole page was the table: it may go on further
        if page.elements:
            tail = page.elements[-1]
            tail_bottom = tail.bbox[3]


def assign_heading_levels(pages: list[PageLayout]) -> None:
    """Blocks set larger than the body text are headings; the largest size is level 1. A bulleted
    line is a list item however large it is set (・調査期間 on a cover page)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for el in page.elements:
            if isinstance(el, TextBlock):
                sizes[el.size] += len(el.text)
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    # Sizes a rounding apart (14.0 and 14.1 from the same style) are one heading level.
    levels: dict[float, int] = {}
    for size in sorted((s for s in sizes if s > body * 1.08), reverse=True):
        levels[size] = levels[min(levels)] if levels and min(levels) - size <= 0.3 else len(set(levels.values())) + 1
    for page in pages:
        for el in page.elements:
            if isinstance(el, TextBlock) and el.size in levels and len(el.text) <= 80 and el.text[:1] not in BULLETS:
                el.heading_level = levels[el.size]


def layout(pages: list[PageContent]) -> list[PageLayout]:
    running = running_signatures(pages)
    laid = [page_layout(page, running) for page in pages]
    merge_continued_tables(laid)
    assign_heading_levels(laid)
    return laid
