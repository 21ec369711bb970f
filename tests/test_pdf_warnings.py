"""Bad pages are reported one by one, with their page number, and the rest is still extracted.

The PDFs are made here with PyMuPDF: a page that is only a picture (a scan without OCR), and a
page whose font has lost its ToUnicode map, so that its glyphs cannot be read as characters.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from planindex.extract import extract
from planindex.records import Extraction

FONT = pymupdf.Font("japan")


def _text_page(doc: pymupdf.Document, number: int, font: bytes = FONT.buffer) -> pymupdf.Page:
    page = doc.new_page()
    page.insert_font(fontname="F0", fontbuffer=font)
    page.insert_text((72, 80), f"第{number}章 読める頁", fontname="F0", fontsize=16)
    page.insert_text((72, 120), f"この頁{number}の本文は、文字として正しく読み出せる段落です。", fontname="F0", fontsize=10)
    return page


def _scan_page(doc: pymupdf.Document) -> None:
    page = doc.new_page()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 300, 200), False)
    pixmap.set_rect(pixmap.irect, (180, 180, 180))
    page.insert_image(pymupdf.Rect(72, 72, 522, 372), pixmap=pixmap)


def _three_pages(path: Path, middle: str) -> Path:
    """Pages 1 and 3 readable; page 2 a scan, or text in a font without a ToUnicode map."""
    doc = pymupdf.open()
    _text_page(doc, 1)
    if middle == "scan":
        _scan_page(doc)
    else:
        # A font object of its own (the same font file, padded, is embedded apart), whose
        # ToUnicode map is then removed: its Identity-H glyph ids map to no character.
        _text_page(doc, 2, FONT.buffer + bytes(4))
        doc.xref_set_key(doc.get_page_fonts(1)[0][0], "ToUnicode", "null")
    _text_page(doc, 3)
    doc.save(path)
    doc.close()
    return path


def _pages_with_passages(extraction: Extraction) -> set[int]:
    return {p.page for p in extraction.passages}


@pytest.mark.parametrize(
    ("middle", "says"),
    [("scan", "no text layer"), ("no-tounicode", "unreadable text")],
)
def test_a_bad_page_is_a_warning_with_its_number_and_the_rest_is_extracted(tmp_path: Path, middle: str, says: str) -> None:
    extraction = extract(_three_pages(tmp_path / f"{middle}.pdf", middle))
    assert len(extraction.warnings) == 1, extraction.warnings
    assert "page 2 " in extraction.warnings[0] and says in extraction.warnings[0]
    assert _pages_with_passages(extraction) == {1, 3}
    text = "".join(p.text for p in extraction.passages)
    assert "この頁1の本文" in text and "この頁3の本文" in text
    assert "\ufffd" not in text


def test_the_unreadable_page_really_is_garbage_to_mupdf(tmp_path: Path) -> None:
    """The premise of the test above: without ToUnicode the glyphs decode to nothing readable."""
    path = _three_pages(tmp_path / "garbage.pdf", "no-tounicode")
    with pymupdf.open(path) as doc:
        codes = [c[0] for span in doc[1].get_texttrace() for c in span["chars"]]
        readable = [c[0] for span in doc[0].get_texttrace() for c in span["chars"]]
    assert codes and all(code == 0xFFFD for code in codes)
    assert 0xFFFD not in readable


def test_a_symbol_font_bullet_is_not_garbage(tmp_path: Path) -> None:
    """Wingdings bullets extract as private-use characters (U+F0D8 ➢); they read as bullets and
    do not make a page unreadable."""
    from planindex.pdf import TextRun, _symbol_glyphs

    run = _symbol_glyphs(TextRun("\uf0d8営業職員が主軸の社", 10, 10, 200, 24, 14.0))
    assert run.text == "・営業職員が主軸の社"
