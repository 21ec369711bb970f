"""Recall of `related` on hand-judged cross-city pairs: is the partner among the top k hits of
its city when the source passage asks for related initiatives in other cities?

Pairs name passages by document (file stem) and a verbatim piece of their text, so they hold
across re-extractions. Run: python -m planindex.eval_related [--index DIR] [PAIRS.yaml]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planindex.index import Index
from planindex.related import related

DEFAULT_PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "related_pairs.yaml"
TOP = 3


@dataclass(frozen=True, slots=True)
class RelatedScores:
    recall: float
    found: int
    pairs: int
    misses: list[dict[str, Any]]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def find_passage(index: Index, doc_stem: str, contains: str) -> str | None:
    """The id of the passage of that document whose text holds `contains` (whitespace aside)."""
    docs = [d for d, doc in index.documents.items() if Path(doc["path"]).stem == doc_stem]
    needle = _squash(contains)
    for record in index.store.all_records("passages", docs) if docs else []:
        if needle in _squash(record["text"]):
            return record["id"]
    return None


def evaluate(index: Index, pairs: list[dict[str, Any]], top: int = TOP) -> RelatedScores:
    found, misses = 0, []
    for pair in pairs:
        source = find_passage(index, pair["source"]["doc"], pair["source"]["contains"])
        partner = find_passage(index, pair["partner"]["doc"], pair["partner"]["contains"])
        hits: list[str] = []
        if source and partner:
            result = related(index, source, other_cities=True, k=top)
            hits = [h.hit.id for _, group in result.groups for h in group]
        if partner and partner in hits:
            found += 1
        else:
            misses.append({"id": pair["id"], "topic": pair.get("topic", ""), "source": source, "partner": partner, "got": hits})
    return RelatedScores(found / max(len(pairs), 1), found, len(pairs), misses)


def main(argv: list[str] | None = None) -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the pairs missed")
    args = parser.parse_args(argv)
    index = Index.open(args.index)
    scores = evaluate(index, yaml.safe_load(args.pairs.read_text(encoding="utf-8")))
    if args.verbose:
        for miss in scores.misses:
            print("miss", miss["id"], miss["topic"], miss["partner"], "got", miss["got"])
    print(f"related: partner in the top {TOP} of its city for {scores.found}/{scores.pairs} cross-city pairs (recall {scores.recall:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
