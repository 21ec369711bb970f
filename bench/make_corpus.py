"""Synthetic corpora for the benchmarks: passages made by recombining sentences of the bundled corpus.

The bundled PDFs hold only a few hundred passages; the speed goals are stated at 100k and 1M. Each
synthetic passage is 2-6 sentences drawn (with a seeded RNG, so every run writes the same bytes) from
the sentences of the bundled passages, split on 。. The result keeps the real vocabulary, sentence
length and character mix of planning text, but not its long tail: every word of the pool recurs
thousands of times at 1M, so document frequencies are flatter than in a real collection (noted in
bench/README.md).

Writes under bench/.data/corpus/ (ignored by git):
  sentences.json           the sentence pool, in first-seen order
  passages-<size>.jsonl    {"id", "text"} per line, for `planindex ingest` (planindex/jsonl.py)
  passages-<size>.stats.json  passage count and raw text size (UTF-8 bytes of the texts alone)
  passages-1m.part<NN>.jsonl  the 1M corpus cut in pieces of 100k lines (see --parts)

The smaller corpus is a prefix of the larger one (same seed, same stream), so results at 100k and 1M
differ only by size.

Usage: python bench/make_corpus.py [--sizes 100k,1m] [--seed 20240401] [--parts 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data" / "corpus"
CORPORA = ROOT / "corpora"
MIN_SENTENCES, MAX_SENTENCES = 2, 6
SIZES = {"100k": 100_000, "1m": 1_000_000}


def sentence_pool(corpora: Path = CORPORA) -> list[str]:
    """Distinct sentences of the bundled passages, in a stable order (document name, then reading order).

    Uses the library, not the CLI, to avoid one process per PDF; the extraction is deterministic.
    """
    from planindex.extract import extract  # the only PyMuPDF user; imported late to keep --help fast

    seen: dict[str, None] = {}
    for pdf in sorted(corpora.glob("*.pdf")):
        for passage in extract(pdf).passages:
            for piece in passage.text.split("。"):
                piece = piece.strip()
                # A fragment under 4 characters (a stray 市長) is a table cell, not a sentence.
                if len(piece) >= 4:
                    seen.setdefault(piece + "。", None)
    if not seen:
        sys.exit(f"no sentences found in {corpora}/*.pdf: is the bundled corpus there?")
    return list(seen)


def passages(pool: list[str], count: int, seed: int) -> Iterator[tuple[str, str]]:
    """(id, text) of `count` passages; the first n of a longer run are the same as a run of n."""
    rng = random.Random(seed)
    for number in range(count):
        k = rng.randint(MIN_SENTENCES, MAX_SENTENCES)
        yield f"s{number:07d}", "".join(rng.choice(pool) for _ in range(k))


def write(pool: list[str], name: str, count: int, seed: int, part_size: int) -> dict[str, object]:
    path = DATA / f"passages-{name}.jsonl"
    started = time.perf_counter()
    raw_bytes = chars = 0
    lengths: list[int] = []
    parts: list[Path] = []
    part_handle = None
    with path.open("w", encoding="utf-8") as handle:
        for number, (pid, text) in enumerate(passages(pool, count, seed)):
            line = json.dumps({"id": pid, "text": text}, ensure_ascii=False) + "\n"
            handle.write(line)
            # Pieces let a large corpus be ingested incrementally, one bounded-memory process at a time.
            if part_size and count > part_size:
                if number % part_size == 0:
                    if part_handle:
                        part_handle.close()
                    parts.append(DATA / f"passages-{name}.part{number // part_size:02d}.jsonl")
                    part_handle = parts[-1].open("w", encoding="utf-8")
                assert part_handle is not None
                part_handle.write(line)
            size = len(text.encode("utf-8"))
            raw_bytes += size
            chars += len(text)
            lengths.append(size)
    if part_handle:
        part_handle.close()
    stats: dict[str, object] = {
        "passages": count,
        "seed": seed,
        "sentence_pool": len(pool),
        "raw_text_bytes": raw_bytes,  # UTF-8 bytes of the passage texts alone: the base of the size goal
        "raw_text_chars": chars,
        "jsonl_bytes": path.stat().st_size,
        "passage_bytes_mean": round(raw_bytes / count, 1),
        "passage_bytes_median": statistics.median(lengths),
        "passage_bytes_max": max(lengths),
        "path": str(path.relative_to(ROOT)),
        "parts": [str(p.relative_to(ROOT)) for p in parts],
        "seconds": round(time.perf_counter() - started, 1),
    }
    path.with_suffix(".stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: 100k, 1m, or a number")
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--parts", type=int, default=100_000, help="also cut corpora larger than this into pieces (0: never)")
    parser.add_argument("--force", action="store_true", help="rewrite corpora that exist already")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    pool_path = DATA / "sentences.json"
    pool = sentence_pool()
    pool_path.write_text(json.dumps(pool, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(pool)} distinct sentences from {CORPORA.relative_to(ROOT)}/*.pdf", file=sys.stderr)
    for name in args.sizes.split(","):
        name = name.strip().lower()
        count = SIZES.get(name) or int(name)
        stats_path = DATA / f"passages-{name}.stats.json"
        if stats_path.exists() and not args.force:
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
            if stats.get("seed") == args.seed and stats.get("sentence_pool") == len(pool):
                print(f"passages-{name}: up to date ({stats['passages']:,} passages)", file=sys.stderr)
                continue
        stats = write(pool, name, count, args.seed, args.parts)
        print(
            f"passages-{name}: {count:,} passages, {stats['raw_text_bytes'] / 1e6:,.1f} MB of text, "
            f"{stats['jsonl_bytes'] / 1e6:,.1f} MB of JSONL in {stats['seconds']} s",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
