"""What kind of passage a label announces: 取り組み状況, 課題, 方向性, 目標, 評価 or 本文."""

from __future__ import annotations

import unicodedata

# Checked in this order: a label naming several things ("目標の達成に向けた推進状況及び自己評価")
# is what it ends up judging, so 評価 wins over 取り組み状況 and 目標.
KIND_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("取り組み状況", ("方針における進捗状況",)),  # progress per policy line: what was done, not a verdict
    ("評価", ("評価", "進捗状況")),
    ("課題", ("課題",)),
    ("方向性", ("方向性", "方針", "今後の取り組み", "今後の取組")),
    ("取り組み状況", ("取り組み状況", "取組状況", "活動内容", "推進状況", "実施内容", "取り組み内容", "取組内容", "の取り組み", "の取組")),
    ("目標", ("目標", "年後の姿", "めざすべき姿", "目指す姿", "将来像")),
)
# 重要業績評価指標 names KPIs, it does not announce an evaluation; 戦略方針 names a part of a strategy
NOT_A_KIND = ("評価指標", "戦略方針")


def kind_of_label(label: str) -> str | None:
    """The passage kind a heading or a table label announces, or None when it announces none."""
    text = unicodedata.normalize("NFKC", label)
    if any(word in text for word in NOT_A_KIND):
        return None
    for kind, words in KIND_KEYWORDS:
        if any(word in text for word in words):
            return kind
    return None
