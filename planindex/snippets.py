"""A short window of a passage around its matches, as (text, matched) segments, so that the
terminal can bold them and JSON can mark them with « »."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from planindex.normalize import normalize_with_offsets

Segment = tuple[str, bool]
WIDTH = 110


def _find_all(text: str, terms: list[str], offsets: list[int] | None = None) -> list[tuple[int, int]]:
    spans = []
    for term in terms:
        start = text.find(term)
        while start >= 0 and term:
            end = start + len(term)
            spans.append((offsets[start], offsets[end - 1] + 1) if offsets else (start, end))
            start = text.find(term, end)
    return spans


def match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Spans of the original text whose normalized form equals one of the normalized terms.

    Most hits hold a term as typed, so the text is searched as it is first; normalizing it with
    offsets (a millisecond a passage, most of a query's time) is the fallback."""
    lowered = text.lower()
    spans = _find_all(lowered, terms) if len(lowered) == len(text) else []
    if not spans:
        norm, offsets = normalize_with_offsets(text)
        spans = _find_all(norm, terms, offsets)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def densest_window(spans: list[tuple[int, int]], width: int) -> int:
    """Start of the window of `width` that holds the most of the spans (sorted, disjoint), each
    window starting a little before one of them; the first such window on a tie. Disjoint sorted
    spans have sorted ends too, so two bisections count a window."""
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    best_start, best_count = 0, -1
    for start in starts:
        window_start = max(0, start - width // 4)
        count = bisect_right(ends, window_start + width) - bisect_left(starts, window_start)
        if count > best_count:
            best_start, best_count = window_start, count
    return best_start


def snippet(text: str, terms: list[str], width: int = WIDTH) -> list[Segment]:
    flat = text.replace("\n", " ")
    spans = match_spans(flat, terms)
    if not spans:
        return [(flat[:width] + ("…" if len(flat) > width else ""), False)]
    best_start = densest_window(spans, width)
    window_end = min(len(flat), best_start + width)
    segments: list[Segment] = [("…", False)] if best_start > 0 else []
    cursor = best_start
    for start, end in spans:
        if end <= best_start or start >= window_end:
            continue
        start, end = max(start, cursor), min(end, window_end)
        if start > cursor:
            segments.append((flat[cursor:start], False))
        segments.append((flat[start:end], True))
        cursor = end
    if cursor < window_end:
        segments.append((flat[cursor:window_end], False))
    if window_end < len(flat):
        segments.append(("…", False))
    return segments


def marked(segments: list[Segment]) -> str:
    """Segments as one string, matches wrapped in « »."""
    return "".join(f"«{text}»" if hit else text for text, hit in segments)
