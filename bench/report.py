"""Assemble the side-by-side report from the workers' result files (bench/.data/results/*.json)
into bench/results/search.md and bench/results/search.json. Run on its own to re-render:
python bench/report.py [--sizes 100k,1m]"""

from __future__ import annotations

import argparse
import math
from typing import Any

from benchlib import BENCH, DATA, percentile, read_json, spread, write_json

RESULTS = DATA / "results"
OUT = BENCH / "results"


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    return read_json(path) if path.exists() else {}


def _pass_stats(times: dict[str, list[float]], ids: list[str]) -> dict[str, dict[str, float]]:
    ids = [i for i in ids if times.get(i)]
    if not ids:
        return {"p50": spread([]), "p99": spread([])}
    passes = min(len(times[i]) for i in ids)
    per_pass = [[times[i][p] for i in ids] for p in range(passes)]
    return {"p50": spread([percentile(p, 50) for p in per_pass]), "p99": spread([percentile(p, 99) for p in per_pass]), "n": len(ids)}


def _ms(s: dict[str, float]) -> str:
    if not s or s.get("n", 1) == 0 or math.isnan(s["median"]):
        return "–"

    def f(x: float) -> str:
        return f"{x:.3g}" if x < 100 else f"{x:,.0f}"

    if s["n"] == 1 or s["min"] == s["max"]:
        return f(s["median"])
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"


def _ratio(peer: float, ours: float) -> str:
    if not peer or not ours or math.isnan(peer) or math.isnan(ours):
        return "–"
    value = peer / ours
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2g}×"


def latency_rows(size: str) -> tuple[list[list[str]], dict[str, Any]]:
    """One row per engine and mode; the ratio columns compare p50 on the same queries."""
    ours = _load(f"planindex-{size}")
    rows: list[list[str]] = []
    figures: dict[str, Any] = {}
    if "times" not in ours:
        return rows, figures
    engines: list[tuple[str, str, dict[str, Any], str]] = [
        ("planindex search() (library call)", "search", ours, ""),
        ("planindex rank() (scoring + bigram fallback)", "rank", ours, ""),
        ("planindex bm25.score() core", "core", ours, ""),
    ]
    for peer, label, mode in (
        ("rank_bm25", "rank-bm25 BM25Okapi get_scores", "core"),
        ("bm25s", "bm25s get_scores_from_ids", "core"),
        ("bm25s", "bm25s retrieve()", "retrieve"),
        ("groonga", "Groonga select (HTTP, client)", "http"),
        ("groonga", "Groonga select (server elapsed)", "server"),
    ):
        data = _load(f"{peer}-{size}")
        if "times" in data:
            note = f"sample of {data['queries']} queries" if data.get("sampled") else ""
            engines.append((label, mode, data, note))
        elif data:
            rows.append([label, "error" if "error" in data else data.get("skipped", "–"), "", "", "", "", "", ""])
    for label, mode, data, note in engines:
        times = data["times"][mode]
        ids = list(times)
        stats = _pass_stats(times, ids)
        cpu = _pass_stats(data.get("cpu_times", {}).get(mode, {}), ids)
        search_same = _pass_stats(ours["times"]["search"], ids)
        core_same = _pass_stats(ours["times"]["core"], ids)
        is_ours = data is ours
        rows.append(
            [
                label,
                _ms(stats["p50"]),
                _ms(stats["p99"]),
                _ms(cpu["p50"]) if cpu.get("n") else "–",
                str(stats.get("n", 0)) + (f" ({note})" if note else ""),
                "" if is_ours else _ratio(stats["p50"]["median"], search_same["p50"]["median"]),
                "" if is_ours else _ratio(stats["p50"]["median"], core_same["p50"]["median"]),
                "" if is_ours else _ratio(stats["p99"]["median"], search_same["p99"]["median"]),
            ]
        )
        figures[f"{label}"] = {"p50_ms": stats["p50"], "p99_ms": stats["p99"], "p50_cpu_ms": cpu["p50"], "queries": stats.get("n", 0)}
    return rows, figures


def paired_rows(size: str) -> tuple[list[list[str]], dict[str, Any]]:
    """The paired run's rows and figures: the speed-up is taken pass by pass, each pass's two p50s
    side by side."""
    paired = _load(f"paired-{size}")
    if "times" not in paired:
        return [], {}
    ours, theirs = paired["times"]["planindex"], paired["times"]["rank_bm25"]
    ids = sorted(ours)
    ratios = [
        percentile([theirs[i][p] for i in ids], 50) / percentile([ours[i][p] for i in ids], 50) for p in range(paired["passes"])
    ]
    speedup = spread(ratios)
    figures = {"speedup_p50": speedup, "planindex": _pass_stats(ours, ids), "rank_bm25": _pass_stats(theirs, ids)}
    low, high = f"{speedup['min']:,.0f}", f"{speedup['max']:,.0f}"
    rows = [
        ["planindex search()", _ms(figures["planindex"]["p50"]), _ms(figures["planindex"]["p99"]), str(len(ids)), ""],
        [
            "rank-bm25 BM25Okapi get_scores",
            _ms(figures["rank_bm25"]["p50"]),
            _ms(figures["rank_bm25"]["p99"]),
            str(len(ids)),
            f"{speedup['median']:,.0f}× ({low}–{high}×)",
        ],
    ]
    return rows, figures


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _mib(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} MiB"


def report(sizes: list[str]) -> str:
    meta = _load("meta")
    out: list[str] = []
    m = meta.get("machine", {})
    out.append(
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), {m.get('memory_gib')} GiB, Linux {m.get('kernel')}, "
        f"Python {m.get('python')}; planindex {meta.get('git', {}).get('commit')} "
        f"({meta.get('git', {}).get('installed_from')}); run {meta.get('started')} → "
        f"{meta.get('finished')} ({meta.get('total_s', 0) / 60:.0f} min). Load average at start {m.get('load_average')}, "
        f"at end {meta.get('load_average_end')}."
    )
    out.append("Versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()) + ".")
    busy = sorted(set(meta.get("busy_at_start", []) + meta.get("busy_at_end", [])))
    if busy:
        out.append("Other processes busy during the run: " + "; ".join(busy) + ".")
    summary: dict[str, Any] = {"meta": meta}
    for size in sizes:
        out.append(f"\n### {size} passages\n")
        rows, figures = latency_rows(size)
        summary[f"latency-{size}"] = figures
        if rows:
            out.append(
                "Latency in ms per query (wall clock; 'CPU' is the querying thread's CPU time, which waiting for a busy core "
                "does not inflate): the median over passes (min–max over passes). Speed-up = the peer's p50 (or p99) "
                "divided by planindex's on the same queries: above 1× planindex is faster.\n"
            )
            out.append(
                table(
                    [
                        "engine",
                        "p50 ms",
                        "p99 ms",
                        "p50 CPU ms",
                        "queries",
                        "p50 speed-up of search()",
                        "p50 speed-up of core",
                        "p99 speed-up of search()",
                    ],
                    rows,
                )
            )
        paired, paired_figures = paired_rows(size)
        if paired:
            out.append(
                "\nPaired: planindex search() and rank-bm25 get_scores in one process, taking turns pass by pass (each pass "
                "after a warm-up pass; which goes first swapped each round), so that both meet the machine in much the same "
                "state. Per round, the p50 of each and their ratio; the median over rounds (min–max):\n"
            )
            out.append(table(["engine", "p50 ms", "p99 ms", "queries", "p50 speed-up of search()"], paired))
            summary[f"paired-{size}"] = paired_figures
        ours = _load(f"planindex-{size}")
        if ours.get("overlap"):
            orows = []
            for peer, o in ours["overlap"].items():

                def pct(x: float | None) -> str:
                    return "–" if x is None else f"{100 * x:.0f}%"

                orows.append(
                    [
                        peer,
                        pct(o.get("core_raw")),
                        pct(o.get("core_ties")),
                        pct(o.get("search_raw")),
                        pct(o.get("search_ties")),
                        str(o["queries"]),
                    ]
                )
            out.append(
                "\nTop-10 overlap with planindex (share of planindex's top 10 that the peer also returns; 'ties' also counts "
                "a passage whose planindex score equals planindex's 10th):\n"
            )
            out.append(table(["peer", "vs core", "vs core, ties", "vs search()", "vs search(), ties", "queries"], orows))
            summary[f"overlap-{size}"] = ours["overlap"]
        if ours.get("oracle"):
            out.append(
                f"\nOracle: planindex's core against bm25s (method lucene, times the constant k1 + 1 that bm25s leaves out), "
                f"largest relative score difference over the top 10 of {ours['oracle']['queries']} queries: "
                f"{ours['oracle']['max_rel_score_diff_vs_bm25s']:.1e}."
            )
        builds = []
        if ours:
            builds.append(
                [
                    "planindex arrays (first open / reopen from cache)",
                    f"{ours['first_open_s']:.1f} s / {ours['reopen_s']:.2f} s",
                    _mib(ours.get("peak_rss_mib")),
                ]
            )
        for peer, key in (("rank_bm25", "build_s"), ("bm25s", "build_s")):
            d = _load(f"{peer}-{size}")
            if key in d:
                builds.append([f"{peer} index from the same tokens", f"{d[key]:.1f} s", _mib(d.get("peak_rss_mib"))])
        g = _load(f"groonga-{size}")
        if "build" in g:
            b = g["build"]
            reused = " (db reused)" if b.get("reused") else ""
            builds.append(
                [
                    f"Groonga load + offline index{reused}",
                    f"{b['load_s']:.0f} s + {b['index_s']:.0f} s",
                    f"server {_mib(g.get('server_peak_rss_mib'))}, db {g['db_bytes'] / 2**20:,.0f} MiB",
                ]
            )
        if builds:
            out.append("\nBuild time and peak memory of each query process:\n")
            out.append(table(["what", "time", "peak RSS / size"], builds))
        ing = _load(f"ingest-{size}")
        floor = _load(f"floor-{size}")
        if "passages_per_s" in ing:
            reused = " (index reused from an earlier run with the same manifest and corpus)" if ing.get("reused") else ""
            out.append(f"\nIngest{reused}:\n")
            irows = [
                [
                    "planindex ingest (CLI, tokenization included)",
                    f"{ing['passages_per_s']:,.0f}",
                    f"{ing['passages'] / ing['cpu_s']:,.0f}",
                    "1×",
                    f"{ing['wall_s']:,.0f} s wall, {ing['cpu_s']:,.0f} s CPU ({ing['cpu_utilisation']:.2f} cores busy)",
                    _mib(ing["max_rss_mib"]),
                    f"{ing['passages']:,} passages in {ing['parts']} run(s)" + ("" if ing["complete"] else " — INCOMPLETE (budget)"),
                ]
            ]
            for key, label in (
                ("tagger_nodes", "fugashi Tagger() nodes, 1 process"),
                ("tagger_nodes_2proc", "fugashi Tagger() nodes, 2 processes"),
                ("tagger_parse", "fugashi parse() string, 1 process"),
                ("planindex_analyze", "planindex analyze() alone, 1 process"),
            ):
                f = floor.get(key)
                if not f:
                    continue
                per_cpu = f.get("passages_per_cpu_s")
                irows.append(
                    [
                        label,
                        f"{f['passages_per_s']:,.0f}",
                        f"{per_cpu:,.0f}" if per_cpu else "–",
                        f"{f['passages_per_s'] / ing['passages_per_s']:.1f}×",
                        f"{f['wall_s']['min']:,.0f} s wall, {f['cpu_s']['min']:,.0f} s CPU (best of {f['wall_s']['n']})"
                        if isinstance(f.get("wall_s"), dict) and "cpu_s" in f
                        else "",
                        "",
                        f"on {f.get('passages', floor.get('passages')):,} passages",
                    ]
                )
            out.append(table(["what", "passages/s", "passages per CPU s", "speed ÷ planindex ingest", "time", "peak RSS", "note"], irows))
            summary[f"ingest-{size}"] = ing
            summary[f"floor-{size}"] = floor
        turns = _load(f"ingest_paired-{size}")
        if "rounds" in turns:
            out.append(f"\nIngest and the floor taking turns ({turns['passages']:,} passages, a fresh index each round):\n")
            rows = [
                [
                    str(number + 1),
                    f"{r['ingest_wall_s']:.1f} s wall, {r['ingest_cpu_s']:.0f} s CPU",
                    f"{r['floor_wall_s']:.1f} s wall, {r['floor_cpu_s']:.0f} s CPU",
                    f"{r['ratio']:.2f}×",
                ]
                for number, r in enumerate(turns["rounds"])
            ]
            out.append(table(["round", "planindex ingest", "fugashi Tagger() nodes, 2 processes", "ingest ÷ floor (wall)"], rows))
            spread_ = f"{turns['ratio_min']:.2f}–{turns['ratio_max']:.2f}×"
            out.append(f"\nMedian {turns['ratio_median']:.2f}× ({spread_}); the goal is within 1.5×.")
            summary[f"ingest_paired-{size}"] = turns
        sz = _load(f"size-{size}")
        if sz:
            c = sz.get("columns", {})
            # an index of format 7 or later counts bigrams when the arrays are built: no column holds them
            grams = f", bigram counts {c['grams_blob'] / 2**20:,.0f} MiB" if c.get("grams_blob") else " (bigram counts are not stored)"
            out.append(
                f"\nIndex size: {sz['total'] / 2**20:,.0f} MiB on disk = {sz['ratio_total_to_raw']:.2f}× the raw UTF-8 text "
                f"({sz['raw_text'] / 2**20:,.0f} MiB); database {sz['database'] / 2**20:,.0f} MiB ({sz['ratio_database_to_raw']:.2f}×), "
                f"cached BM25 arrays {sz['cached_arrays'] / 2**20:,.0f} MiB. Inside the database: passage JSON and normalized text "
                f"(one compressed stream a row) {(c.get('records_compressed') or 0) / 2**20:,.0f} MiB, "
                f"word counts {(c.get('words_blob') or 0) / 2**20:,.0f} MiB{grams}."
            )
            summary[f"size-{size}"] = sz
    cold = _load("cold-bundled")
    if cold and "subprocess_s" in cold:
        out.append("\n### Cold start (bundled corpus)\n")
        crow = [
            [
                "planindex search 待機児童, subprocess",
                _ms({k: v * 1000 for k, v in cold["subprocess_s"].items() if k != "n"} | {"n": cold["subprocess_s"]["n"]}),
            ]
        ]
        if "hyperfine_s" in cold:
            h = cold["hyperfine_s"]
            crow.append(["planindex search 待機児童, hyperfine", _ms({k: h[k] * 1000 for k in ("min", "median", "max")} | {"n": h["n"]})])
        crow.append(["first search after ingest (builds the arrays)", f"{cold['first_search_s'] * 1000:,.0f}"])
        crow.append(["planindex --help", _ms({k: v * 1000 for k, v in cold["help_s"].items() if k != "n"} | {"n": cold["help_s"]["n"]})])
        out.append(table(["command", "wall ms, median (min–max)"], crow))
        out.append(
            f"\n`planindex --help` loads: {', '.join(cold.get('help_imports', [])) or 'none of them'} "
            f"(of pymupdf/fitz, fugashi, MeCab, numpy, rich, sqlite3, yaml). `planindex search` loads: "
            f"{', '.join(cold.get('search_imports', []))}."
        )
        out.append(
            "Slowest top-level imports of one search (cumulative ms): "
            + ", ".join(f"{name} {ms:.0f}" for name, ms in cold.get("top_imports_ms", []))
            + "."
        )
        summary["cold"] = cold
    text = "\n".join(out) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "search.md").write_text(text, encoding="utf-8")
    write_json(OUT / "search.json", summary)
    print(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,1m")
    args = parser.parse_args()
    report(args.sizes.split(","))


if __name__ == "__main__":
    main()
