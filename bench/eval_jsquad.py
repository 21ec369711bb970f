"""JSQuAD as a retrieval benchmark: planindex beside rank-bm25, bm25s and Groonga, from one run.

The corpus is every paragraph of a split (identical contexts once), each question a query and its
own paragraph the one relevant passage (../shared/benchmarks/README.md). The paragraphs go into a
planindex index through the JSONL path (`planindex ingest FILE.jsonl --index DIR`), and every peer
gets the passages read back from that index, so all systems search the same text. Tune on valid,
report test.

Usage: python bench/eval_jsquad.py [--split valid|test] [--data DIR] [--work DIR] [--only planindex,...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval_peers import GROONGA_TOKENIZERS, bm25s_system, groonga_systems, groonga_version, machine

from planindex.eval_search import Judged, Scores, System, evaluate, planindex_system, rank_bm25_system, stored_passages, table
from planindex.index import Index

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "jsquad"
SYSTEMS = ("rank-bm25", "planindex", *GROONGA_TOKENIZERS, "bm25s")


def paragraphs_and_questions(path: Path) -> tuple[list[dict[str, str]], list[tuple[str, str, str]]]:
    """JSONL passages {"id", "text"} (contexts deduplicated) and (question id, question, passage id)."""
    ids: dict[str, str] = {}
    questions = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            pid = ids.setdefault(paragraph["context"], f"jsquad-{len(ids):05d}")
            questions += [(qa["id"], qa["question"], pid) for qa in paragraph["qas"]]
    return [{"id": pid, "text": text} for text, pid in ids.items()], questions


def ingest(passages: list[dict[str, str]], folder: Path) -> float:
    """Write the JSONL and ingest it with the planindex command; the seconds the ingest took."""
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = folder / "passages.jsonl"
    jsonl.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages), encoding="utf-8")
    shutil.rmtree(folder / "index", ignore_errors=True)
    planindex = Path(sys.executable).parent / "planindex"
    started = time.perf_counter()
    subprocess.run([str(planindex), "ingest", str(jsonl), "--index", str(folder / "index")], check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the folder of {valid,test}-v1.3.json")
    parser.add_argument("--work", type=Path, default=None, help="where the JSONL and the index go (default: a temporary folder)")
    parser.add_argument("--only", default=",".join(SYSTEMS), help=f"comma-separated systems among {', '.join(SYSTEMS)}")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    passages, questions = paragraphs_and_questions(args.data / f"{args.split}-v1.3.json")
    with tempfile.TemporaryDirectory(prefix="eval-jsquad-") as scratch:
        work = args.work or Path(scratch)
        seconds = ingest(passages, work)
        index = Index.open(work / "index")
        stored = stored_passages(index)
        judged = [Judged(qid, question, {pid: 1}) for qid, question, pid in questions]
        systems: dict[str, System] = {}
        if "rank-bm25" in wanted:
            systems["rank-bm25 (fugashi surfaces)"] = rank_bm25_system(stored)
        if "planindex" in wanted:
            systems["planindex"] = planindex_system(index)
        version = groonga_version()
        if version and wanted & set(GROONGA_TOKENIZERS):
            found = groonga_systems(stored, [q for _, q, _ in questions], work / "groonga", bag_of_words=True)
            systems |= {name: system for name, system in found.items() if name.split()[0] in wanted}
        bm25s = bm25s_system(stored) if "bm25s" in wanted else None
        if bm25s:
            systems["bm25s (fugashi surfaces)"] = bm25s
        results: list[tuple[str, Scores]] = [(name, evaluate(system, judged)) for name, system in systems.items()]
        index.close()
    print(f"JSQuAD {args.split}: {len(passages)} paragraphs, {len(questions)} questions; planindex ingest {seconds:.1f} s")
    print(f"machine: {machine()}; {version or 'groonga: not installed (skipped)'}")
    skipped = [s for s in ("bm25s",) if s in wanted and not bm25s]
    if skipped:
        print("skipped (not installed): " + ", ".join(skipped))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
