"""Read a PDF into positioned text runs and ruling lines: the only module that imports PyMuPDF.

Everything after this module works on geometry alone, so the content-stream order of the
PDF never matters.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import sub
from pathlib import Path
from typing import Any, NamedTuple

import pymupdf

from planindex.errors import CorruptPdf, EmptyPdf, EncryptedPdf, NotAPdf, NotFound
from planindex.records import sha256_of

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

RULE_THICKNESS = 2.0  # a filled rectangle thinner than this is a drawn rule, as Excel prints them
MIN_RULE = 3.0  # points: a shorter stroke is a dot or a tick, not a rule
UNREADABLE_SHARE = 0.2  # a page whose glyphs are this much U+FFFD / private-use has a broken font map
# A gap wider than this many font sizes between two glyphs of one line separates two pieces of
# text (the cells of a table drawn without rules, a label and its count); a word space or a
# full-width space is narrower. A PDF often fills such a gap with space glyphs.
WIDE_GAP = 1.5
SPACE_GAP = 0.25  # font sizes: a wider gap between two Latin glyphs is a space, a narrower one letter spacing
LOOSE_GAP = 0.8  # font sizes: a wider gap is a space whatever the script
# Symbol fonts without a Unicode map (Wingdings ➢ ■ ◆) extract as U+F020..U+F0FF; in these
# documents such a glyph is a bullet, so it reads as one instead of counting as garbage.
SYMBOL_FONTS = ("wingdings", "webdings", "symbol", "dingbat")
SYMBOL_GLYPH = re.compile("[\uf020-\uf0ff]")
GARBAGE = re.compile("[\ufffd\ue000-\uf8ff\x00-\x1f]")  # what a font without a usable ToUnicode map extracts as
WHITESPACE = re.compile(r"\s+")


class TextRun(NamedTuple):
    """Glyphs on one baseline, in one font size, that belong together. (A named tuple, not a
    frozen dataclass: tens of thousands are made per document, and a tuple is three times
    cheaper to build.)"""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool = False
    vertical: bool = False  # written top to bottom (or rotated): its text is already in reading order


class Rule(NamedTuple):
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
    lost: bool = False  # the file is damaged and this page's content did not survive the repair


@dataclass(frozen=True, slots=True)
class PdfFile:
    path: Path
    sha256: str
    page_count: int
    metadata_title: str


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
        if not self.xs:
            return False
        lo, hi = bisect_right(self.xs, x0 + 1), bisect_left(self.xs, x1 - 1)
        return lo < hi and any(self.rules[i].y0 <= y <= self.rules[i].y1 for i in range(lo, hi))


def _symbol_glyphs(run: TextRun) -> TextRun:
    if not SYMBOL_GLYPH.search(run.text):
        return run
    return TextRun(SYMBOL_GLYPH.sub("・", run.text), run.x0, run.y0, run.x1, run.y1, run.size, run.bold, run.vertical)


def _span_runs(span: dict[str, Any], verticals: _Verticals) -> list[TextRun]:
    """Cut a span where a vertical rule passes between two glyphs (a span straddling cells) or
    where a wide gap separates them; a narrower gap reads as a space, as MuPDF's own text does."""
    size, bold = round(span["size"], 1), bool(span["flags"] & 16)
    sx0, sy0, sx1, sy1 = span["bbox"]
    straddles = verticals.between(sx0, sx1, (sy0 + sy1) / 2)
    narrow = SPACE_GAP * size
    chars = span["chars"]
    codes, glyph_ids, _, boxes = zip(*chars)
    if not straddles and min(codes) >= 0 and 0 not in glyph_ids:
        # Most spans: glyphs set close together, no space inside, no .notdef: one run as it is.
        # (Whole-tuple operations rather than a loop over the glyphs: the hot path of reading.)
        text = "".join(map(chr, codes))
        stripped = text.strip()
        close = len(boxes) == 1 or max(map(sub, [b[0] for b in boxes[1:]], [b[2] for b in boxes])) <= narrow
        if stripped and close and not WHITESPACE.search(stripped):
            first = len(text) - len(text.lstrip())
            return [TextRun(stripped, boxes[first][0], sy0, boxes[first + len(stripped) - 1][2], sy1, size, bold)]
    runs: list[TextRun] = []
    glyphs: list[str] = []
    x0 = x1 = last_x0 = 0.0
    for code, glyph, _, (cx0, _, cx1, _) in chars:
        if glyph == 0:
            continue  # .notdef: the font has no such glyph and nothing was printed
        c = chr(code) if code >= 0 else "\ufffd"
        if c.isspace():
            if glyphs:
                glyphs.append(c)
            continue
        if glyphs:
            gap = cx0 - x1
            if gap > WIDE_GAP * size or (straddles and verticals.between(last_x0, cx1, (sy0 + sy1) / 2)):
                runs.append(TextRun("".join(glyphs).rstrip(), x0, sy0, x1, sy1, size, bold))
                glyphs = []
            elif gap > narrow and not glyphs[-1].isspace() and (gap > LOOSE_GAP * size or (glyphs[-1].isascii() and c.isascii())):
                glyphs.append(" ")  # between words; Japanese set with letter spacing stays unspaced
        if not glyphs:
            x0 = cx0
        glyphs.append(c)
        x1, last_x0 = cx1, cx0
    if glyphs:
        runs.append(TextRun("".join(glyphs).rstrip(), x0, sy0, x1, sy1, size, bold))
    return runs


def _runs(page: pymupdf.Page, verticals: _Verticals) -> list[TextRun]:
    """Runs from the text trace: glyphs with their boxes, in content-stream order (the layout
    orders them by geometry), without the cost of MuPDF building its own lines and blocks.

    Invisible text is kept (the text layer of an OCR'd scan); a stroked copy of filled text
    (fake bold) is dropped.
    """
    spans = page.get_texttrace()
    stroked = any(s["type"] == 1 for s in spans)
    filled = {(tuple(map(round, s["bbox"])), len(s["chars"])) for s in spans if s["type"] == 0} if stroked else set()
    runs: list[TextRun] = []
    symbol_fonts: dict[str, bool] = {}
    for span in spans:
        if not span["chars"] or (span["type"] == 1 and (tuple(map(round, span["bbox"])), len(span["chars"])) in filled):
            continue
        if abs(span["dir"][1]) > 0.5 or span["wmode"]:
            # Vertical or rotated: one run in the order of the glyphs, which is the writing order.
            text = "".join(chr(c[0]) if c[0] >= 0 else "\ufffd" for c in span["chars"] if c[1] != 0).strip()
            if text:
                runs.append(TextRun(text, *span["bbox"], round(span["size"], 1), bool(span["flags"] & 16), vertical=True))
            continue
        font = span["font"]
        if font not in symbol_fonts:
            symbol_fonts[font] = any(name in font.lower() for name in SYMBOL_FONTS)
        if symbol_fonts[font]:
            runs += map(_symbol_glyphs, _span_runs(span, verticals))
        else:
            runs += _span_runs(span, verticals)
    return runs


def _unreadable(runs: list[TextRun]) -> bool:
    text = WHITESPACE.sub("", "".join(r.text for r in runs))
    return bool(text) and len(GARBAGE.findall(text)) / len(text) > UNREADABLE_SHARE


def _lost(page: pymupdf.Page) -> bool:
    """A page of a file MuPDF had to repair (a truncated download) whose content streams are
    gone: no text because of the damage, not because it is a scan."""
    doc = page.parent
    if not doc.is_repaired:
        return False
    contents = page.get_contents()
    return not contents or any(xref >= doc.xref_length() for xref in contents)


def read_page(page: pymupdf.Page) -> PageContent:
    rules = _rules(page)
    runs = _runs(page, _Verticals(rules))
    number = page.number + 1
    warning, lost = None, False
    if not runs:
        lost = _lost(page)
        warning = damage_warning([number]) if lost else f"page {number} has no text layer (a scanned page?): OCR it to index its text"
    elif _unreadable(runs):
        warning = f"page {number} has unreadable text (a font without a ToUnicode map?): skipped"
        runs = []
    rect = page.rect
    return PageContent(number, rect.width, rect.height, tuple(runs), tuple(rules), warning, lost)


def damage_warning(lost: list[int]) -> str:
    """One message for the pages a damaged file has lost: 'pages 3-5', 'page 2'."""
    spans: list[list[int]] = []
    for n in sorted(lost):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    pages = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)
    return f"damaged PDF (repaired on opening): page{'s' if len(lost) > 1 else ''} {pages} could not be read; get the file again"


def read_pdf(path: Path, digest: str | None = None) -> tuple[PdfFile, Iterator[PageContent]]:
    """Open a PDF (raising a clear InputError if it cannot be used) and read its pages lazily."""
    doc = _open(path)
    info = PdfFile(path, digest or sha256_of(path), doc.page_count, (doc.metadata or {}).get("title") or "")

    def pages() -> Iterator[PageContent]:
        try:
            for page in doc:
                yield read_page(page)
        except Exception as exc:  # a damaged content stream surfaces here, not at open
            raise CorruptPdf(path, f"damaged PDF: page {page.number + 1} cannot be read ({exc})") from exc
        finally:
            doc.close()

    return info, pages()
