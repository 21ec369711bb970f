"""Shared fixtures: the bundled corpus, an index built from it once per run, and bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pymupdf
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpora"
SHARED = ROOT.parent / "shared"
PDFS = {
    "senryaku": CORPUS / "tokorozawa_r5_senryaku.pdf",
    "hyoka": CORPUS / "tokorozawa_h30_seisaku_hyoka.pdf",
    "gaiyo": CORPUS / "tokorozawa_shisei_gaiyo.pdf",
    "kiyose": CORPUS / "kiyose_5ji_sogo_keikaku.pdf",
}


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the four corpus PDFs, built once; tests must not modify it."""
    from planindex.ingest import ingest

    folder = tmp_path_factory.mktemp("index") / "index"
    report = ingest([CORPUS], folder)
    assert not report.failed, report.failed
    return folder


@pytest.fixture()
def index_copy(corpus_index: Path, tmp_path: Path) -> Path:
    """A private copy of the corpus index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns("cache"))
    return target


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file for each way a PDF can be unusable, made here rather than committed."""
    folder = tmp_path_factory.mktemp("bad")
    source = PDFS["hyoka"]

    encrypted = folder / "encrypted.pdf"
    doc = pymupdf.open(source)
    doc.save(encrypted, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
    doc.close()

    truncated = folder / "truncated.pdf"
    data = source.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])

    text_named_pdf = folder / "notes.pdf"
    text_named_pdf.write_text("これはPDFではありません。\n", encoding="utf-8")

    empty = folder / "empty.pdf"
    empty.write_bytes(b"")

    image_only = folder / "scan.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pixmap.set_rect(pixmap.irect, (200, 200, 200))
    page.insert_image(pymupdf.Rect(50, 50, 450, 250), pixmap=pixmap)
    doc.save(image_only)
    doc.close()

    zero_pages = folder / "zero_pages.pdf"
    zero_pages.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return {
        "encrypted": encrypted,
        "truncated": truncated,
        "text_named_pdf": text_named_pdf,
        "empty": empty,
        "image_only": image_only,
        "zero_pages": zero_pages,
    }


def shared_or_skip(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared folder beside the repository holds it")
    return path
