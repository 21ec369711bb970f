"""Turn positioned text runs and ruling lines into reading-order elements: text blocks and tables.

Only geometry is used: tables come from the drawn rules (cells split or merged where a rule is
absent), cell and paragraph text from the positions of runs, never from the order of the
content stream. Running headers and footers are set aside, and a table row that continues on
the next page is joined to its first part.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from planindex.pdf import PageContent, Rule, TextRun

BBox = tuple[float, float, float, float]
MARGIN_BAND = 0.075  # share of the page height, top and bottom, where running headers live
ITEM_MARKS = "・●○◆◇■□◎※•-‐①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
NUMBERED_ITEM = re.compile(r"^([（(][0-9０-９一二三四五六七八九十]{1,3}[)）]|[0-9０-９]{1,2}[．.　 ])")
PAGE_LABEL = re.compile(r"^[-‐ー－ ]*(\d+|[０-９]+)\s*(ページ|頁)?[-‐ー－ ]*$")
SNAP = 1.5  # points within which two rule coordinates are the same line
SPLIT_SLACK = 14.0  # points: a table ending this close to the lowest table edge of the document filled its page


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
    """Group runs into visual lines, top to bottom, each left to right."""
    lines: list[list[TextRun]] = []
    for run in sorted(runs, key=lambda r: ((r.y0 + r.y1) / 2, r.x0)):
        if lines and _same_line(lines[-1][-1], run):
            lines[-1].append(run)
        else:
            lines.append([run])
    for line in lines:
        line.sort(key=lambda r: r.x0)
    lines.sort(key=lambda line: (min(r.y0 for r in line), line[0].x0))
    return lines


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _join_runs(line: list[TextRun]) -> str:
    text = line[0].text
    for prev, run in itertools.pairwise(line):
        gap = run.x0 - prev.x1
        if gap > 0.3 * run.size and text and _is_latin(text[-1].strip() or "。") and _is_latin(run.text[0]):
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


def _touches(h: Rule, v: Rule) -> bool:
    return h.x0 - SNAP <= v.x0 <= h.x1 + SNAP and v.y0 - SNAP <= h.y0 <= v.y1 + SNAP


def _covered(rules: list[Rule], at: float, lo: float, hi: float, horizontal: bool) -> bool:
    """Is there a rule along `at` spanning the middle of [lo, hi]?"""
    mid = (lo + hi) / 2
    for r in rules:
        pos, a, b = (r.y0, r.x0, r.x1) if horizontal else (r.x0, r.y0, r.y1)
        if abs(pos - at) <= SNAP and a - SNAP <= mid <= b + SNAP:
            return True
    return False


def _grids(rules: tuple[Rule, ...]) -> list[tuple[list[float], list[float], list[Rule], list[Rule]]]:
    """Connected groups of rules that form a grid: (xs, ys, horizontals, verticals)."""
    hs = [r for r in rules if r.horizontal]
    vs = [r for r in rules if not r.horizontal]
    if len(hs) < 2 or len(vs) < 2:
        return []
    every = hs + vs
    uf = _UnionFind(len(every))
    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if _touches(h, v):
                uf.union(i, len(hs) + j)
    groups: dict[int, list[int]] = {}
    for i in range(len(every)):
        groups.setdefault(uf.find(i), []).append(i)
    grids = []
    for members in groups.values():
        gh = [every[i] for i in members if i < len(hs)]
        gv = [every[i] for i in members if i >= len(hs)]
        xs, ys = _snap(v.x0 for v in gv), _snap(h.y0 for h in gh)
        if len(xs) >= 2 and len(ys) >= 2:
            grids.append((xs, ys, gh, gv))
    return grids


def _cell_slots(xs: list[float], ys: list[float], hs: list[Rule], vs: list[Rule]) -> list[list[int]]:
    """For each grid band (row, column) the id of the merged cell it belongs to."""
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    uf = _UnionFind(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not _covered(vs, xs[c + 1], ys[r], ys[r + 1], horizontal=False):
                uf.union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and not _covered(hs, ys[r + 1], xs[c], xs[c + 1], horizontal=True):
                uf.union(r * n_cols + c, (r + 1) * n_cols + c)
    return [[uf.find(r * n_cols + c) for c in range(n_cols)] for r in range(n_rows)]


def _build_table(grid: tuple[list[float], list[float], list[Rule], list[Rule]], runs: list[TextRun], page: int) -> Table:
    xs, ys, hs, vs = grid
    slots = _cell_slots(xs, ys, hs, vs)
    boxes: dict[int, list[float]] = {}
    for r, row in enumerate(slots):
        for c, slot in enumerate(row):
            box = boxes.setdefault(slot, [xs[c], ys[r], xs[c + 1], ys[r + 1]])
            box[2], box[3] = max(box[2], xs[c + 1]), max(box[3], ys[r + 1])
    members: dict[int, list[TextRun]] = {slot: [] for slot in boxes}
    for run in runs:
        cx, cy = (run.x0 + run.x1) / 2, (run.y0 + run.y1) / 2
        r = next(i for i in range(len(ys) - 1) if ys[i] <= cy <= ys[i + 1])
        c = next(i for i in range(len(xs) - 1) if xs[i] <= cx <= xs[i + 1])
        members[slots[r][c]].append(run)
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
    return Table(rows, page, (xs[0], ys[0], xs[-1], ys[-1]), list(xs))


# --- pages -----------------------------------------------------------------------------------


def _in_band(run: TextRun, height: float) -> bool:
    return run.y1 < height * MARGIN_BAND or run.y0 > height * (1 - MARGIN_BAND)


def _signature(text: str) -> str:
    return re.sub(r"[0-9０-９]+", "#", text)


def _text_blocks(runs: list[TextRun], page: int) -> list[TextBlock]:
    """Paragraphs and headings: a block ends at a change of size, a wide gap, a new left edge,
    or after a line that stops short of the block's width (the last line of a paragraph)."""
    blocks: list[TextBlock] = []
    current: list[list[TextRun]] = []
    sizes: Counter[float] = Counter()
    for run in runs:
        sizes[run.size] += len(run.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    page_right = max((r.x1 for r in runs), default=0.0)

    def flush() -> None:
        if current:
            flat = [r for line in current for r in line]
            right = max(r.x1 for r in flat)
            text, size = _text_of(flat, right + 2)
            bbox = (min(r.x0 for r in flat), min(r.y0 for r in flat), right, max(r.y1 for r in flat))
            blocks.append(TextBlock(text, size, page, bbox, all(r.bold for r in flat)))
            current.clear()

    for line in _split_columns(_lines(runs)):
        if current:
            prev = current[-1]
            prev_size, size = max(r.size for r in prev), max(r.size for r in line)
            gap = min(r.y0 for r in line) - max(r.y1 for r in prev)
            aligned = abs(line[0].x0 - current[0][0].x0) < 3 * size or line[0].x0 > current[0][0].x0
            prev_end = max(r.x1 for r in prev)
            width = page_right if size > body_size * 1.08 else max(max(r.x1 for r in ln) for ln in [*current, line])
            short = prev_end < width - 2.5 * size
            if abs(prev_size - size) > 0.6 or gap > 0.9 * size or not aligned or short:
                flush()
        current.append(line)
    flush()
    return blocks


def _split_columns(lines: list[list[TextRun]]) -> list[list[TextRun]]:
    """Cut a visual line where a wide horizontal gap separates two pieces of text."""
    out: list[list[TextRun]] = []
    for line in lines:
        piece = [line[0]]
        for run in line[1:]:
            if run.x0 - piece[-1].x1 > 3 * run.size:
                out.append(piece)
                piece = []
            piece.append(run)
        out.append(piece)
    return out


def page_layout(page: PageContent, running: set[str]) -> PageLayout:
    """Elements of one page in reading order; `running` holds header/footer signatures to drop."""
    body: list[TextRun] = []
    running_text: list[str] = []
    for run in page.runs:
        if _in_band(run, page.height) and (_signature(run.text.strip()) in running or PAGE_LABEL.match(run.text.strip())):
            running_text.append(run.text.strip())
        else:
            body.append(run)
    tables: list[Table] = []
    free = body
    for grid in _grids(page.rules):
        xs, ys = grid[0], grid[1]
        inside = [r for r in free if xs[0] <= (r.x0 + r.x1) / 2 <= xs[-1] and ys[0] <= (r.y0 + r.y1) / 2 <= ys[-1]]
        if not inside and len(ys) < 3:
            continue  # a frame or an underline, not a table
        ids = {id(r) for r in inside}
        free = [r for r in free if id(r) not in ids]
        tables.append(_build_table(grid, inside, page.number))
    elements: list[Element] = [*tables, *_text_blocks(free, page.number)]
    elements.sort(key=lambda e: (round(e.bbox[1]), e.bbox[0]))
    return PageLayout(page.number, elements, running_text, page.warning)


def running_signatures(pages: list[PageContent]) -> set[str]:
    """Texts in the top or bottom band that repeat on several pages: running headers and footers."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_signature(r.text.strip()) for r in page.runs if _in_band(r, page.height)})
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
    """Blocks set larger than the body text are headings; the largest size is level 1."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for el in page.elements:
            if isinstance(el, TextBlock):
                sizes[el.size] += len(el.text)
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    heading_sizes = sorted((s for s in sizes if s > body * 1.08), reverse=True)
    for page in pages:
        for el in page.elements:
            if isinstance(el, TextBlock) and el.size in heading_sizes and len(el.text) <= 80:
                el.heading_level = heading_sizes.index(el.size) + 1


def layout(pages: list[PageContent]) -> list[PageLayout]:
    running = running_signatures(pages)
    laid = [page_layout(page, running) for page in pages]
    merge_continued_tables(laid)
    assign_heading_levels(laid)
    return laid
