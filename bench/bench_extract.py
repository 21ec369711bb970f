"""Extraction speed: pages per second of planindex's full structured extraction against the floor.

The floor is what any PyMuPDF-based extractor pays at least: plain `page.get_text("dict")` over the
same pages. planindex's figure is `planindex.extract.extract()` (read glyphs and drawings, lay the
page out, parse the records); `read` is its first stage alone (planindex.pdf.read_pdf), to show where
the time goes. The PDFs are the four corpus PDFs and, where ../shared/realpdfs exists, the real ones.

Each repetition runs the three measurements one after the other on every PDF, so that they share
the machine's state; the median over repetitions is the figure and min/max its run-to-run noise.
The ratio is taken on CPU time, which other processes on a shared machine disturb far less than
wall time; both are printed. The goal is extraction within 3x of the floor.

Usage: python bench/bench_extract.py [--repeats 5] [--markdown]   (--markdown also writes the
"## Extraction speed" section of bench/README.md)
"""

from __future__ import annotations

import argparse
import gc
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pymupdf
from benchlib import ROOT, busy_processes, machine, versions

from planindex.extract import extract
from planindex.pdf import read_pdf

REAL = ROOT.parent / "shared" / "realpdfs"
README = ROOT / "bench" / "README.md"
SECTION = "## Extraction speed"


def pdfs() -> list[Path]:
    return sorted((ROOT / "corpora").glob("*.pdf")) + sorted(REAL.glob("*.pdf"))


def floor(path: Path) -> None:
    with pymupdf.open(path) as doc:
        for page in doc:
            page.get_text("dict")


def read(path: Path) -> None:
    _, pages = read_pdf(path)
    for _ in pages:
        pass


def full(path: Path) -> None:
    extract(path)


def timed(fn: Callable[[Path], None], path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one call. CPU time is what the ratio is taken on: on a shared
    machine other processes stretch wall time, not this process's CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(path)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="write the section of bench/README.md")
    args = parser.parse_args()
    files = pdfs()
    pages = 0
    for path in files:
        with pymupdf.open(path) as doc:
            pages += doc.page_count
    kinds = {"floor": floor, "read": read, "extract": full}
    for fn in kinds.values():  # warm up: imports, the OS file cache, MuPDF's font cache
        timed(fn, files[0])
    wall: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    for i in range(args.repeats):
        gc.collect()
        totals = {name: [0.0, 0.0] for name in kinds}
        for path in files:  # the three one after the other on each file: they share the machine's state
            for name, fn in kinds.items():
                w, c = timed(fn, path)
                totals[name][0] += w
                totals[name][1] += c
        for name, (w, c) in totals.items():
            wall[name].append(pages / w)
            cpu[name].append(pages / c)
        print(f"repetition {i + 1}: " + ", ".join(f"{n} {cpu[n][-1]:.0f} p/s" for n in kinds), file=sys.stderr)

    ratios = sorted(f / e for f, e in zip(cpu["floor"], cpu["extract"]))
    info = machine()

    def cell(values: list[float]) -> str:
        ordered = sorted(values)
        return f"{statistics.median(ordered):.0f} | {ordered[0]:.0f}–{ordered[-1]:.0f}"

    report = [
        SECTION,
        "",
        f"`python bench/bench_extract.py --repeats {args.repeats}` on {len(files)} PDFs, {pages} pages "
        f"({', '.join(p.name for p in files)}).",
        "",
        "| measurement | pages per CPU second, median | min–max | pages per wall second, median | min–max |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(f"| {name} | {cell(cpu[name])} | {cell(wall[name])} |" for name in kinds),
        "",
        f"Full extraction is **{statistics.median(ratios):.2f}x** the floor's time (CPU time; "
        f'{ratios[0]:.2f}–{ratios[-1]:.2f} over the repetitions; goal: within 3x). `floor` is `page.get_text("dict")` '
        "on every page; `read` is planindex.pdf alone (glyphs, drawings, rules); `extract` is "
        "`planindex.extract.extract()`: read, layout and parsers. Where the time goes: planindex has MuPDF "
        "interpret each page twice, once for the glyphs (the text trace) and once for the drawings that give "
        "the rules, together about 1.2x the floor; the rest is Python (runs from glyphs, the layout, the parsers).",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, Linux {info['kernel']}; "
        f"Python {platform.python_version()}, PyMuPDF {versions('pymupdf')['pymupdf']} (MuPDF {pymupdf.mupdf_version}); "
        f"load average {' '.join(f'{v:.2f}' for v in info['load_average'])}"
        + (f"; busy: {', '.join(busy_processes())}" if busy_processes() else "")
        + ".",
    ]
    print("\n".join(report))
    if args.markdown:
        write_section("\n".join(report) + "\n")


def write_section(section: str) -> None:
    """Add or replace this benchmark's section of bench/README.md, leaving the rest as it is."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    replaced = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    README.write_text(replaced.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
