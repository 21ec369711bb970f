"""Recall of `related` on hand-judged cross-city pairs: is the partner among the top k hits of
its city when the source passage asks for related initiatives in other cities?

Pairs name passages by document (file stem) and a verbatim piece of their text, so they hold
across re-extractions. Run: python -m planindex.eval_related [--index DIR] [-v] [--no-related-words]
[PAIRS.yaml]. Besides all pairs it prints the odd- and even-numbered halves: a change tuned on one half
that does not carry to the other is fitted to these pairs, not to the task.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planindex.eval_run import read_yaml, run
from planindex.index import Index
from planindex.related import related

DEFAULT_PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "related_pairs.yaml"
TOP = 3


DEPTH = 50  # hits per city looked at to tell how far a missed partner ranks


@dataclass(frozen=True, slots=True)
class RelatedScores:
    recall: float
    found: int
    pairs: int
    misses: list[dict[str, Any]]
    found_ids: list[str]

    def half(self, parity: int) -> tuple[int, int]:
        """(found, pairs) among the pairs whose number is odd (parity 1) or even (0)."""
        ids = [m["id"] for m in self.misses] + self.found_ids
        numbered = [i for i in ids if int(re.sub(r"\D", "", i) or 0) % 2 == parity]
        return sum(i in self.found_ids for i in numbered), len(numbered)


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


def evaluate(index: Index, pairs: list[dict[str, Any]], top: int = TOP, expand: bool = True) -> RelatedScores:
    """Recall of the pairs at `top`; each miss with the rank its partner got (None: below DEPTH or
    not found) and the hits that outranked it. expand=False leaves out the related-words table."""
    found, misses = [], []
    for pair in pairs:
        source = find_passage(index, pair["source"]["doc"], pair["source"]["contains"])
        partner = find_passage(index, pair["partner"]["doc"], pair["partner"]["contains"])
        hits: list[str] = []
        if source and partner:
            result = related(index, source, other_cities=True, k=max(top, DEPTH), expand=expand)
            hits = [h.hit.id for _, group in result.groups for h in group]
        rank = hits.index(partner) + 1 if partner in hits else None
        if rank is not None and rank <= top:
            found.append(pair["id"])
        else:
            miss = {"id": pair["id"], "topic": pair.get("topic", ""), "source": source, "partner": partner}
            misses.append({**miss, "rank": rank, "got": hits[:top]})
    return RelatedScores(len(found) / max(len(pairs), 1), len(found), len(pairs), misses, found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the pairs missed, with the texts")
    parser.add_argument("--no-related-words", action="store_true", help="leave out planindex/data/related_terms.tsv")
    args = parser.parse_args(argv)
    index = Index.open(args.index)
    scores = evaluate(index, read_yaml(args.pairs), expand=not args.no_related_words)
    if args.verbose:
        for miss in scores.misses:
            print(f"miss {miss['id']} {miss['topic']}: partner rank {miss['rank'] or f'> {DEPTH}'}")
            for label, pid in [("source", miss["source"]), ("partner", miss["partner"])] + [("above", g) for g in miss["got"]]:
                print(f"  {label:8}{pid}  {_text(index, pid)[:100]}")
    (odd, n_odd), (even, n_even) = scores.half(1), scores.half(0)
    print(
        f"related: partner in the top {TOP} of its city for {scores.found}/{scores.pairs} cross-city pairs "
        f"(recall {scores.recall:.3f}; odd pairs {odd}/{n_odd}, even pairs {even}/{n_even})"
    )
    return 0


def _text(index: Index, passage_id: str | None) -> str:
    found = index.store.record_by_id("passages", passage_id) if passage_id else None
    return _squash(found[1]["text"]) if found else "(no passage holds the pair's text)"


if __name__ == "__main__":
    sys.exit(run(main))
