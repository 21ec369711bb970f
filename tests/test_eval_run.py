"""The evaluation commands fail on one line, as the CLI does, for what a user can fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planindex.errors import MissingExtra
from planindex.eval_run import extra


@pytest.mark.parametrize("module", ["planindex.eval_search", "planindex.eval_links", "planindex.eval_related"])
def test_no_index_is_one_line(tmp_path: Path, module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--index", str(tmp_path / "none")], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: no index in {tmp_path / 'none'}: build one with `planindex ingest corpora/`"]


def test_a_missing_extra_says_how_to_install_it() -> None:
    with pytest.raises(MissingExtra, match=r'pip install -e "\.\[test\]"'):
        extra("planindex_no_such_module")
