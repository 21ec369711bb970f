"""Real published PDFs (../shared/realpdfs, not in the repository): they extract without an error,
with readable Japanese, in reading order, and keep a survey option beside its count.

Every test here skips, saying why, where the shared folder is absent.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from bisect import bisect_left
from functools import cache

import pytest

from planindex.extract import extract
from planindex.records import Extraction
from tests.conftest import shared_or_skip

REAL_PDFS = (
    "fukui-vision_R1_kekka.pdf",
    "fukui-vision_R5_kekka.pdf",  # re-saved with subset CID fonts: the ToUnicode test
    "fukui-vision_R7_kekka.pdf",
    "rag_project_r5_doukou.pdf",
    "rag_project_01.pdf",
)
FUKUI = tuple(name for name in REAL_PDFS if name.startswith("fukui"))
GOLD = "fukui-vision_questionnaire_timeseries.csv"


@cache
def _extraction(name: str) -> Extraction:
    """One extraction per PDF for the whole module: the Fukui ones take about a second each."""
    return extract(shared_or_skip("realpdfs", name))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _is_garbage(ch: str) -> bool:
    """U+FFFD, private-use or control characters: what a broken font map extracts as."""
    return ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or (unicodedata.category(ch) == "Cc" and ch not in "\n\t")


@pytest.mark.parametrize("name", REAL_PDFS)
def test_extracts_readable_japanese(name: str) -> None:
    extraction = _extraction(name)
    text = "".join(p.text for p in extraction.passages)
    garbage = sum(map(_is_garbage, text))
    japanese = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    print(f"{name}: {len(extraction.passages)} passages, {len(text)} chars, {garbage} garbage, warnings {extraction.warnings}")
    assert extraction.passages
    assert garbage <= len(text) / 10_000, f"{garbage} U+FFFD/private-use/control chars in {name}"
    assert japanese >= len(text) / 3, "the text should be mostly Japanese"
    assert not extraction.warnings


# --- reading order against the pdftotext references ------------------------------------------


def _reference_pages(name: str) -> list[list[str]]:
    """Distinctive lines of each page of the pdftotext -layout rendering, top to bottom.

    `-layout` keeps the pieces of a line apart with runs of spaces (問11 and its question, a label
    and its count). A piece is kept when it is long enough to be prose (charts print short labels
    and figures), occurs once on its page, and is the only long piece of its line: two of them
    are two columns side by side, which say nothing about the order within a column.
    """
    reference = shared_or_skip("realpdfs", name.replace(".pdf", ".pdftotext.txt")).read_text(encoding="utf-8")
    pages = []
    for page in reference.split("\f"):
        whole = _squash(page)
        kept = []
        for line in page.splitlines():
            pieces = [_squash(s) for s in re.split(r"\s{3,}", line)]
            long = [s for s in pieces if len(s) >= 12 and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", s)]
            if len(long) == 1 and whole.count(long[0]) == 1:
                kept.append(long[0])
        pages.append(kept)
    return pages


def _page_text(extraction: Extraction, number: int) -> str:
    """Our text of a page in reading order: passages, each preceded by the headings it opens."""
    parts: list[str] = []
    section: tuple[str, ...] = ()
    for p in extraction.passages:
        if p.page == number:
            parts += [heading for i, heading in enumerate(p.section) if section[i : i + 1] != (heading,)]
            parts.append(p.text)
        section = p.section
    return _squash("".join(parts))


def _longest_increasing(values: list[int]) -> int:
    tails: list[int] = []
    for v in values:
        i = bisect_left(tails, v)
        tails[i : i + 1] = [v]
    return len(tails)


@pytest.mark.parametrize("name", FUKUI)
def test_reading_order_follows_the_reference(name: str) -> None:
    """On each page the reference's distinctive lines are found in our text, in the same order."""
    extraction = _extraction(name)
    found = in_order = total = 0
    disordered = []
    for number, lines in enumerate(_reference_pages(name), start=1):
        ours = _page_text(extraction, number)
        hits = [pos for pos in (ours.find(line) for line in lines) if pos >= 0]
        ordered = _longest_increasing(hits)
        total, found, in_order = total + len(lines), found + len(hits), in_order + ordered
        if ordered < len(hits):
            disordered.append(number)
    print(f"{name}: {found}/{total} reference lines found, {in_order}/{found} in order; pages out of order: {disordered}")
    assert found >= 0.95 * total
    assert in_order >= 0.98 * found


# --- survey options beside their counts --------------------------------------------------------


def _gold_rows() -> list[dict[str, str]]:
    with shared_or_skip("realpdfs", GOLD).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _option_with_count(option: str, count: str) -> re.Pattern[str]:
    """The option label then its count, as the PDFs print them: `暮らしてきてよかった（1156）`,
    `0 点（24）` or a label cell and a count cell of one row (`１．はい 679`). The label must not
    be the tail of a longer one (県外に移り住みたい in どちらかといえば県外に…, 0点 in 10点)."""
    label = r"\s*".join(map(re.escape, _squash(option)))
    number = r",?".join(count)
    return re.compile(rf"(?<![^\W_]){label}\s*[(（]?\s*{number}\s*[)）]?(?![\d.%])")


def test_fukui_options_sit_with_their_counts() -> None:
    """The gold rows name the PDF each value was read from; only the rows of the PDFs in the shared
    folder (R1, R5, R7 of R1..R7) can be checked, and those are the share printed and asserted."""
    rows = _gold_rows()
    present = [row for row in rows if f"fukui-vision_{row['source_pdf_url'].rsplit('/', 1)[-1]}" in FUKUI]
    texts = {name: [unicodedata.normalize("NFKC", p.text) for p in _extraction(name).passages] for name in FUKUI}
    missed = []
    for row in present:
        name = f"fukui-vision_{row['source_pdf_url'].rsplit('/', 1)[-1]}"
        pattern = _option_with_count(row["option"], row["count"])
        if not any(pattern.search(text) for text in texts[name]):
            missed.append(f"{name} {row['question_no']} {row['option']} ({row['count']})")
    share = 1 - len(missed) / len(present)
    print(
        f"option and count in one passage: {len(present) - len(missed)}/{len(present)} = {share:.1%} "
        f"({len(rows) - len(present)} of the {len(rows)} gold rows come from PDFs not in the folder)"
    )
    print("missed:", *missed, sep="\n  ")
    assert share >= 0.95
