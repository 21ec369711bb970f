"""The README is tested: every `$ planindex ...` command it shows runs on the corpus index, with the
exit code it implies (0, or 1 for the example of a bad input)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"^\$ planindex (.+)$", README, flags=re.MULTILINE)


def test_the_readme_shows_commands_and_both_setup_lines() -> None:
    assert len(COMMANDS) >= 7
    assert "pip install -e . && planindex ingest corpora/ && planindex search 待機児童" in README
    assert 'pip install -e ".[test]" && python -m pytest' in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[test]"' in ci and "python -m pytest" in ci


@pytest.mark.parametrize("command", COMMANDS)
def test_each_readme_command_runs(command: str, index_copy: Path, tmp_path: Path) -> None:
    args = shlex.split(command)
    if args[0] == "ingest" and args[1:] == ["notes.pdf"]:
        (tmp_path / "notes.pdf").write_text("これはPDFではありません。", encoding="utf-8")
        expected = 1
    else:
        expected = 0
    result = subprocess.run(
        [sys.executable, "-m", "planindex.cli", *args, "--index", str(index_copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path if expected else ROOT,
    )
    assert result.returncode == expected, result.stderr
    assert "Traceback" not in result.stderr
    if expected:
        assert result.stderr.strip() == "error: notes.pdf: not a PDF (no %PDF- header): is it another kind of file renamed .pdf?"
    else:
        assert result.stdout.strip()
