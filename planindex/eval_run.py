"""What the evaluation commands (python -m planindex.eval_search, eval_links, eval_related) share: their
judgments are YAML files read with the test extras installed, and a failure a user can fix (no index, an
index of another version, the extras not installed) is one line on stderr and exit status 1, as in the CLI."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from planindex.errors import MissingExtra, PlanindexError


def extra(module: str) -> ModuleType:
    """A module of the test extras: the evaluations are not part of an installed planindex."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f'the evaluations need {module}: pip install -e ".[test]" ({exc})') from None


def read_yaml(path: Path) -> Any:
    return extra("yaml").safe_load(path.read_text(encoding="utf-8"))


def run(main: Callable[[], int]) -> int:
    try:
        return main()
    except (PlanindexError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
