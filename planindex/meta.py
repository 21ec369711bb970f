"""Who published a document, what it is and which year it covers, read from its own text."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from planindex.numbers import fiscal_years_in

CITY = re.compile(r"([一-龥ヶ]{1,4}(?:市|町|村|区))")
NOT_CITIES = {"都市", "本市", "全市", "各市", "同市", "当市", "他市", "市町村", "近隣市", "県市", "区市", "特別区", "地区", "市区"}
KIND_WORDS = (  # first match wins: a 総括表 bound after a 進捗管理表 is still a progress report
    ("総合戦略進捗管理表", ("進捗管理表",)),
    ("総括表", ("総括表",)),
    ("政策評価表", ("政策評価表", "施策評価表", "事務事業評価")),
    ("総合計画", ("総合計画", "基本計画", "基本構想")),
    ("市政概要", ("市政概要", "市勢要覧")),
)
PERIOD = re.compile(r"(令和|平成)\s*(\d{1,2}|元)\s*年度?\s*[~〜～\-ー－から]+\s*(令和|平成)\s*(\d{1,2}|元)\s*年度?")


def detect_city(text: str) -> str | None:
    """The municipality named most often: a report names its own city far more than any other.

    A name can be glued to the word before it (第5次清瀬市): every ending of a match of three
    or more characters is counted, so 清瀬市 outcounts 次清瀬市, and ties go to the shorter."""
    counts: Counter[str] = Counter()
    for match in CITY.findall(text):
        endings = {match[i:] for i in range(len(match) - 2)} if len(match) > 3 else {match}
        counts.update(e for e in endings if e not in NOT_CITIES and not e.endswith(("地区", "市区")))
    if not counts:
        return None
    return max(counts, key=lambda name: (counts[name], -len(name)))


def detect_kind(title: str, text: str) -> str:
    for source in (title, text):
        for kind, words in KIND_WORDS:
            if any(word in source for word in words):
                return kind
    return "other"


def detect_years(title: str, text: str) -> tuple[int | None, tuple[int, int] | None]:
    """(fiscal year, plan period): 令和5年度 → 2023; 令和8年度~令和17年度 → (2026, 2035)."""
    folded = unicodedata.normalize("NFKC", title + "\n" + text)
    period_match = PERIOD.search(folded)
    if period_match:
        start, end = fiscal_years_in(period_match.group(0))[:2]
        if end > start:
            return start, (start, end)
    years = fiscal_years_in(unicodedata.normalize("NFKC", title)) or fiscal_years_in(folded[:400])
    return (years[0], None) if years else (None, None)
