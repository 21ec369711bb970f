"""総括表 cells against ground truth parsed from seed 001 (tests/data/truth), not from the generator."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from planindex.extract import extract
from planindex.records import Extraction, Passage
from tests.conftest import PDFS

TRUTH = Path(__file__).parent / "data" / "truth" / "tokorozawa_r5_summary_cells.json"


def squash(text: str) -> str:
    """Whitespace normalization for comparison: NFKC, no whitespace at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def senryaku() -> Extraction:
    return extract(PDFS["senryaku"])


def _table_key(section: tuple[str, ...]) -> str:
    """'重点プロジェクト(1)「COOL…」の推進' → '重点プロジェクト(1)'."""
    match = re.match(r"(重点プロジェクト|戦略方針)\s*([(（][0-9０-９][)）])", unicodedata.normalize("NFKC", section[0]) if section else "")
    return squash(match.group(1) + match.group(2)) if match else ""


def _cells(extraction: Extraction) -> dict[tuple[str, str, str], Passage]:
    cells: dict[tuple[str, str, str], Passage] = {}
    for p in extraction.passages:
        key = (_table_key(p.section), p.item, p.kind)
        if key[0] and key not in cells:
            cells[key] = p
    return cells


def test_every_cell_of_the_eight_tables_with_item_kind_and_section(senryaku: Extraction) -> None:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    cells = _cells(senryaku)
    found = exact = 0
    problems = []
    for cell in truth:
        key = (squash(cell["table"]), cell["item"], cell["kind"])
        passage = cells.get(key)
        if passage is None:
            problems.append(f"missing {key}")
            continue
        found += 1
        if squash(passage.text) == squash("".join(cell["items"])):
            exact += 1
        else:
            problems.append(f"text differs {key}: {passage.text[:60]!r}")
        if cell["item"]:
            assert passage.section[-1] == cell["item"]
    print(f"総括表 cells found with item, kind, section: {found}/{len(truth)}; text exact: {exact}/{len(truth)}")
    assert found == len(truth), "\n".join(problems)
    assert exact / len(truth) >= 0.98, "\n".join(problems)


def test_bullets_stay_separate_sentences_and_wrapped_lines_join_without_spaces(senryaku: Extraction) -> None:
    cell = next(p for p in senryaku.passages if p.item == "啓発" and p.kind == "取り組み状況")
    lines = cell.text.split("\n")
    assert len(lines) == 3 and all(line.startswith("・") for line in lines)
    assert "市民等に対する構想の周知を図っている。" in lines[0]


def test_a_row_continued_on_the_next_page_is_one_passage(senryaku: Extraction) -> None:
    multi = [p for p in senryaku.passages if len(p.pages) > 1]
    assert multi, "the corpus has rows that run over a page break"
    for p in multi:
        assert p.pages == tuple(sorted(p.pages)) and p.pages[-1] == p.pages[0] + 1
