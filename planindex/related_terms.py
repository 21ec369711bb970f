"""The related-words table (planindex/data/related_terms.tsv, or the file PLANINDEX_RELATED_TERMS names).

Two documents often name one field with neighbouring words: a 商店街 passage speaks to a 小売業 figure,
one city's Facebook is another's SNS. The table holds that general vocabulary outside the code, so a
city's planners can read and extend it; linking and related initiatives read it, search never does.
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files
from pathlib import Path

from planindex.normalize import normalize
from planindex.tokens import analyze

DEFAULT_FILE = files("planindex") / "data" / "related_terms.tsv"


def parse(text: str, name: str = "related_terms.tsv") -> list[tuple[str, ...]]:
    """The groups of a table, each word normalized."""
    groups = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        words = tuple(dict.fromkeys(normalize(word.strip()) for word in line.split("\t") if word.strip()))
        if len(words) < 2:
            raise ValueError(f"{name} line {number}: a group needs two words or more")
        groups.append(words)
    return groups


@cache
def related_groups() -> list[tuple[str, ...]]:
    """The groups of the table in use, parsed once per process."""
    override = os.environ.get("PLANINDEX_RELATED_TERMS")
    if override is not None:
        path = Path(override)
        return parse(path.read_text(encoding="utf-8"), path.name)
    return parse(DEFAULT_FILE.read_text(encoding="utf-8"))


def index_term(word: str) -> str | None:
    """The one index term a table word stands for: itself, normalized, or the base form of a word
    the tokenizer reads as a verb (見守り → 見守る); None for a word that is several terms."""
    terms, _ = analyze(word)
    normalized = normalize(word)
    return normalized if normalized in terms else terms[0] if len(terms) == 1 else None


@cache
def related_terms() -> dict[str, tuple[str, ...]]:
    """Index term → the other terms of every group it is in, sorted (a fixed order for callers
    that count them): linking and related initiatives compare index terms."""
    related: dict[str, set[str]] = {}
    for group in related_groups():
        terms = [term for word in group if (term := index_term(word))]
        for term in terms:
            related.setdefault(term, set()).update(other for other in terms if other != term)
    return {term: tuple(sorted(others)) for term, others in related.items()}
