"""The related-words table (planindex/data/related_terms.tsv, or the file PLANINDEX_RELATED_TERMS names).

Linking matches a passage to a KPI by the words of the KPI's name; a planner also sees a 商店街 passage
as speaking to a 小売業 figure. The table holds that general vocabulary, outside the code, so a city's
planners can read and extend it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from functools import cache
from importlib.resources import files
from pathlib import Path

from planindex.normalize import normalize

DEFAULT_FILE = files("planindex") / "data" / "related_terms.tsv"


def parse(text: str, name: str = "related_terms.tsv") -> dict[str, frozenset[str]]:
    """Word → the other words of every group it is in."""
    related: dict[str, set[str]] = defaultdict(set)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        words = [normalize(word.strip()) for word in line.split("\t") if word.strip()]
        if len(words) < 2 or any(len(word) < 2 for word in words):
            raise ValueError(f"{name} line {number}: a group needs two words or more, each of two characters or more")
        for word in words:
            related[word].update(other for other in words if other != word)
    return {word: frozenset(others) for word, others in related.items()}


@cache
def related_terms() -> dict[str, frozenset[str]]:
    """The table in use, parsed once per process."""
    override = os.environ.get("PLANINDEX_RELATED_TERMS")
    if override is not None:
        path = Path(override)
        return parse(path.read_text(encoding="utf-8"), path.name)
    return parse(DEFAULT_FILE.read_text(encoding="utf-8"))
