"""Recall@10, MRR@10 and nDCG@10 of passage search against hand-judged queries.

A judgment names a passage by its document's file stem and a verbatim substring of its text
(tests/eval/queries.yaml), so that it survives re-extraction: passage ids change when the
extractor splits a page differently, a sentence does not. Matching ignores whitespace, because
the PDF text layer puts spaces where the transcription has none (and the other way round), and
compares NFKC forms, because the extractor may write (2) where the transcription has （２）.

Metrics, over the first CUTOFF hits: Recall is the share of a query's relevant passages found;
MRR the reciprocal rank of the first relevant one; nDCG uses the grade as the gain (trec_eval's
linear gain, so a grade-2 passage counts twice a grade-1 one) and log2(rank + 1) as the discount.
Each is averaged over the queries.

Systems compared here, on the same passages read back from the index: planindex, and rank-bm25's
BM25Okapi over plain fugashi surface tokens (the stack a new user writes first). Groonga and
bm25s are not project dependencies: bench/eval_peers.py adds them.

Run: python -m planindex.eval_search [--index DIR] [QUERIES.yaml]
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planindex.eval_run import extra, read_yaml, run
from planindex.index import Index, default_folder
from planindex.store import record_data

CUTOFF = 10
DEFAULT_QUERIES = Path(__file__).resolve().parent.parent / "tests" / "eval" / "queries.yaml"

System = Callable[[str], list[str]]  # query text → passage ids, best first


@dataclass(frozen=True, slots=True)
class StoredPassage:
    id: str
    doc: str  # file stem of the document it came from
    text: str


@dataclass(frozen=True, slots=True)
class Judged:
    """A query and the grade (1 partial, 2 direct) of every passage judged relevant to it."""

    id: str
    query: str
    grades: dict[str, int]


@dataclass(frozen=True, slots=True)
class Scores:
    recall: float
    mrr: float
    ndcg: float
    per_query: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # id → (recall, rr, ndcg)


def _squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def stored_passages(index: Index) -> list[StoredPassage]:
    """Every passage of the index with its document's file stem, in rowid order."""
    stems = {doc_id: Path(doc.get("path", "")).stem for doc_id, doc in index.documents.items()}
    rows = index.store.db.execute("SELECT id, doc_id, data FROM passages ORDER BY rowid")
    return [StoredPassage(pid, stems.get(doc_id, ""), record_data(data)["text"]) for pid, doc_id, data in rows]


def resolve(entries: list[dict[str, Any]], passages: list[StoredPassage]) -> tuple[list[Judged], list[str]]:
    """Judgments with passage ids, and one message per `contains` that names no passage.

    A substring found in several passages of its document (a heading repeated on two pages)
    makes each of them relevant: they are the same text."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for p in passages:
        by_doc.setdefault(p.doc, []).append((p.id, _squeeze(p.text)))
    judged, missing = [], []
    for entry in entries:
        grades: dict[str, int] = {}
        for rel in entry["relevant"]:
            needle = _squeeze(rel["contains"])
            found = [pid for pid, text in by_doc.get(rel["doc"], []) if needle in text]
            if not found:
                missing.append(f"{entry['id']}: no passage of {rel['doc']} contains {rel['contains']!r}")
            for pid in found:
                grades[pid] = max(grades.get(pid, 0), int(rel["grade"]))
        judged.append(Judged(entry["id"], str(entry["query"]), grades))
    return judged, missing


def query_scores(ranked: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> tuple[float, float, float]:
    """(recall, reciprocal rank, nDCG) of one ranking, at the cutoff."""
    top = ranked[:cutoff]
    if not grades:
        return 0.0, 0.0, 0.0
    recall = sum(1 for pid in top if pid in grades) / len(grades)
    rr = next((1 / rank for rank, pid in enumerate(top, start=1) if pid in grades), 0.0)
    dcg = sum(grades.get(pid, 0) / math.log2(rank + 1) for rank, pid in enumerate(top, start=1))
    ideal = sorted(grades.values(), reverse=True)[:cutoff]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return recall, rr, dcg / idcg


def evaluate(system: System, judged: list[Judged], cutoff: int = CUTOFF) -> Scores:
    per_query = {j.id: query_scores(system(j.query), j.grades, cutoff) for j in judged}
    n = max(len(per_query), 1)
    columns = list(zip(*per_query.values())) or [(), (), ()]
    return Scores(*(sum(column) / n for column in columns), per_query=per_query)


def planindex_system(index: Index, cutoff: int = CUTOFF) -> System:
    """planindex's ranking as `planindex search` does it (search.top_positions), without building the
    hits' snippets: they cost more than the ranking and change nothing in it."""
    from planindex.errors import QueryError
    from planindex.query import parse
    from planindex.search import Filters, top_positions

    def run(query: str) -> list[str]:
        try:
            chosen, _, records = top_positions(index, "passages", parse(query), cutoff, Filters())
        except QueryError:  # a question of only particles: nothing to search, nothing found
            return []
        return [records[position]["id"] for position, _ in chosen]

    return run


def rank_bm25_system(passages: list[StoredPassage], cutoff: int = CUTOFF) -> System:
    """rank-bm25's BM25Okapi with its defaults over every fugashi surface token of the raw text."""
    okapi = extra("rank_bm25").BM25Okapi
    from planindex.tokens import tokenizer

    surfaces = tokenizer().surfaces
    model = okapi([surfaces(p.text) for p in passages])
    ids = [p.id for p in passages]

    def run(query: str) -> list[str]:
        scores = model.get_scores(surfaces(query))
        order = sorted(range(len(ids)), key=lambda i: -scores[i])[:cutoff]
        # rank-bm25 scores every passage; one sharing no token with the query is not a hit
        return [ids[i] for i in order if scores[i] > 0]

    return run


def table(rows: Iterable[tuple[str, Scores]], cutoff: int = CUTOFF) -> str:
    """A Markdown table of the systems' scores."""
    lines = [f"| system | nDCG@{cutoff} | MRR@{cutoff} | Recall@{cutoff} |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {s.ndcg:.3f} | {s.mrr:.3f} | {s.recall:.3f} |" for name, s in rows]
    return "\n".join(lines)


def load_judged(index: Index, path: Path = DEFAULT_QUERIES) -> tuple[list[Judged], list[str], list[StoredPassage]]:
    """The judged queries of `path` resolved against the index, the judgments left unresolved, and the passages."""
    passages = stored_passages(index)
    judged, missing = resolve(read_yaml(path), passages)
    return judged, missing, passages


def open_judged(folder: Path | None, path: Path = DEFAULT_QUERIES) -> tuple[Index, list[Judged], list[StoredPassage]]:
    """The index, its judged queries and its passages, each judgment that names no passage reported on stderr."""
    index = Index.open(folder or default_folder())
    judged, missing, passages = load_judged(index, path)
    for message in missing:
        print(f"unresolved judgment: {message}", file=sys.stderr)
    return index, judged, passages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", nargs="?", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="print each query's scores for planindex")
    args = parser.parse_args(argv)
    index, judged, passages = open_judged(args.index, args.queries)
    results = [
        ("rank-bm25 (fugashi surfaces)", evaluate(rank_bm25_system(passages), judged)),
        ("planindex", evaluate(planindex_system(index), judged)),
    ]
    if args.verbose:
        for j in judged:
            recall, rr, ndcg = results[-1][1].per_query[j.id]
            print(f"{j.id} {j.query}: nDCG {ndcg:.3f}  RR {rr:.3f}  R {recall:.3f}  ({len(j.grades)} relevant)")
    print(f"{len(judged)} queries, {sum(len(j.grades) for j in judged)} relevant passages, {len(passages)} passages")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
