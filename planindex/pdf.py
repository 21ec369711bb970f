"""Read a PDF into positioned text runs and ruling lines: the only module that imports PyMuPDF.

Everything after this module works on geometry alone, so the content-stream order of the
PDF never matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymupdf

from planindex.errors import CorruptPdf, EmptyPdf, EncryptedPdf, NotAPdf, NotFound

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

RULE_THICKNESS = 2.0  # a filled rectangle thinner than this is a drawn rule, as Excel prints them
UNREADABLE_SHARE = 0.2  # a page whose glyphs are this much U+FFFD / private-use has a broken font map


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


def _rules(page: pymupdf.Page) -> list[Rule]:
    rules: list[Rule] = []
    for drawing in page.get_cdrawings():
        stroked = drawing.get("type") in ("s", "fs")
        for item in drawing["items"]:
            if item[0] == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                if abs(y0 - y1) < 1 or abs(x0 - x1) < 1:
                    rules.append(Rule(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            elif item[0] == "re":
                x0, y0, x1, y1 = item[1]
                if y1 - y0 < RULE_THICKNESS or x1 - x0 < RULE_THICKNESS:
                    rules.append(Rule(x0, y0, x1, y1))
                elif stroked:
                    rules += [Rule(x0, y0, x1, y0), Rule(x0, y1, x1, y1), Rule(x0, y0, x0, y1), Rule(x1, y0, x1, y1)]
    return rules


def _crosses(x0: float, x1: float, yc: float, verticals: list[Rule]) -> bool:
    return any(x0 + 1 < r.x0 < x1 - 1 and r.y0 <= yc <= r.y1 for r in verticals)


def _runs_from_dict(page: pymupdf.Page, verticals: list[Rule]) -> list[TextRun] | None:
    """Runs from spans; None when a span straddles a cell border and must be split by glyph."""
    runs: list[TextRun] = []
    for block in page.get_text("dict", flags=pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_IMAGES)["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                text = span["text"]
                if not text.strip():
                    continue
                x0, y0, x1, y1 = span["bbox"]
                if _crosses(x0, x1, (y0 + y1) / 2, verticals):
                    return None
                runs.append(TextRun(text, x0, y0, x1, y1, round(span["size"], 1), bool(span["flags"] & 16)))
    return runs


def _runs_from_chars(page: pymupdf.Page, verticals: list[Rule]) -> list[TextRun]:
    """Runs from glyphs, cut wherever a vertical rule passes between two glyphs."""
    runs: list[TextRun] = []
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                size, bold = round(span["size"], 1), bool(span["flags"] & 16)
                current: list[dict] = []
                for char in span["chars"]:
                    if current and _crosses(current[-1]["bbox"][0], char["bbox"][2], (char["bbox"][1] + char["bbox"][3]) / 2, verticals):
                        runs.append(_run(current, size, bold))
                        current = []
                    current.append(char)
                if current:
                    runs.append(_run(current, size, bold))
    return [r for r in runs if r.text.strip()]


def _run(chars: list[dict], size: float, bold: bool) -> TextRun:
    text = "".join(c["c"] for c in chars)
    return TextRun(
        text, chars[0]["bbox"][0], min(c["bbox"][1] for c in chars), chars[-1]["bbox"][2], max(c["bbox"][3] for c in chars), size, bold
    )


def _unreadable(runs: list[TextRun]) -> bool:
    glyphs = [ch for r in runs for ch in r.text if not ch.isspace()]
    bad = sum(1 for ch in glyphs if ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or ord(ch) < 32)
    return bool(glyphs) and bad / len(glyphs) > UNREADABLE_SHARE


def read_page(page: pymupdf.Page) -> PageContent:
    rules = _rules(page)
    verticals = [r for r in rules if not r.horizontal]
    runs = _runs_from_dict(page, verticals)
    if runs is None:
        runs = _runs_from_chars(page, verticals)
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
