"""Precision@1 and recall@3 of the KPI links against hand-judged gold links.

For each judged item (a 総括表 row such as 農業 under 戦略方針(2)), its KPIs are ranked by the
best link score over the item's passages. P@1: the share of items whose first KPI is a gold
one. R@3: gold KPIs found in the item's first three, over min(3, gold KPIs) summed over items.
Items judged to have no KPI must get no link at all.

Run: python -m planindex.eval_links [--index DIR] [GOLD.yaml]
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planindex.eval_run import read_yaml, run
from planindex.index import default_folder, expected_manifest
from planindex.linking import ranked_kpis, section_key
from planindex.store import Store, record_data

DEFAULT_GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "gold_links.yaml"


@dataclass(frozen=True, slots=True)
class LinkScores:
    precision_at_1: float
    recall_at_3: float
    items: int
    pairs: int
    unlinked_ok: int
    unlinked_items: int
    details: list[dict[str, Any]]


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def item_rankings(store: Store) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(section key, item) → [(KPI name, score)] best first."""
    kpi_names = {row[0]: record_data(row[1])["name"] for row in store.db.execute("SELECT id, data FROM kpis")}
    links: dict[tuple[str, str], list[tuple[str, str, float, str]]] = {}
    for pid, data in store.db.execute("SELECT id, data FROM passages"):
        passage = record_data(data)
        if passage["item"]:
            key = (section_key(passage["section"]), passage["item"])
            links.setdefault(key, []).extend(store.links_of("passage_id", pid))
    return {key: [(kpi_names[k], s) for k, s in ranked_kpis(rows)] for key, rows in links.items()}


def evaluate(store: Store, gold: list[dict[str, Any]]) -> LinkScores:
    rankings = item_rankings(store)
    hits1 = found3 = possible3 = items = unlinked_ok = unlinked = 0
    details = []
    for entry in gold:
        ranking = rankings.get((entry["section"], entry["item"]), [])
        names = [_fold(name) for name, _ in ranking]
        if entry.get("none"):
            unlinked += 1
            unlinked_ok += not ranking
            details.append({**entry, "got": ranking[:3]})
            continue
        wanted = {_fold(k) for k in entry["kpis"]}
        items += 1
        hits1 += bool(names) and names[0] in wanted
        found3 += len(wanted & set(names[:3]))
        possible3 += min(3, len(wanted))
        details.append({**entry, "got": ranking[:3]})
    pairs = sum(len(e.get("kpis", [])) for e in gold)
    return LinkScores(hits1 / max(items, 1), found3 / max(possible3, 1), items, pairs, unlinked_ok, unlinked, details)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="print each item's top three KPIs")
    args = parser.parse_args(argv)
    store = Store.open(args.index or default_folder(), expected_manifest())
    scores = evaluate(store, read_yaml(args.gold))
    if args.verbose:
        for d in scores.details:
            print(d["section"], d["item"], "->", ", ".join(f"{n} ({s:.2f})" for n, s in d["got"]) or "(no link)")
    print(
        f"gold links: {scores.items} items, {scores.pairs} pairs; P@1 {scores.precision_at_1:.3f}  R@3 {scores.recall_at_3:.3f}; "
        f"items with no KPI left unlinked: {scores.unlinked_ok}/{scores.unlinked_items}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
