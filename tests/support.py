"""Helpers for the tests that drive the real command line and compare an index before and after."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from planindex.store import DB_NAME, record_data


def cli_env() -> dict[str, str]:
    """The environment of a planindex subprocess: no index folder inherited from the caller, and no
    terminal width, so that nothing depends on the machine the tests run on."""
    env = {k: v for k, v in os.environ.items() if k not in ("PLANINDEX_INDEX", "COLUMNS", "LINES")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_cli(*args: str | Path, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`planindex ARGS` in a fresh interpreter, as a user runs it: stdout and stderr captured apart."""
    return subprocess.run(
        [sys.executable, "-m", "planindex.cli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=cli_env(),
        input=stdin,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """A failure as the CLI must report it: exit code != 0, exactly one line on stderr that holds
    every needle, and no traceback anywhere. Returns the line."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


@dataclass(frozen=True)
class IndexState:
    """What a user can observe of an index: its document list, every row of every table, and the
    generation that names its cached arrays."""

    docs: Any
    rows: dict[str, list[tuple[Any, ...]]]
    generation: int


def invoke(*args: str | Path) -> Result:
    """`planindex ARGS` in this process, through typer's runner: the CLI's own code, without the
    second or so that a fresh interpreter costs. For what a user sees on stderr, use run_cli."""
    from planindex.cli import app  # noqa: TID251 - the ban keeps the library off the CLI; tests drive it

    return CliRunner().invoke(app, [str(a) for a in args], env={"PLANINDEX_INDEX": None})


def index_state(folder: Path) -> IndexState:
    docs = invoke("docs", "--json", "--index", folder)
    assert docs.exit_code == 0, docs.output
    db = sqlite3.connect(folder / DB_NAME)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
        rows = {t: db.execute(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall() for t in tables}
        generation = int(db.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()[0])
    finally:
        db.close()
    return IndexState(json.loads(docs.stdout), rows, generation)


def corpus_sentences(index: Path) -> list[str]:
    """Distinct sentences of the indexed corpus passages, in a stable order: the material of the
    synthetic inputs that make an ingest long enough to kill half-way or to time."""
    db = sqlite3.connect(index / DB_NAME)
    try:
        texts = [record_data(row[0])["text"] for row in db.execute("SELECT data FROM passages")]
    finally:
        db.close()
    return sorted({piece.strip() + "。" for text in texts for piece in text.split("。") if len(piece.strip()) >= 4})


def write_passages(path: Path, sentences: list[str], count: int, seed: int = 0) -> Path:
    """A passages .jsonl of `count` lines, each 2-6 corpus sentences drawn with a seeded RNG."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            text = "".join(rng.choice(sentences) for _ in range(rng.randint(2, 6)))
            handle.write(json.dumps({"id": f"s{number:06d}", "text": text}, ensure_ascii=False) + "\n")
    return path
