"""Snippets mark the original text where its normalized form matches a normalized query term."""

from __future__ import annotations

from planindex.normalize import normalize
from planindex.snippets import marked, match_spans, snippet


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
