"""Render the corpus transcriptions in corpora/src/*.yaml to PDF.

The PDFs imitate what makes real Japanese municipal PDFs hard to read: ruled tables whose
cells wrap at the column width, vertical item labels (one glyph per line), rows that
continue on the next page, running headers and footers, charts with legends, and a content
stream whose text order is shuffled, so that only geometry gives the reading order.

Usage: python corpora/build.py [--only NAME ...] [--out DIR] [--src DIR]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf
import yaml

HERE = Path(__file__).resolve().parent
FONT_NAME = "F0"
MARGIN = 40.0
HEADER_SIZE = 8.0
BLOCK_SIZES = {"title": 18.0, "heading": 14.0, "subheading": 11.5, "paragraph": 10.0, "bullets": 10.0, "note": 8.0}
TABLE_SIZE = {"landscape": 8.5, "portrait": 8.0}
LEADING = 1.45
CELL_PAD = 3.0
CHART_HEIGHT = 70.0
RULE_COLOR = (0.25, 0.25, 0.25)
HEADER_FILL = (0.85, 0.88, 0.93)


@dataclass
class TextOp:
    x: float
    baseline: float
    text: str
    size: float


@dataclass
class PageDraft:
    header: str
    texts: list[TextOp] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    fills: list[tuple[tuple[float, float, float, float], tuple[float, float, float]]] = field(default_factory=list)


class Measurer:
    """Glyph widths of the embedded font, cached: wrapping measures every character."""

    def __init__(self, font: pymupdf.Font) -> None:
        self.font = font
        self.cache: dict[tuple[str, float], float] = {}

    def width(self, text: str, size: float) -> float:
        total = 0.0
        for ch in text:
            key = (ch, size)
            if key not in self.cache:
                self.cache[key] = self.font.text_length(ch, fontsize=size)
            total += self.cache[key]
        return total

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        """Break text into lines no wider than width; Latin words are not split."""
        lines: list[str] = []
        for hard_line in text.split("\n"):
            current = ""
            for ch in hard_line:
                if current and self.width(current + ch, size) > width:
                    keep, carry = _keep_latin_word(current, ch)
                    lines.append(keep.rstrip())
                    current = carry.lstrip()
                else:
                    current += ch
            lines.append(current)
        return lines


def _keep_latin_word(current: str, next_char: str) -> tuple[str, str]:
    """Split point that keeps an ASCII word whole: (line so far, carried-over start of next line)."""
    if not (next_char.isascii() and next_char.isalnum()):
        return current, next_char
    cut = len(current)
    while cut > 0 and current[cut - 1].isascii() and current[cut - 1].isalnum():
        cut -= 1
    if cut == 0 or cut < len(current) - 20:
        return current, next_char
    return current[:cut], current[cut:] + next_char


class Renderer:
    def __init__(self, source: dict[str, Any], font: pymupdf.Font) -> None:
        self.source = source
        self.measure = Measurer(font)
        landscape = source.get("orientation", "portrait") == "landscape"
        self.page_w, self.page_h = (842.0, 595.0) if landscape else (595.0, 842.0)
        self.table_size = TABLE_SIZE["landscape" if landscape else "portrait"]
        self.header = str(source.get("header") or "")
        self.pages: list[PageDraft] = []
        self.y = 0.0
        self.new_page()

    # -- page flow -------------------------------------------------------------------------
    @property
    def page(self) -> PageDraft:
        return self.pages[-1]

    @property
    def bottom(self) -> float:
        return self.page_h - MARGIN - 10

    @property
    def text_width(self) -> float:
        return self.page_w - 2 * MARGIN

    def new_page(self) -> None:
        self.pages.append(PageDraft(header=self.header))
        self.y = MARGIN + 14

    def ensure(self, height: float) -> None:
        if self.y + height > self.bottom and self.y > MARGIN + 14:
            self.new_page()

    def text_line(self, x: float, text: str, size: float) -> None:
        line_h = size * LEADING
        self.ensure(line_h)
        self.page.texts.append(TextOp(x, self.y + size, text, size))
        self.y += line_h

    def flow(self, text: str, size: float, indent: float = 0.0) -> None:
        for line in self.measure.wrap(text, self.text_width - indent, size):
            self.text_line(MARGIN + indent, line, size)

    # -- blocks ----------------------------------------------------------------------------
    def render(self) -> list[PageDraft]:
        for block in self.source["blocks"]:
            ((kind, value),) = block.items()
            getattr(self, f"block_{kind}")(value)
        return self.pages

    def _heading(self, text: str, size: float, space_before: float) -> None:
        self.y += space_before
        self.ensure(size * LEADING * 3)
        self.flow(str(text), size)
        self.y += size * 0.3

    def block_title(self, text: str) -> None:
        self._heading(text, BLOCK_SIZES["title"], 4)

    def block_heading(self, text: str) -> None:
        self._heading(text, BLOCK_SIZES["heading"], 8)

    def block_subheading(self, text: str) -> None:
        self._heading(text, BLOCK_SIZES["subheading"], 5)

    def block_paragraph(self, text: str) -> None:
        self.flow(str(text), BLOCK_SIZES["paragraph"])
        self.y += 4

    def block_note(self, text: str) -> None:
        self.flow(str(text), BLOCK_SIZES["note"])
        self.y += 2

    def block_bullets(self, items: list[str]) -> None:
        for item in items:
            self.flow(str(item), BLOCK_SIZES["bullets"], indent=8)
        self.y += 4

    def block_page_break(self, value: Any) -> None:
        if isinstance(value, dict) and value.get("header") is not None:
            self.header = str(value["header"])
        self.new_page()

    def block_chart(self, spec: dict[str, Any]) -> None:
        size = self.table_size
        self.y += 4
        self.ensure(CHART_HEIGHT + 8)
        top, left = self.y, MARGIN + self.text_width * 0.55
        right = MARGIN + self.text_width
        frame = (left, top, right, top + CHART_HEIGHT)
        self.page.fills.append((frame, (0.97, 0.97, 0.97)))
        values = [float(v) for v in spec.get("values", [])]
        peak = max(values, default=0.0) or 1.0
        bar_w = (right - left - 20) / max(len(values), 1) * 0.5
        for i, value in enumerate(values):
            x0 = left + 10 + i * bar_w * 2
            height = (CHART_HEIGHT - 30) * value / peak
            bar = (x0, top + CHART_HEIGHT - 8 - height, x0 + bar_w, top + CHART_HEIGHT - 8)
            self.page.fills.append((bar, (0.45, 0.6, 0.8)))
        self.page.texts.append(TextOp(left + 4, top + size + 2, str(spec["title"]), size))
        legend_x = right - 4
        for word in reversed([str(w) for w in spec.get("legend", [])]):
            legend_x -= self.measure.width(word, size * 0.9) + 8
            self.page.texts.append(TextOp(legend_x, top + 2 * size + 6, word, size * 0.9))
        self.y = top + CHART_HEIGHT + 8

    def block_table(self, spec: dict[str, Any]) -> None:
        size = self.table_size
        line_h = size * LEADING
        weights = [float(w) for w in spec["widths"]]
        unit = self.text_width / sum(weights)
        xs = [MARGIN]
        for w in weights:
            xs.append(xs[-1] + w * unit)
        vertical = set(spec.get("vertical", []))
        header = spec.get("header")

        def cell_lines(cell: Any, col: int, is_header: bool) -> list[str]:
            width = xs[col + 1] - xs[col] - 2 * CELL_PAD
            if col in vertical and not is_header:
                return [ch for ch in str(cell) if not ch.isspace()]
            items = cell if isinstance(cell, list) else [cell]
            lines: list[str] = []
            for item in items:
                lines.extend(self.measure.wrap(str(item), width, size))
            return [] if lines == [""] else lines

        def draw_row(cells: list[list[str]], is_header: bool) -> None:
            height = max((len(c) for c in cells), default=0) * line_h + 2 * CELL_PAD
            height = max(height, line_h + 2 * CELL_PAD)
            top = self.y
            if is_header:
                self.page.fills.append(((xs[0], top, xs[-1], top + height), HEADER_FILL))
            for col, lines in enumerate(cells):
                for i, text in enumerate(lines):
                    x = xs[col] + CELL_PAD
                    if col in vertical and not is_header:
                        x = (xs[col] + xs[col + 1] - self.measure.width(text, size)) / 2
                    self.page.texts.append(TextOp(x, top + CELL_PAD + i * line_h + size, text, size))
            for x in xs:
                self.page.lines.append((x, top, x, top + height))
            self.page.lines.append((xs[0], top, xs[-1], top))
            self.page.lines.append((xs[0], top + height, xs[-1], top + height))
            self.y = top + height

        header_cells = [cell_lines(c, i, True) for i, c in enumerate(header)] if header else None
        header_h = (max(len(c) for c in header_cells) * line_h + 2 * CELL_PAD) if header_cells else 0.0
        self.y += 4
        self.ensure(header_h + 2 * line_h + 2 * CELL_PAD)
        if header_cells:
            draw_row(header_cells, True)
        for row in spec["rows"]:
            pending = [cell_lines(c, i, False) for i, c in enumerate(row)]
            while True:
                room = int((self.bottom - self.y - 2 * CELL_PAD) // line_h)
                needed = max((len(c) for c in pending), default=1)
                if needed <= room:
                    draw_row(pending, False)
                    break
                if room >= 2:
                    draw_row([c[:room] for c in pending], False)
                    pending = [c[room:] for c in pending]
                self.new_page()
                if header_cells:
                    draw_row(header_cells, True)
        self.y += 6


def write_pdf(pages: list[PageDraft], name: str, size: tuple[float, float], footer: str, font: pymupdf.Font) -> bytes:
    doc = pymupdf.open()
    for number, draft in enumerate(pages, start=1):
        page = doc.new_page(width=size[0], height=size[1])
        page.insert_font(fontname=FONT_NAME, fontbuffer=font.buffer)
        for rect, color in draft.fills:
            page.draw_rect(pymupdf.Rect(rect), color=None, fill=color, width=0)
        for x0, y0, x1, y1 in draft.lines:
            page.draw_line((x0, y0), (x1, y1), color=RULE_COLOR, width=0.6)
        texts = list(draft.texts)
        if draft.header:
            texts.append(TextOp(MARGIN, MARGIN - 8, draft.header, HEADER_SIZE))
        if footer:
            label = footer.format(page=number)
            texts.append(TextOp(size[0] / 2 - 15, size[1] - MARGIN + 12, label, HEADER_SIZE))
        # The real PDFs write text in an order unrelated to reading order: shuffle, deterministically.
        random.Random(f"{name}:{number}").shuffle(texts)
        for op in texts:
            page.insert_text((op.x, op.baseline), op.text, fontname=FONT_NAME, fontsize=op.size)
    doc.subset_fonts()
    doc.set_metadata({})
    data = doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    doc.close()
    return data


def build(source_path: Path, out_dir: Path, font: pymupdf.Font) -> Path:
    source = yaml.safe_load(source_path.read_text(encoding="utf-8"))
    renderer = Renderer(source, font)
    pages = renderer.render()
    target = out_dir / source["file"]
    target.write_bytes(write_pdf(pages, source_path.stem, (renderer.page_w, renderer.page_h), source.get("footer", ""), font))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="source names (file stems) to build; default all")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: corpora/)")
    parser.add_argument("--src", type=Path, default=HERE / "src", help="folder of YAML sources (default: corpora/src/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    font = pymupdf.Font("japan")
    sources = sorted(args.src.glob("*.yaml"))
    if args.only:
        sources = [s for s in sources if s.stem in set(args.only)]
    for source_path in sources:
        target = build(source_path, args.out, font)
        print(f"{source_path.name} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
