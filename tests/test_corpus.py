"""The bundled corpus: real PDFs with a Japanese text layer, as hard to read as the originals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from tests.conftest import CORPUS, PDFS, ROOT


@pytest.mark.parametrize("name", sorted(PDFS))
def test_each_pdf_has_a_japanese_text_layer_and_an_embedded_subset_font(name: str) -> None:
    doc = pymupdf.open(PDFS[name])
    assert doc.page_count >= 5
    text = "".join(page.get_text() for page in doc)
    japanese = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    assert japanese > 2000
    fonts = {f[3] for page in doc for f in page.get_fonts()}
    assert fonts and all("+" in f for f in fonts), fonts  # SUBSET+Name: embedded subsets
    assert not any(doc.metadata.get(key) for key in ("title", "author", "subject", "keywords"))


def test_the_progress_sheet_is_landscape_with_ruled_tables_and_running_footers() -> None:
    doc = pymupdf.open(PDFS["senryaku"])
    page = doc[0]
    assert page.rect.width > page.rect.height
    assert len([d for d in page.get_drawings() if d["items"][0][0] == "l"]) > 20
    assert "1 ページ" in page.get_text()
    assert "2 ページ" in doc[1].get_text()


def test_plain_get_text_order_of_a_summary_page_is_not_its_reading_order() -> None:
    """The 総括表 cells are written to the content stream shuffled: only geometry orders them."""
    doc = pymupdf.open(PDFS["senryaku"])
    page = next(p for p in doc if "今後の方向性" in p.get_text())
    plain = page.get_text()
    lines = [line for line in plain.splitlines() if line.strip()]
    header = ["項目", "取り組み状況", "現状の課題", "今後の方向性"]
    positions = [lines.index(h) for h in header]
    assert positions != sorted(positions) or positions[-1] - positions[0] != 3
    sorted_text = page.get_text(sort=True)
    assert sorted_text.index("取り組み状況") < sorted_text.index("現状の課題") < sorted_text.index("今後の方向性")
    # vertical item labels: one glyph per line
    assert "啓" in lines and "発" in lines


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    for run in ("a", "b"):
        subprocess.run([sys.executable, str(CORPUS / "build.py"), "--out", str(tmp_path / run)], check=True, capture_output=True)
    for name in PDFS.values():
        first, second = pymupdf.open(tmp_path / "a" / name.name), pymupdf.open(tmp_path / "b" / name.name)
        assert [p.get_text("rawdict") for p in first] == [p.get_text("rawdict") for p in second]
        assert (tmp_path / "a" / name.name).read_bytes() == (tmp_path / "b" / name.name).read_bytes()


def test_the_committed_pdfs_are_what_the_sources_render(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    subprocess.run([sys.executable, str(CORPUS / "build.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in PDFS.values():
        rendered = [p.get_text(sort=True) for p in pymupdf.open(tmp_path / name.name)]
        committed = [p.get_text(sort=True) for p in pymupdf.open(name)]
        assert rendered == committed, f"{name.name} is stale: run python corpora/build.py"


def test_sources_are_data_not_code() -> None:
    assert sorted(p.suffix for p in (ROOT / "corpora" / "src").iterdir()) == [".yaml"] * 4
