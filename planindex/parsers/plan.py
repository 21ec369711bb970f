"""総合計画 施策 pages: 施策 title, 10年後の姿 (a 目標) and numbered directions (each a 方向性).

A direction is a short heading (●全ての子どもの育ちを支援します, ②…) followed by its paragraphs;
its title and text make one passage, with the title as the passage's item.
"""

from __future__ import annotations

import re

from planindex.parsers.base import fold

MEASURE = re.compile(r"^施策\s*[0-9０-９]")
STRUCTURE = re.compile(
    r"^(戦略方針|将来像|施策|重点プロジェクト|基本目標\s*[0-9０-９]|第.{1,3}[部章節編]|[0-9０-９]{1,2}[．.]|[（(][0-9０-９]{1,2}[)）])"
)
PURE_LABELS = ("10年後の姿", "めざすべき姿", "施策推進の方向性", "令和5年度の取り組み", "各年度の目標", "各年度の活動内容")


def is_measure_title(text: str, next_heading: str | None) -> bool:
    """施策1-111 …, or an unnumbered title that a 10年後の姿 label follows (a number lost in print)."""
    return bool(MEASURE.match(fold(text))) or (next_heading is not None and "年後の姿" in fold(next_heading))


def is_structural(text: str) -> bool:
    return bool(STRUCTURE.match(fold(text)))


def is_kind_label(text: str) -> bool:
    """A heading that names the kind of what follows (10年後の姿) and is not itself a section."""
    folded = fold(text)
    return any(label in folded for label in PURE_LABELS)


def is_marked_label(text: str) -> bool:
    """A heading set off by a mark (【…】, ■…, ~…~): a label over what follows, not a section.
    Checked after directions, whose titles carry marks of their own (●, ◆, ②)."""
    return fold(text).startswith(("【", "■", "□", "◆", "≪", "《", "~", "〜"))
