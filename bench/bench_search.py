"""Search and ingest benchmarks of planindex against rank-bm25, bm25s and Groonga, side by side.

One run, same machine, same queries, at each corpus size (bench/make_corpus.py):
  ingest      `planindex ingest` of the JSONL corpus: passages/s, CPU, peak memory, index size;
  floor       fugashi's raw tagging of the same texts (the floor of any MeCab-based ingest), 1 and 2 processes;
  ingest_paired  `planindex ingest` of 100k passages and the 2-process floor on them, taking turns: their ratio;
  rank_bm25   BM25Okapi over planindex's own word tokens (same k1, b), top-10 overlap with planindex;
  bm25s       bm25s (method lucene, the variant planindex uses) over the same tokens;
  groonga     Groonga (TokenMecab + NormalizerAuto) over the same raw texts, through `groonga -s` HTTP on 127.0.0.1;
  planindex   search() (the library call), rank() (scoring with the bigram fallback), bm25.score() (the core);
and once, on the bundled corpus: cold `planindex search 待機児童` and what `planindex --help` imports.

Every engine runs in a child process of its own (`bench_search.py worker NAME --size S`), so that its
peak memory is its own and a crash costs one row, not the run. Results land in
bench/.data/results/*.json; the report (bench/results/search.md and .json) is assembled from them.

Usage: python bench/bench_search.py [--sizes 100k,1m] [--repeats 5] [--only ingest,planindex,...] [--fresh]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import (
    CORPUS,
    DATA,
    ROOT,
    busy_processes,
    dir_size,
    git_state,
    latency_summary,
    log,
    machine,
    peak_rss_mib,
    read_json,
    run_measured,
    spread,
    venv_bin,
    versions,
    write_json,
)

RESULTS = DATA / "results"
LOGS = DATA / "logs"  # stdout and stderr of every child process, for when a worker fails
QUERIES = DATA / "queries.json"
EVAL_QUERIES = ROOT / "tests" / "eval" / "queries.yaml"
RANDOM_QUERIES = 144  # with the 56 hand-judged queries: about 200, so that p99 is not the single worst
SEED = 7
TOP = 10
# rank-bm25 scores a query with a Python loop over every passage: at 1M a query takes about a second,
# so it runs on a seeded sample of the queries (stated in the report).
RANK_BM25_SAMPLE = {"1m": 25}
ENGINES = ("ingest", "ingest_paired", "floor", "rank_bm25", "bm25s", "groonga", "planindex", "paired", "cold")
GROONGA_PORT = 10041 + os.getpid() % 1000  # loopback only; a per-run port so that two runs never collide


# --- queries ---------------------------------------------------------------------------------
def prepare_queries() -> list[dict[str, str]]:
    """The hand-judged evaluation queries, plus random words of the corpus (1-2 per query, seeded)."""
    import yaml

    from planindex.tokens import analyze

    judged = [{"id": q["id"], "text": str(q["query"]), "source": "eval"} for q in yaml.safe_load(EVAL_QUERIES.read_text(encoding="utf-8"))]
    pool = read_json(CORPUS / "sentences.json")
    words: set[str] = set()
    for sentence in pool:
        # Content words a planner could type: two characters or more, letters only (no 2023, no ①).
        words.update(w for w in analyze(sentence)[0] if len(w) >= 2 and re.fullmatch(r"[A-Za-zぁ-ゖァ-ヺー一-龯々]+", w))
    vocabulary = sorted(words)
    rng = random.Random(SEED)
    randoms = []
    for number in range(RANDOM_QUERIES):
        count = 1 if number % 3 else 2  # a third of them two words, like 商店街 活性化
        randoms.append({"id": f"r{number:03d}", "text": " ".join(rng.sample(vocabulary, count)), "source": "random"})
    queries = judged + randoms
    write_json(QUERIES, queries)
    return queries


def query_word_ids(folder: Path) -> list[dict[str, Any]]:
    """Each query's words (planindex's analysis, the words field) as term ids of this index: the
    tokens every BM25 peer is given, so that differences come from the engines, not the tokenizer."""
    from planindex.index import Index
    from planindex.query import parse

    index = Index.open(folder)
    try:
        out = []
        for q in read_json(QUERIES):
            words = [w for group in parse(q["text"]).groups for term in group for w in term.words]
            ids = sorted(set(index.word_ids(words)))
            out.append({**q, "words": words, "word_ids": ids})
        return out
    finally:
        index.close()


# --- the corpus as planindex stored it -----------------------------------------------------------
def index_folder(size: str) -> Path:
    return DATA / f"index-{size}"


def corpus_stats(size: str) -> dict[str, Any]:
    return read_json(CORPUS / f"passages-{size}.stats.json")


def stored_tokens(folder: Path) -> Iterator[np.ndarray]:
    """Word-term ids of every passage in rowid order (planindex's array positions), counts expanded."""
    from planindex.bm25 import BLOCK
    from planindex.store import unpack_many

    db = sqlite3.connect(f"file:{folder / 'planindex.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT words FROM passages ORDER BY rowid")
        while part := rows.fetchmany(BLOCK):
            ids, counts, sizes = unpack_many([blob for (blob,) in part])
            cuts = np.cumsum(sizes)[:-1]
            yield from map(np.repeat, np.split(ids, cuts), np.split(counts, cuts))
    finally:
        db.close()


def stored_ids(folder: Path) -> list[str]:
    db = sqlite3.connect(f"file:{folder / 'planindex.db'}?mode=ro", uri=True)
    try:
        return [r[0] for r in db.execute("SELECT id FROM passages ORDER BY rowid")]
    finally:
        db.close()


def topk(scores: np.ndarray, k: int = TOP) -> np.ndarray:
    """Positions of the k best positive scores, best first, ties by position: one rule for every engine."""
    k = min(k, len(scores))
    if k == 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    part = part[scores[part] > 0]
    return part[np.lexsort((part, -scores[part]))]


def timed_passes(
    run: Any, queries: list[dict[str, Any]], passes: int
) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, list[float]]]:
    """Run each query once to warm up, then `passes` times: (wall milliseconds per query id and pass,
    the last result per query id, CPU milliseconds of this thread likewise). On a shared machine the
    wall time includes waiting for a core; the CPU time does not."""
    last: dict[str, Any] = {}
    for q in queries:
        last[q["id"]] = run(q)
    times: dict[str, list[float]] = {q["id"]: [] for q in queries}
    cpu: dict[str, list[float]] = {q["id"]: [] for q in queries}
    for _ in range(passes):
        for q in queries:
            started, started_cpu = time.perf_counter(), time.thread_time()
            last[q["id"]] = run(q)
            times[q["id"]].append((time.perf_counter() - started) * 1000)
            cpu[q["id"]].append((time.thread_time() - started_cpu) * 1000)
    return times, last, cpu


def summarize(times: dict[str, list[float]], ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids if ids is not None else list(times)
    ids = [i for i in ids if times.get(i)]
    if not ids:
        return latency_summary([])
    passes = min(len(times[i]) for i in ids)
    return latency_summary([[times[i][p] for i in ids] for p in range(passes)])


# --- workers: each runs in its own process ----------------------------------------------------
def worker_floor(size: str, repeats: int) -> dict[str, Any]:
    """fugashi's own speed on the same passages: Tagger() nodes (what planindex iterates), parse()
    (MeCab's string output), on one process and on two. The texts are the first 100k passages at
    every size: tagging speed per passage does not depend on how many there are."""
    import fugashi

    texts = [json.loads(line)["text"] for line in _head(CORPUS / f"passages-{size}.jsonl", 100_000)]
    tagger = fugashi.Tagger()
    out: dict[str, Any] = {"passages": len(texts), "bytes": sum(len(t.encode()) for t in texts), "dictionary": tagger.dictionary_info}
    for name, func in (("tagger_nodes", lambda t: tagger(t)), ("tagger_parse", tagger.parse)):
        walls, cpus = [], []
        for _ in range(max(1, repeats // 2)):
            cpu, wall = time.process_time(), time.perf_counter()
            for text in texts:
                func(text)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        out[name] = _rates(len(texts), walls, cpus)
    timed = [_floor_2proc(texts) for _ in range(max(1, repeats // 2))]
    out["tagger_nodes_2proc"] = _rates(len(texts), [wall for wall, _ in timed], [cpu for _, cpu in timed])
    # planindex's own analysis (normalize + words + bigrams) without the store: where ingest time goes.
    from planindex.tokens import analyze

    sample = texts[:20_000]
    cpu, wall = time.process_time(), time.perf_counter()
    for text in sample:
        analyze(text)
    out["planindex_analyze"] = _rates(len(sample), [time.perf_counter() - wall], [time.process_time() - cpu])
    return out


def _floor_2proc(texts: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of fugashi Tagger() nodes over the texts in two processes, each with its own
    tagger: what "using both cores" can reach at best. Their CPU time is read from RUSAGE_CHILDREN
    once the pool's processes have exited and been reaped."""
    import resource
    from multiprocessing import get_context

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pool = get_context("fork").Pool(2, initializer=_pool_init)
    pool.map(_pool_tag, [texts[:200]] * 2)  # load the dictionary in both before timing
    wall = time.perf_counter()
    list(pool.imap_unordered(_pool_tag, [texts[i : i + 2000] for i in range(0, len(texts), 2000)]))
    wall = time.perf_counter() - wall
    pool.close()
    pool.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


PAIRED_INGEST_PASSAGES = 100_000


def worker_ingest_paired(size: str, repeats: int) -> dict[str, Any]:
    """`planindex ingest` of the first 100k passages into a fresh index and the 2-process fugashi floor
    on the same texts, taking turns (which goes first swapped every round): the goal is a ratio of
    the two, and the VM's speed drifts by a third within minutes (bench/README.md), more than
    separate runs of the two can tell apart."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=DATA) as scratch:
        source = Path(scratch) / "passages.jsonl"
        lines = list(_head(CORPUS / f"passages-{size}.jsonl", PAIRED_INGEST_PASSAGES))
        source.write_text("".join(lines), encoding="utf-8")
        texts = [json.loads(line)["text"] for line in lines]
        rounds = []
        for number in range(max(2, min(repeats, 4))):
            row: dict[str, float] = {}
            for step in ("floor", "ingest") if number % 2 == 0 else ("ingest", "floor"):
                if step == "floor":
                    row["floor_wall_s"], row["floor_cpu_s"] = _floor_2proc(texts)
                    continue
                folder = Path(scratch) / f"index-{number}"
                argv = [venv_bin("planindex"), "ingest", "--index", str(folder), str(source), "--json"]
                run = run_measured(argv, log=LOGS / "ingest-paired.log")
                if run.returncode != 0:
                    raise RuntimeError(f"planindex ingest failed: {run.stderr[-1000:]}")
                row.update(ingest_wall_s=run.wall_s, ingest_cpu_s=run.cpu_s, ingest_max_rss_mib=run.max_rss_mib)
                shutil.rmtree(folder)
            row["ratio"] = row["ingest_wall_s"] / row["floor_wall_s"]
            walls = f"ingest {row['ingest_wall_s']:.1f} s, floor {row['floor_wall_s']:.1f} s"
            log(f"ingest paired {size}: round {number + 1}: {walls}: {row['ratio']:.2f}x")
            rounds.append(row)
    ratios = [r["ratio"] for r in rounds]
    return {
        "passages": len(texts),
        "rounds": rounds,
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def _rates(passages: int, walls: list[float], cpus: list[float]) -> dict[str, Any]:
    """Passages per wall second (best repeat) and per CPU second (best repeat)."""
    return {
        "passages": passages,
        "wall_s": spread(walls),
        "cpu_s": spread(cpus),
        "passages_per_s": passages / min(walls),
        "passages_per_cpu_s": passages / min(cpus) if min(cpus) > 0 else None,
    }


_TAGGER: Any = None


def _pool_init() -> None:
    global _TAGGER
    import fugashi

    _TAGGER = fugashi.Tagger()


def _pool_tag(texts: list[str]) -> int:
    return sum(len(_TAGGER(t)) for t in texts)


def _head(path: Path, n: int) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= n:
                return
            yield line


def _sample(queries: list[dict[str, Any]], size: str) -> list[dict[str, Any]]:
    n = RANK_BM25_SAMPLE.get(size)
    if not n or n >= len(queries):
        return queries
    return sorted(random.Random(SEED).sample(queries, n), key=lambda q: q["id"])


def worker_rank_bm25(size: str, repeats: int) -> dict[str, Any]:
    from rank_bm25 import BM25Okapi

    from planindex import bm25

    queries = [q for q in read_json(DATA / f"queries-{size}.json") if q["word_ids"]]
    started = time.perf_counter()
    # Same tokens as planindex's words field, as ints (cheaper than strings, same dict semantics);
    # same k1 and b. The idf differs on purpose: rank-bm25's Okapi idf is what a new user gets.
    engine = BM25Okapi((t.tolist() for t in stored_tokens(index_folder(size))), k1=bm25.K1, b=bm25.B)
    build_s = time.perf_counter() - started
    sample = _sample(queries, size)
    passes = 1 if size in RANK_BM25_SAMPLE else min(repeats, 3)
    times, last, cpu = timed_passes(lambda q: topk(np.asarray(engine.get_scores(q["word_ids"]), np.float32)), sample, passes)
    return {
        "build_s": build_s,
        "queries": len(sample),
        "sampled": len(sample) < len(queries),
        "times": {"core": times},
        "cpu_times": {"core": cpu},
        "top": {qid: top.tolist() for qid, top in last.items()},
        "peak_rss_mib": peak_rss_mib(),
    }


def worker_paired(size: str, repeats: int) -> dict[str, Any]:
    """planindex's search() and rank-bm25's get_scores in one process, a pass over the queries each in
    turn (which of the two goes first swapped every round): both meet the machine in much the same
    state, seconds apart rather than minutes, so that their ratio moves less with the VM's drift
    (bench/README.md). Whole passes, not query by query: rank-bm25 sweeps hundreds of megabytes a
    query, which would leave planindex every query with cold caches (70x instead of the separate
    runs' 73-119x, in a trial run)."""
    from rank_bm25 import BM25Okapi

    from planindex import bm25
    from planindex.index import Index
    from planindex.search import search

    queries = _sample([q for q in read_json(DATA / f"queries-{size}.json") if q["word_ids"]], size)
    engine = BM25Okapi((t.tolist() for t in stored_tokens(index_folder(size))), k1=bm25.K1, b=bm25.B)
    index = Index.open(index_folder(size))
    # Both engines are built and their objects live to the end: frozen, so that no pass of either
    # pays for a collection walking the other's (rank-bm25 keeps a dict per passage). A slow round
    # seen before this (2.0 ms against 1.2-1.26) stayed after it: that one is the VM's.
    gc.collect()
    gc.freeze()
    runs = {
        "planindex": lambda q: search(index, q["text"], TOP),
        "rank_bm25": lambda q: topk(np.asarray(engine.get_scores(q["word_ids"]), np.float32)),
    }
    times: dict[str, dict[str, list[float]]] = {name: {q["id"]: [] for q in queries} for name in runs}
    rounds = 1 if size in RANK_BM25_SAMPLE else min(repeats, 4)
    for number in range(rounds):
        for name in list(runs) if number % 2 == 0 else list(reversed(runs)):
            measured, _, _ = timed_passes(runs[name], queries, 1)  # a warm-up pass, then one timed
            for qid, values in measured.items():
                times[name][qid] += values
    index.close()
    return {"queries": len(queries), "passes": rounds, "times": times, "peak_rss_mib": peak_rss_mib()}


def worker_bm25s(size: str, repeats: int) -> dict[str, Any]:
    import bm25s
    from bm25s.tokenization import Tokenized

    from planindex import bm25

    queries = [q for q in read_json(DATA / f"queries-{size}.json") if q["word_ids"]]
    docs = list(stored_tokens(index_folder(size)))
    # bm25s wants a dense vocabulary 0..V-1; planindex's word ids start at 1 and keep words no passage holds any more.
    used = np.unique(np.concatenate(docs)) if docs else np.zeros(0, np.int32)
    compact = {int(t): i for i, t in enumerate(used.tolist())}
    lookup = np.zeros(int(used.max()) + 1 if len(used) else 1, np.int64)
    lookup[used] = np.arange(len(used))
    started = time.perf_counter()
    engine = bm25s.BM25(method="lucene", k1=bm25.K1, b=bm25.B)
    engine.index(Tokenized(ids=[lookup[d].tolist() for d in docs], vocab={str(t): i for t, i in compact.items()}), show_progress=False)
    build_s = time.perf_counter() - started
    del docs
    for q in queries:
        q["compact"] = [compact[i] for i in q["word_ids"] if i in compact]
    queries = [q for q in queries if q["compact"]]
    core, last, core_cpu = timed_passes(lambda q: topk(engine.get_scores_from_ids(q["compact"])), queries, repeats)
    # retrieve() is bm25s' public call (its own top-k selection and argument checks).
    retrieve, _, retrieve_cpu = timed_passes(
        lambda q: engine.retrieve([q["compact"]], k=TOP, show_progress=False, n_threads=0), queries, repeats
    )
    return {
        "build_s": build_s,
        "queries": len(queries),
        "times": {"core": core, "retrieve": retrieve},
        "cpu_times": {"core": core_cpu, "retrieve": retrieve_cpu},
        "top": {qid: top.tolist() for qid, top in last.items()},
        "scores_for_check": {q["id"]: engine.get_scores_from_ids(q["compact"])[last[q["id"]]].tolist() for q in queries[:20]},
        "peak_rss_mib": peak_rss_mib(),
    }


def _groonga_escape(text: str) -> str:
    """Groonga query syntax treats ( ) " \\ and a leading - + ~ as operators: quote them."""
    out = re.sub(r'([()"\\])', r"\\\1", text)
    return " ".join(re.sub(r"^([-+~*<>])", r"\\\1", word) for word in out.split())


def _groonga(db: Path, commands: str | Iterator[str]) -> Any:
    """Run commands through the groonga CLI (stdin), measured."""
    from benchlib import Run

    argv = ["groonga", str(db)] if db.exists() else ["groonga", "-n", str(db)]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    for chunk in [commands] if isinstance(commands, str) else commands:
        proc.stdin.write(chunk.encode("utf-8"))
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"groonga failed ({proc.returncode}): {err[-500:]}")
    return Run(argv, proc.returncode, time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, "", err)


def _groonga_load(path: Path) -> Iterator[str]:
    yield "load --table Passages\n[\n"
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            obj = json.loads(line)
            yield ("," if number else "") + json.dumps({"_key": obj["id"], "text": obj["text"]}, ensure_ascii=False) + "\n"
    yield "]\n"


def worker_groonga(size: str, repeats: int) -> dict[str, Any]:
    if not shutil.which("groonga"):
        return {"skipped": "groonga is not installed (bash bench/setup_peers.sh installs groonga-bin)"}
    folder = DATA / f"groonga-{size}"
    marker = folder / "bench.json"
    stats = corpus_stats(size)
    version = subprocess.run(["groonga", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    build: dict[str, Any]
    if marker.exists() and read_json(marker).get("corpus") == stats["raw_text_bytes"] and read_json(marker).get("version") == version:
        build = {**read_json(marker)["build"], "reused": True}
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        db = folder / "db"
        schema = (
            "table_create Passages TABLE_HASH_KEY ShortText\n"
            "column_create Passages text COLUMN_SCALAR LongText\n"
            "table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenMecab --normalizer NormalizerAuto\n"
        )
        _groonga(db, schema)
        load = _groonga(db, _groonga_load(CORPUS / f"passages-{size}.jsonl"))
        # The index column is created after the load: Groonga then builds it offline, its fast path.
        index = _groonga(db, "column_create Terms passages_text COLUMN_INDEX|WITH_POSITION Passages text\n")
        build = {
            "load_s": load.wall_s,
            "index_s": index.wall_s,
            "cpu_s": load.cpu_s + index.cpu_s,
            "max_rss_mib": max(load.max_rss_mib, index.max_rss_mib),
            "reused": False,
        }
        write_json(marker, {"corpus": stats["raw_text_bytes"], "version": version, "build": build})
    db = folder / "db"
    server = subprocess.Popen(
        ["groonga", "-s", "--protocol", "http", "--bind-address", "127.0.0.1", "--port", str(GROONGA_PORT), str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{GROONGA_PORT}/d/"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "status", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        queries = read_json(DATA / f"queries-{size}.json")
        server_ms: dict[str, list[float]] = {q["id"]: [] for q in queries}

        def select(q: dict[str, Any]) -> list[str]:
            params = {
                "table": "Passages",
                "match_columns": "text",
                "query": _groonga_escape(q["text"]),
                "output_columns": "_key,_score",
                "limit": str(TOP),
                "sort_keys": "-_score,_id",
            }
            with urllib.request.urlopen(base + "select?" + urllib.parse.urlencode(params), timeout=60) as response:
                header, body = json.loads(response.read())
            server_ms[q["id"]].append(header[2] * 1000)
            if header[0] != 0:
                return []
            return [row[0] for row in body[0][2:]]

        times, last, _ = timed_passes(select, queries, repeats)  # the server's CPU is not this thread's
        status_pid = server.pid
        rss = _vm_hwm(status_pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    positions = {pid: i for i, pid in enumerate(stored_ids(index_folder(size)))}
    return {
        "version": version,
        "build": build,
        "queries": len(queries),
        "times": {"http": times, "server": {qid: ms[1:] for qid, ms in server_ms.items()}},  # [1:]: drop the warm-up
        "top": {qid: [positions[k] for k in keys if k in positions] for qid, keys in last.items()},
        "server_peak_rss_mib": rss,
        "db_bytes": dir_size(folder),
    }


def _vm_hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker_planindex(size: str, repeats: int) -> dict[str, Any]:
    """Latency of the library call, of the scoring alone and of the BM25 core; top-10 overlap with
    the peers' results (read from their result files, so this worker runs last)."""
    from planindex import bm25
    from planindex.index import Index
    from planindex.query import parse
    from planindex.search import rank, search

    folder = index_folder(size)
    queries = read_json(DATA / f"queries-{size}.json")
    cache = folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # time the first open, which builds the BM25 arrays
    started = time.perf_counter()
    index = Index.open(folder)
    collection = index.collection("passages")
    first_open_s = time.perf_counter() - started
    index.close()
    started = time.perf_counter()
    index = Index.open(folder)
    collection = index.collection("passages")
    reopen_s = time.perf_counter() - started
    words = collection.fields["words"]

    search_times, hits, search_cpu = timed_passes(lambda q: search(index, q["text"], TOP), queries, repeats)
    parsed = {q["id"]: parse(q["text"]) for q in queries}
    rank_times, _, rank_cpu = timed_passes(lambda q: topk(rank(index, collection, parsed[q["id"]])), queries, repeats)
    known = [q for q in queries if q["word_ids"]]
    core_times, core_top, core_cpu = timed_passes(lambda q: topk(bm25.score(q["word_ids"], words.postings, words.weights)), known, repeats)

    positions = {pid: i for i, pid in enumerate(stored_ids(folder))}
    search_top = {qid: [positions[h.id] for h in result.hits if h.id in positions] for qid, result in hits.items()}
    overlap: dict[str, Any] = {}
    for peer in ("rank_bm25", "bm25s", "groonga"):
        path = RESULTS / f"{peer}-{size}.json"
        if not path.exists() or "top" not in read_json(path):
            continue
        peer_top: dict[str, list[int]] = read_json(path)["top"]
        rows: dict[str, list[float]] = {"core_raw": [], "core_ties": [], "search_raw": [], "search_ties": []}
        for q in queries:
            theirs = peer_top.get(q["id"])
            if theirs is None:
                continue
            if q["word_ids"] and q["id"] in core_top:
                scores = bm25.score(q["word_ids"], words.postings, words.weights)
                rows["core_raw"].append(_overlap(core_top[q["id"]].tolist(), theirs))
                rows["core_ties"].append(_overlap_ties(core_top[q["id"]].tolist(), theirs, scores))
            scores = rank(index, collection, parsed[q["id"]])
            rows["search_raw"].append(_overlap(search_top[q["id"]], theirs))
            rows["search_ties"].append(_overlap_ties(search_top[q["id"]], theirs, scores))
        overlap[peer] = {name: (statistics.fmean(v) if v else None) for name, v in rows.items()} | {"queries": len(rows["search_raw"])}
    # bm25s with method=lucene is planindex's formula except for the constant factor (k1 + 1), which
    # modern Lucene (and so bm25s) leaves out: it changes no ranking. Scaled back, the scores must agree.
    check = None
    bm25s_path = RESULTS / f"bm25s-{size}.json"
    if bm25s_path.exists() and "scores_for_check" in read_json(bm25s_path):
        theirs = read_json(bm25s_path)
        diffs = []
        for qid, values in theirs["scores_for_check"].items():
            q = next(q for q in known if q["id"] == qid)
            ours = bm25.score(q["word_ids"], words.postings, words.weights)[theirs["top"][qid]]
            if len(values):
                scaled = np.asarray(values) * (bm25.K1 + 1)
                diffs.append(float(np.max(np.abs(ours - scaled) / np.maximum(ours, 1e-9))))
        check = {"max_rel_score_diff_vs_bm25s": max(diffs) if diffs else None, "queries": len(diffs)}
    result = {
        "first_open_s": first_open_s,
        "reopen_s": reopen_s,
        "queries": len(queries),
        "known_word_queries": len(known),
        "times": {"search": search_times, "rank": rank_times, "core": core_times},
        "cpu_times": {"search": search_cpu, "rank": rank_cpu, "core": core_cpu},
        "totals": {qid: r.total for qid, r in hits.items()},
        "overlap": overlap,
        "oracle": check,
        "peak_rss_mib": peak_rss_mib(),
    }
    index.close()
    return result


def _overlap(ours: list[int], theirs: list[int]) -> float:
    """Share of our top-10 found in theirs (1.0 when both are empty)."""
    if not ours and not theirs:
        return 1.0
    return len(set(ours) & set(theirs)) / max(len(ours), len(theirs))


def _overlap_ties(ours: list[int], theirs: list[int], scores: np.ndarray) -> float:
    """Like _overlap, but a passage of theirs counts when our score for it equals our 10th best:
    recombined sentences make many passages score the same, and which of them fills the last
    places is an arbitrary tie-break, not a ranking difference."""
    if not ours and not theirs:
        return 1.0
    if not ours:
        return 0.0
    cut = float(scores[ours[-1]]) * (1 - 1e-5)
    agree = sum(1 for p in theirs if p in set(ours) or (scores[p] >= cut and scores[p] > 0))
    return min(agree, len(ours)) / max(len(ours), len(theirs))


# --- ingest and cold start: measured as separate processes of the CLI ---------------------------
def manifest() -> dict[str, str]:
    from planindex.index import expected_manifest

    return expected_manifest()


def worker_ingest(size: str, repeats: int, fresh: bool = False, budget_s: float = 0, parts: bool = False) -> dict[str, Any]:
    """`planindex ingest` of the corpus into bench/.data/index-<size>, reused while the manifest and the
    corpus are unchanged (a 1M ingest takes long). One file in one command by default; with `parts`,
    the 100k-line pieces one command each, incrementally (bounded memory per process, and the
    way a collection grows), stopping after `budget_s` seconds if given."""
    folder = index_folder(size)
    marker = DATA / f"index-{size}.bench.json"
    stats = corpus_stats(size)
    key = {"manifest": manifest(), "corpus": stats["raw_text_bytes"], "passages": stats["passages"], "parts": parts}
    if not fresh and marker.exists() and read_json(marker).get("key") == key and read_json(marker).get("complete"):
        return {**read_json(marker)["result"], "reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    files = [ROOT / p for p in stats["parts"]] if parts and stats["parts"] else [ROOT / stats["path"]]
    runs = []
    done = 0
    for number, path in enumerate(files):
        run = run_measured([venv_bin("planindex"), "ingest", "--index", str(folder), str(path), "--json"], log=LOGS / f"ingest-{size}.log")
        if run.returncode != 0:
            raise RuntimeError(f"planindex ingest failed on {path}: {run.stderr[-1000:]}")
        part_passages = sum(1 for _ in path.open(encoding="utf-8")) if len(files) > 1 else stats["passages"]
        done += part_passages
        runs.append({**run.to_json(), "passages": part_passages, "passages_per_s": part_passages / run.wall_s})
        elapsed = sum(r["wall_s"] for r in runs)
        log(f"ingest {size}: part {number + 1}/{len(files)}: {part_passages / run.wall_s:,.0f} passages/s, {elapsed:,.0f} s so far")
        if budget_s and elapsed > budget_s and number + 1 < len(files):
            log(f"ingest {size}: over the budget of {budget_s:.0f} s after {done:,} passages: stopping")
            break
    wall = sum(r["wall_s"] for r in runs)
    cpu = sum(r["cpu_s"] for r in runs)
    result = {
        "passages": done,
        "complete": done == stats["passages"],
        "parts": len(runs),
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_utilisation": cpu / wall if wall else None,  # 2.0 would mean both cores busy all along
        "passages_per_s": done / wall if wall else None,
        "max_rss_mib": max(r["max_rss_mib"] for r in runs),
        "runs": [{k: r[k] for k in ("wall_s", "cpu_s", "max_rss_mib", "passages", "passages_per_s")} for r in runs],
        "load_average_after": os.getloadavg(),
        "reused": False,
    }
    write_json(marker, {"key": key, "complete": result["complete"], "result": result})
    return result


def index_size(size: str) -> dict[str, Any]:
    """Bytes on disk of the index (database, WAL, cached arrays) and of what the database holds."""
    folder = index_folder(size)
    out: dict[str, Any] = {"total": dir_size(folder), "raw_text": corpus_stats(size)["raw_text_bytes"]}
    out["database"] = sum(p.stat().st_size for p in folder.glob("planindex.db*"))
    out["cached_arrays"] = dir_size(folder / "cache")
    db = sqlite3.connect(f"file:{folder / 'planindex.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT SUM(LENGTH(data)), SUM(LENGTH(words)) FROM passages").fetchone()
        out["columns"] = dict(zip(("records_compressed", "words_blob"), row))  # zstd frames (formats 9 and 10); no bigram counts (7)
        out["terms"] = db.execute("SELECT COUNT(*) FROM terms").fetchone()[0]
    finally:
        db.close()
    if (folder / "cache").exists():
        out["arrays"] = {p.name: p.stat().st_size for p in sorted((folder / "cache").rglob("*.npy"))}
    out["ratio_total_to_raw"] = out["total"] / out["raw_text"]
    out["ratio_database_to_raw"] = out["database"] / out["raw_text"]
    return out


def worker_cold(repeats: int) -> dict[str, Any]:
    """Cold `planindex search 待機児童` on the bundled corpus (a new process each time, the index and
    its cached arrays on disk, the OS page cache warm), and the modules `planindex --help` loads."""
    folder = DATA / "index-bundled"
    shutil.rmtree(folder, ignore_errors=True)
    ingest = run_measured([venv_bin("planindex"), "ingest", "--index", str(folder), "corpora", "--json"], log=LOGS / "cold.log")
    search = [venv_bin("planindex"), "search", "--index", str(folder), "待機児童"]
    first = run_measured(search, log=LOGS / "cold.log")  # builds and caches the BM25 arrays
    out: dict[str, Any] = {
        "ingest_bundled_s": ingest.wall_s,
        "first_search_s": first.wall_s,
        "first_search_ok": first.returncode == 0 and "待機児童" in first.stdout,
    }
    if shutil.which("hyperfine"):
        export = DATA / "hyperfine-cold.json"
        hf = subprocess.run(
            ["hyperfine", "--warmup", "2", "--runs", str(max(10, repeats * 4)), "--export-json", str(export), "-N", " ".join(search)],
            capture_output=True,
            text=True,
        )
        if hf.returncode == 0:
            times = read_json(export)["results"][0]["times"]
            out["hyperfine_s"] = spread(times) | {"mean": statistics.fmean(times)}
    walls = []
    for _ in range(max(10, repeats * 4)):
        walls.append(run_measured(search, log=LOGS / "cold.log").wall_s)
    out["subprocess_s"] = spread(walls)
    out["help_s"] = spread([run_measured([venv_bin("planindex"), "--help"], log=LOGS / "cold.log").wall_s for _ in range(5)])
    probe = (
        "import sys\nfrom planindex.cli import app\n"
        "try:\n    app([{args}], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = ('fitz', 'pymupdf', 'fugashi', 'MeCab', 'unidic_lite', 'numpy', 'rich', 'sqlite3', 'yaml')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy and '.' not in m)))\n"
    )
    for name, args in (("help", "'--help'"), ("search", f"'search', '--index', {str(folder)!r}, '待機児童'")):
        proc = subprocess.run([sys.executable, "-c", probe.format(args=args)], capture_output=True, text=True, cwd=DATA)
        out[f"{name}_imports"] = proc.stdout.strip().split("\n")[-1].split() if proc.stdout.strip() else []
    # Where the cold start goes: the slowest imports of one search (python -X importtime).
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            f"from planindex.cli import app; app(['search', '--index', {str(folder)!r}, '待機児童'])",
        ],
        capture_output=True,
        text=True,
        cwd=DATA,  # not ROOT: python -c would import the working tree's planindex, not the snapshot under test
    )
    imports = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(3)) <= 2:  # top-level imports only (their cumulative time)
            imports.append((match.group(4), int(match.group(2)) / 1000))
    out["top_imports_ms"] = sorted(imports, key=lambda x: -x[1])[:8]
    return out


# --- the orchestrator ------------------------------------------------------------------------
def run_worker(name: str, size: str, repeats: int, extra: list[str] | None = None) -> dict[str, Any]:
    """Run one worker in a child process; its result file, or an error row."""
    out = RESULTS / f"{name}-{size}.json"
    out.unlink(missing_ok=True)
    load_before = os.getloadavg()
    busy = busy_processes()
    argv = [sys.executable, str(Path(__file__)), "worker", name, "--size", size, "--repeats", str(repeats), *(extra or [])]
    run = run_measured(argv, log=LOGS / f"worker-{name}-{size}.log")
    if run.returncode != 0 or not out.exists():
        log(f"{name} {size}: failed ({run.returncode}): {run.stderr.strip().splitlines()[-1:] if run.stderr.strip() else ''}")
        result = {"error": run.stderr[-3000:]}
    else:
        result = read_json(out)
    result["process"] = {"wall_s": run.wall_s, "cpu_s": run.cpu_s, "max_rss_mib": run.max_rss_mib}
    result["load_average_before"] = load_before
    result["busy_before"] = busy
    write_json(out, result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the queries, after one warm-up pass")
    parser.add_argument("--only", default=",".join(ENGINES), help=f"comma-separated subset of {', '.join(ENGINES)}")
    parser.add_argument("--fresh", action="store_true", help="re-ingest even when a matching index exists")
    parser.add_argument("--ingest-budget", type=float, default=0, help="stop a parted ingest after this many seconds (0: none)")
    parser.add_argument("--ingest-parts", action="store_true", help="ingest large corpora as 100k-line pieces, one command each")
    worker = sub.add_parser("worker")
    worker.add_argument("name", choices=ENGINES)
    worker.add_argument("--size", default="100k")
    worker.add_argument("--repeats", type=int, default=5)
    worker.add_argument("--fresh", action="store_true")
    worker.add_argument("--ingest-budget", type=float, default=0)
    worker.add_argument("--ingest-parts", action="store_true")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.command == "worker":
        functions: dict[str, Any] = {
            "floor": worker_floor,
            "rank_bm25": worker_rank_bm25,
            "bm25s": worker_bm25s,
            "groonga": worker_groonga,
            "planindex": worker_planindex,
            "paired": worker_paired,
            "ingest_paired": worker_ingest_paired,
        }
        if args.name == "ingest":
            result = worker_ingest(args.size, args.repeats, args.fresh, args.ingest_budget, args.ingest_parts)
        elif args.name == "cold":
            result = worker_cold(args.repeats)
        else:
            result = functions[args.name](args.size, args.repeats)
        write_json(RESULTS / f"{args.name}-{args.size}.json", result)
        return

    only = set(args.only.split(","))
    started = time.perf_counter()
    meta = {
        "machine": machine(),
        "git": git_state(),
        "versions": versions("planindex", "numpy", "fugashi", "unidic-lite", "rank-bm25", "bm25s", "pymupdf"),
        "manifest": manifest(),
        "busy_at_start": busy_processes(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_json(RESULTS / "meta.json", meta)
    log(f"machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores; load {meta['machine']['load_average']}")
    prepare_queries()
    for size in args.sizes.split(","):
        extra = (
            ["--ingest-budget", str(args.ingest_budget)]
            + (["--fresh"] if args.fresh else [])
            + (["--ingest-parts"] if args.ingest_parts else [])
        )
        if "ingest" in only:
            log(f"{size}: planindex ingest")
            run_worker("ingest", size, args.repeats, extra)
        if "ingest_paired" in only:
            log(f"{size}: planindex ingest and the fugashi floor, taking turns")
            run_worker("ingest_paired", size, args.repeats)
        if not (index_folder(size) / "planindex.db").exists():
            log(f"{size}: no index, skipping the query benchmarks")
            continue
        write_json(DATA / f"queries-{size}.json", query_word_ids(index_folder(size)))
        for name in ("floor", "rank_bm25", "bm25s", "groonga", "planindex", "paired"):
            if name in only:
                log(f"{size}: {name}")
                run_worker(name, size, args.repeats)
        write_json(RESULTS / f"size-{size}.json", index_size(size))
    if "cold" in only:
        log("cold start on the bundled corpus")
        run_worker("cold", "bundled", args.repeats)
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    meta["total_s"] = time.perf_counter() - started
    meta["busy_at_end"] = busy_processes()
    meta["load_average_end"] = os.getloadavg()
    write_json(RESULTS / "meta.json", meta)
    from report import report

    report(args.sizes.split(","))


if __name__ == "__main__":
    main()
