"""Snippets mark the original text where its normalized form matches a normalized query term."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from planindex.normalize import normalize
from planindex.snippets import densest_window, marked, match_spans, snippet


def test_terms_found_as_typed_and_through_normalization() -> None:
    assert match_spans("DXの推進", ["dx"]) == [(0, 2)]  # as typed, but for ASCII case
    assert match_spans("ＤＸ化を推進", ["dx"]) == [(0, 2)]  # only through normalization
    text = "三ケ島工業団地周辺地区について"
    ((start, end),) = match_spans(text, [normalize("三ヶ島")])
    assert text[start:end] == "三ケ島"
    assert match_spans("子ども家庭センター", [normalize("こども家庭センター")]) == [(0, 9)]


def test_a_window_around_the_densest_matches() -> None:
    text = "あ" * 200 + "待機児童を解消し" + "い" * 200
    segments = snippet(text, ["待機児童"], width=40)
    assert marked(segments).startswith("…") and "«待機児童»" in marked(segments) and marked(segments).endswith("…")
    assert snippet("短い文", ["無い"]) == [("短い文", False)]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 30)), min_size=1, max_size=30), st.integers(1, 60))
def test_the_densest_window_is_the_one_plain_counting_chooses(gaps_and_lengths: list[tuple[int, int]], width: int) -> None:
    spans, cursor = [], 0
    for gap, length in gaps_and_lengths:  # disjoint and sorted, as match_spans merges them
        spans.append((cursor + gap, cursor + gap + length))
        cursor += gap + length + 1
    expected, best_count = 0, -1
    for start, _ in spans:
        window_start = max(0, start - width // 4)
        count = sum(1 for s, e in spans if s >= window_start and e <= window_start + width)
        if count > best_count:
            expected, best_count = window_start, count
    assert densest_window(spans, width) == expected
