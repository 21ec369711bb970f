"""Helpers shared by the benchmark scripts: paths, the machine, timing statistics, and child
processes measured with their own resource usage (peak memory is per process, so each engine
runs in a process of its own)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
CORPUS = DATA / "corpus"


def venv_bin(name: str) -> str:
    """A program of the venv running this script (the bench venv when run through run.sh)."""
    return str(Path(sys.executable).parent / name)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def busy_processes(min_cpu: float = 20.0) -> list[str]:
    """Other processes using CPU right now (from ps), to state the load the figures were taken under."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,rss,comm", "--sort=-pcpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    busy = []
    for line in out.splitlines()[1:]:
        pid, pcpu, rss, comm = line.split(None, 3)
        if int(pid) != os.getpid() and float(pcpu) >= min_cpu:
            busy.append(f"{comm} (pid {pid}, {pcpu}% CPU, {int(rss) // 1024} MiB)")
    return busy


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": load_average(),
    }


def git_state() -> dict[str, str]:
    """Which planindex is measured: a snapshot of a commit, or the working tree (bench/setup_peers.sh)."""
    ref = DATA / "planindex-ref.txt"
    kind, _, commit = (ref.read_text().strip() if ref.exists() else "unknown ?").partition(" ")
    return {"commit": commit, "installed_from": kind}


def versions(*packages: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: p99 of 200 values is the 198th, an observed latency, not an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict[str, float]:
    """min / median / max of repeated measurements: the median is the figure, the range its noise."""
    if not values:
        return {"min": float("nan"), "median": float("nan"), "max": float("nan"), "n": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def latency_summary(passes: list[list[float]]) -> dict[str, Any]:
    """p50 and p99 (milliseconds) of each pass over the queries, then their spread over passes."""
    return {
        "p50_ms": spread([percentile(p, 50) for p in passes]),
        "p99_ms": spread([percentile(p, 99) for p in passes]),
        "mean_ms": spread([statistics.fmean(p) for p in passes if p]),
        "queries_per_pass": len(passes[0]) if passes else 0,
        "passes": len(passes),
    }


@dataclass(frozen=True, slots=True)
class Run:
    """One child process: wall time, CPU time (user + system) and peak resident memory."""

    argv: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mib: float
    stdout: str
    stderr: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["stdout"] = out["stdout"][-2000:]
        out["stderr"] = out["stderr"][-2000:]
        return out


def run_measured(argv: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None, log: Path | None = None) -> Run:
    """Run a command and measure it with wait4(): the rusage of that one child, not of all children."""
    log = log or DATA / "logs" / "last-command.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log.with_suffix(".out"), log.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait() again
    return Run(
        argv=argv,
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (VmHWM)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
