"""Read a PDF into positioned text runs and ruling lines: the only module that imports PyMuPDF.

Everything after this module works on geometry alone, so the content-stream order of the
PDF never matters.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

from planindex.errors import CorruptPdf, EmptyPdf, EncryptedPdf, NotAPdf, NotFound

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

RULE_THICKNESS = 2.0  # a filled rectangle thinner than this is a drawn rule, as Excel prints them
MIN_RULE = 3.0  # points: a shorter stroke is a dot or a tick, not a rule
UNREADABLE_SHARE = 0.2  # a page whose glyphs are this much U+FFFD / private-use has a broken font map
# Whitespace wider than this many font sizes between two glyphs of one line separates two pieces
# of text (the cells of a table drawn without rules, a label and its count); a word space or a
# full-width space is narrower. MuPDF joins such pieces into one span when spaces fill the gap.
WIDE_GAP = 1.5
# Symbol fonts without a Unicode map extract as U+F020..U+F0FF; in these documents such a glyph
# is a bullet (Wingdings ➢ ■ ◆), so it reads as one instead of counting as garbage.
SYMBOL_FONTS = ("wingdings", "webdings", "symbol", "dingbat")
TEXT_FLAGS = pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES


@dataclass(frozen=True, slots=True)
class TextRun:
    """Glyphs on one baseline, in one font size, that belong together."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool = False
    vertical: bool = False  # written top to bottom (or rotated): its text is already in reading order


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal or vertical ruling line."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.y1 - self.y0)


@dataclass(frozen=True, slots=True)
class PageContent:
    number: int
    width: float
    height: float
    runs: tuple[TextRun, ...]
    rules: tuple[Rule, ...]
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class PdfFile:
    path: Path
    sha256: str
    page_count: int
    metadata_title: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open(path: Path) -> pymupdf.Document:
    if not path.exists():
        raise NotFound(path, "no such file")
    if path.is_dir():
        raise NotAPdf(path, "is a folder, not a PDF")
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise NotAPdf(path, "the file is empty")
    if b"%PDF-" not in head:
        raise NotAPdf(path, "not a PDF (no %PDF- header): is it another kind of file renamed .pdf?")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises several types for damaged files
        raise CorruptPdf(path, f"damaged PDF that cannot be opened ({exc})") from exc
    if doc.needs_pass:
        doc.close()
        raise EncryptedPdf(path, "encrypted: it needs a password (decrypt it first, e.g. qpdf --decrypt)")
    if doc.page_count == 0:
        doc.close()
        raise EmptyPdf(path, "the PDF has no pages")
    return doc


# --- ruling lines ----------------------------------------------------------------------------

Box = tuple[float, float, float, float]


def _subpaths(items: Sequence[Any]) -> Iterator[Box]:
    """Bounding boxes of the closed shapes of a filled path: a new shape starts where a line
    does not continue from the end of the previous one."""
    xs: list[float] = []
    ys: list[float] = []
    end = None
    for item in items:
        kind = item[0]
        if kind == "re":
            if xs:
                yield min(xs), min(ys), max(xs), max(ys)
                xs, ys, end = [], [], None
            x0, y0, x1, y1 = item[1]
            yield x0, y0, x1, y1
            continue
        points = list(item[1]) if kind == "qu" else list(item[1:])
        if kind != "qu" and end is not None and points[0] == end:
            points = points[1:]
        elif xs:
            yield min(xs), min(ys), max(xs), max(ys)
            xs, ys = [], []
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        end = None if kind == "qu" else points[-1] if points else end
    if xs:
        yield min(xs), min(ys), max(xs), max(ys)


def _edges(box: Box) -> list[Rule]:
    x0, y0, x1, y1 = box
    if y1 - y0 < RULE_THICKNESS or x1 - x0 < RULE_THICKNESS:
        return [Rule(x0, y0, x1, y1)] if max(x1 - x0, y1 - y0) >= MIN_RULE else []
    return [Rule(x0, y0, x1, y0), Rule(x0, y1, x1, y1), Rule(x0, y0, x0, y1), Rule(x1, y0, x1, y1)]


def _shape_key(box: Box, colour: Sequence[float] | None) -> tuple[int, ...]:
    return (*(round(v) for v in box), *(round(c * 20) for c in colour or ()))


def _rules(page: pymupdf.Page) -> list[Rule]:
    """Ruling lines from the drawings: stroked lines and rectangles, and filled shapes too thin
    to be anything but a line (Excel prints cell borders as hairline rectangles).

    A filled shape of some size is a bar of a chart or a shaded cell, never a rule, and so is its
    outline when it is stroked in its own fill colour: otherwise every chart would read as a table.
    """
    drawings = page.get_cdrawings()
    solids: set[tuple[int, ...]] = set()
    rules: list[Rule] = []
    for drawing in drawings:
        if drawing.get("fill") is not None and "f" in drawing.get("type", ""):
            for box in _subpaths(drawing["items"]):
                if box[3] - box[1] < RULE_THICKNESS or box[2] - box[0] < RULE_THICKNESS:
                    rules += _edges(box)
                else:
                    solids.add(_shape_key(box, drawing["fill"]))
    for drawing in drawings:
        if "s" not in drawing.get("type", ""):
            continue
        colour = drawing.get("color")
        for item in drawing["items"]:
            if item[0] == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                if abs(y0 - y1) < 1 or abs(x0 - x1) < 1:
                    rules += _edges((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            elif item[0] in ("re", "qu"):
                quad = pymupdf.Quad(item[1]) if item[0] == "qu" else None
                if quad is not None and not quad.is_rectangular:
                    continue
                box = tuple(quad.rect) if quad is not None else tuple(item[1])
                if _shape_key(box, colour) not in solids:
                    rules += _edges(box)
    return rules


# --- text ------------------------------------------------------------------------------------


class _Verticals:
    """Vertical rules sorted by x, to find quickly the ones passing between two glyphs."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = sorted((r for r in rules if not r.horizontal), key=lambda r: r.x0)
        self.xs = [r.x0 for r in self.rules]

    def between(self, x0: float, x1: float, y: float) -> bool:
        """Is there a rule strictly inside (x0, x1) at height y?"""
        lo, hi = bisect_right(self.xs, x0 + 1), bisect_left(self.xs, x1 - 1)
        return any(self.rules[i].y0 <= y <= self.rules[i].y1 for i in range(lo, hi))


def _symbol_glyphs(text: str, font: str) -> str:
    if not any("\uf020" <= ch <= "\uf0ff" for ch in text) or not any(name in font.lower() for name in SYMBOL_FONTS):
        return text
    return "".join("・" if "\uf020" <= ch <= "\uf0ff" else ch for ch in text)


def _span_runs(span: dict[str, Any], verticals: _Verticals) -> Iterator[TextRun]:
    """Cut a span where a vertical rule passes between two glyphs (a span straddling cells) or
    where wide whitespace separates them; spaces inside a piece are kept as printed."""
    size, bold = round(span["size"], 1), bool(span["flags"] & 16)
    sx0, sy0, sx1, sy1 = span["bbox"]
    straddles = verticals.between(sx0, sx1, (sy0 + sy1) / 2)
    gap = WIDE_GAP * size
    text: list[str] = []
    x0 = y0 = x1 = y1 = 0.0
    last_x1 = last_x0 = 0.0
    for char in span["chars"]:
        c = char["c"]
        cx0, cy0, cx1, cy1 = char["bbox"]
        if c.isspace():
            if text:
                text.append(c)
            continue
        if text and (cx0 - last_x1 > gap or (straddles and verticals.between(last_x0, cx1, (cy0 + cy1) / 2))):
            yield TextRun("".join(text).rstrip(), x0, y0, x1, y1, size, bold)
            text = []
        if not text:
            x0, y0, y1 = cx0, cy0, cy1
        else:
            y0, y1 = min(y0, cy0), max(y1, cy1)
        text.append(c)
        x1, last_x0, last_x1 = cx1, cx0, cx1
    if text:
        yield TextRun("".join(text).rstrip(), x0, y0, x1, y1, size, bold)


def _runs(page: pymupdf.Page, verticals: _Verticals) -> list[TextRun]:
    runs: list[TextRun] = []
    for block in page.get_text("rawdict", flags=TEXT_FLAGS)["blocks"]:
        for line in block.get("lines", ()):
            spans = line["spans"]
            if abs(line["dir"][1]) > 0.5 or line.get("wmode"):
                # Vertical or rotated: one run in the order MuPDF read it, which is the writing order.
                text = "".join(_symbol_glyphs("".join(c["c"] for c in s["chars"]), s["font"]) for s in spans).strip()
                if text:
                    size = round(max(s["size"] for s in spans), 1)
                    runs.append(TextRun(text, *line["bbox"], size, bool(spans[0]["flags"] & 16), vertical=True))
                continue
            for span in spans:
                for run in _span_runs(span, verticals):
                    if run.text:
                        text = _symbol_glyphs(run.text, span["font"])
                        runs.append(run if text is run.text else TextRun(text, run.x0, run.y0, run.x1, run.y1, run.size, run.bold))
    return runs


def _is_garbage(ch: str) -> bool:
    return ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or ord(ch) < 32


def _unreadable(runs: list[TextRun]) -> bool:
    glyphs = [ch for r in runs for ch in r.text if not ch.isspace()]
    bad = sum(map(_is_garbage, glyphs))
    return bool(glyphs) and bad / len(glyphs) > UNREADABLE_SHARE


def read_page(page: pymupdf.Page) -> PageContent:
    rules = _rules(page)
    runs = _runs(page, _Verticals(rules))
    number = page.number + 1
    warning = None
    if not runs:
        warning = f"page {number} has no text layer (a scanned page?): OCR it to index its text"
    elif _unreadable(runs):
        warning = f"page {number} has unreadable text (a font without a ToUnicode map?): skipped"
        runs = []
    rect = page.rect
    return PageContent(number, rect.width, rect.height, tuple(runs), tuple(rules), warning)


def read_pdf(path: Path) -> tuple[PdfFile, Iterator[PageContent]]:
    """Open a PDF (raising a clear InputError if it cannot be used) and read its pages lazily."""
    doc = _open(path)
    info = PdfFile(path, sha256_of(path), doc.page_count, (doc.metadata or {}).get("title") or "")

    def pages() -> Iterator[PageContent]:
        try:
            for page in doc:
                yield read_page(page)
        except Exception as exc:  # a damaged content stream surfaces here, not at open
            raise CorruptPdf(path, f"damaged PDF: page {page.number + 1} cannot be read ({exc})") from exc
        finally:
            doc.close()

    return info, pages()
