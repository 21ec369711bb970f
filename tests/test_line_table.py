"""planindex.line_table: the hashes of MeCab's output lines and the table that finds them, against
their definitions (a polynomial computed in Python, a dict)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planindex import line_table
from planindex.line_table import BASE, LineTable, line_hashes

LINE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=40)
TEXT = st.lists(LINE, min_size=1, max_size=4).map("\n".join)  # MeCab's output for a text: its lines, then EOS
ODD_HASH = st.integers(0, 2**63 - 1).map(lambda n: 2 * n + 1)


def _polynomial(codes: list[int]) -> int:
    """The definition: each code times BASE**(place + 1), mod 2**64, made odd."""
    total = 0
    for code in reversed(codes):  # Horner's rule, from the last code back
        total = (total * BASE + code) % 2**64
    return (total * BASE) % 2**64 | 1


def _hash(line: str) -> int:
    """A line's: its code points and its newline."""
    return _polynomial([ord(ch) for ch in line + "\n"])


def _expected(texts: list[str]) -> list[int]:
    return [_hash(line) for text in texts for line in text.split("\n")]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(TEXT, max_size=8))
def test_each_line_hash_is_the_polynomial_of_its_code_points(texts: list[str]) -> None:
    assert line_hashes(texts).tolist() == _expected(texts)


def test_lines_one_code_point_apart_at_their_start_hash_apart() -> None:
    """Their sums differ by one: made odd without the extra power of BASE, half of such pairs merged."""
    lines = [f"{first}2\t市" for first in range(10)]
    assert len(set(line_hashes(["\n".join(lines)]).tolist())) == len(lines)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6), min_size=1, max_size=20))
def test_a_run_of_numbers_hashes_as_the_line_of_those_code_points(runs: list[list[int]]) -> None:
    """run_hashes, the tokenizer's compounds (runs of term numbers), by the same definition as lines."""
    values = np.array([value for run in runs for value in run], np.int64)
    starts = np.cumsum([0] + [len(run) for run in runs[:-1]])
    assert line_table.run_hashes(values, starts, np.array([len(run) for run in runs])).tolist() == [_polynomial(run) for run in runs]


def test_a_line_longer_than_any_before_grows_the_powers_and_hashes_right() -> None:
    long = "地域づくり協議会" * 700 + "\U00020000"
    assert line_hashes([f"12\t 市\n{long}", "EOS"]).tolist() == [_hash("12\t 市"), _hash(long), _hash("EOS")]


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(TEXT, max_size=8), st.integers(1, 30))
def test_texts_hashed_a_few_at_a_time_hash_as_all_at_once(texts: list[str], block: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(line_table, "BLOCK", block)
        assert line_hashes(texts).tolist() == _expected(texts)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.dictionaries(ODD_HASH, st.integers(0, 2**31 - 1), max_size=50),
    st.lists(ODD_HASH, max_size=20),
    st.integers(0, 7),
    st.integers(0, 60),
)
def test_the_table_finds_what_was_put_and_nothing_else(put: dict[int, int], others: list[int], crowd: int, cut: int) -> None:
    """Hashes that share their high bits (crowd of them per slot) land in one slot and probe on,
    whether they are put in one batch or in two (split at cut)."""
    crowded = {(h >> 40 << 40) | (i << 1) | 1: n for i, (h, n) in enumerate(put.items()) if i < crowd}
    expected = {**put, **crowded}
    table = LineTable()
    hashes, numbers = np.array(list(expected), dtype=np.uint64), np.array(list(expected.values()))
    table.put(hashes[:cut], numbers[:cut])
    table.put(hashes[cut:], numbers[cut:])
    asked = [*expected, *others]
    found = table.find(np.array(asked, dtype=np.uint64)).tolist()
    assert found == [expected.get(h, -1) for h in asked]


def test_a_forgotten_line_is_not_found_and_can_be_put_again() -> None:
    table = LineTable()
    table.put(np.array([7]), np.array([3]))
    table.put(np.array([7]), np.array([-1]))
    assert table.find(np.array([7], dtype=np.uint64)).tolist() == [-1]
    table.put(np.array([7, 9]), np.array([4, -1]))  # forgetting a line never put takes no slot
    assert table.find(np.array([7, 9], dtype=np.uint64)).tolist() == [4, -1]
    assert table.size == 1


def test_a_half_full_table_takes_no_new_line_but_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_table, "SLOT_BITS", 4)
    table = LineTable()
    hashes = [(i << 60) | 1 for i in range(9)]
    table.put(np.array(hashes[:5], dtype=np.uint64), np.arange(5))
    table.put(np.array(hashes[5:], dtype=np.uint64), np.arange(5, 9))  # room for three of the four
    assert table.size == 8
    table.put(np.array([hashes[0]], dtype=np.uint64), np.array([42]))  # a known line is still updated
    found = table.find(np.array(hashes, dtype=np.uint64)).tolist()
    assert found == [42, *range(1, 8), -1]
