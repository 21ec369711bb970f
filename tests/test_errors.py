"""Issue 2's acceptance: every unusable input gives a one-line error naming the file and the problem,
a non-zero exit code, no traceback, and leaves an existing index exactly as it was.

Each case goes through the real command line (`python -m planindex.cli ingest PATH --index DIR`),
in a subprocess, as a user would meet it; the library's own exception for each case is checked too,
since the CLI is only the place where those become messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planindex import errors
from planindex.extract import extract
from tests.conftest import PDFS
from tests.support import assert_one_line_error, index_state, invoke, run_cli

# case → (the library's exception, words the message must hold to name the problem)
CASES: dict[str, tuple[type[errors.InputError], tuple[str, ...]]] = {
    "encrypted": (errors.EncryptedPdf, ("encrypted", "password")),
    "truncated": (errors.CorruptPdf, ("damaged",)),
    "text_named_pdf": (errors.NotAPdf, ("not a PDF",)),
    "empty": (errors.NotAPdf, ("empty",)),
    "image_only": (errors.NoTextLayer, ("no page has a text layer", "OCR")),
    "zero_pages": (errors.EmptyPdf, ("no pages",)),
    "missing": (errors.NotFound, ("no such file",)),
    "folder": (errors.NotAPdf, ("folder",)),
}


@pytest.fixture(scope="module")
def unusable(bad_inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shared bad inputs, plus a path that does not exist and a folder named like a PDF."""
    folder = tmp_path_factory.mktemp("unusable")
    (folder / "folder.pdf").mkdir()
    return {**bad_inputs, "missing": folder / "missing.pdf", "folder": folder / "folder.pdf"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_library_raises_the_input_error_of_each_case(case: str, unusable: dict[str, Path]) -> None:
    expected, _ = CASES[case]
    with pytest.raises(expected) as raised:
        extract(unusable[case])
    assert raised.value.path == str(unusable[case])


@pytest.mark.parametrize("case", sorted(CASES))
def test_ingest_reports_one_line_and_leaves_the_index_as_it_was(case: str, unusable: dict[str, Path], index_copy: Path) -> None:
    """Both outputs: one line on stderr by default (in a subprocess, as a user meets it); with
    --json, the failure in the report on stdout (in this process: the subprocess already showed
    that nothing escapes as a traceback).

    The truncated PDF (its first third) is the case to watch: MuPDF repairs it silently and opens
    all five pages, but not one glyph is left. planindex must call it damaged, not claim the file is
    a scan that needs OCR: the user's fix is to download it again."""
    before = index_state(index_copy)
    path = unusable[case]
    assert_one_line_error(run_cli("ingest", path, "--index", index_copy), str(path), *CASES[case][1])

    result = invoke("ingest", path, "--index", index_copy, "--json")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = json.loads(result.stdout)
    assert report["failed"] == 1
    [event] = report["events"]
    assert event["status"] == "failed" and event["path"] == str(path)
    assert all(word in event["message"] for word in CASES[case][1])
    assert index_state(index_copy) == before


def test_a_pdf_cut_after_its_first_pages_is_indexed_with_a_warning_naming_the_lost_pages(tmp_path: Path) -> None:
    """Decision: a PDF that MuPDF repairs and that still has text on some pages is indexed (what is
    left is real text, worth finding), with one warning that says the file is damaged and which
    pages could not be read, never that those pages are scans. The 政策評価表 cut at two thirds keeps
    pages 1-2 and loses 3-5."""
    data = PDFS["hyoka"].read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = run_cli("ingest", cut, "--index", tmp_path / "index")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, warnings
    assert str(cut) in warnings[0] and "damaged" in warnings[0] and "3" in warnings[0] and "5" in warnings[0]
    assert "scan" not in warnings[0] and "OCR" not in warnings[0]
    found = run_cli("search", "政策評価", "--index", tmp_path / "index", "--json")
    assert {hit["page"] for hit in json.loads(found.stdout)["hits"]} <= {1, 2}


def test_a_good_file_beside_a_bad_one_still_lands_and_the_exit_code_says_one_failed(unusable: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "index"
    result = run_cli("ingest", unusable["text_named_pdf"], PDFS["hyoka"], "--index", folder, "--json")
    assert result.returncode == 1
    statuses = {e["path"]: e["status"] for e in json.loads(result.stdout)["events"]}
    assert statuses == {str(unusable["text_named_pdf"]): "failed", str(PDFS["hyoka"]): "added"}
    assert [d["title"] for d in index_state(folder).docs["documents"]] == ["平成30年度 政策評価表"]


def test_a_failed_first_ingest_leaves_no_index_behind(unusable: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "never"
    assert_one_line_error(run_cli("ingest", unusable["encrypted"], "--index", folder), "encrypted")
    assert_one_line_error(run_cli("docs", "--index", folder), "no index", "planindex ingest")
    assert_one_line_error(run_cli("search", "待機児童", "--index", folder), "no index")


def test_a_rebuild_whose_every_input_fails_keeps_the_old_index(unusable: dict[str, Path], index_copy: Path) -> None:
    before = index_state(index_copy)
    assert_one_line_error(run_cli("ingest", "--rebuild", unusable["empty"], "--index", index_copy), "empty")
    assert index_state(index_copy) == before
