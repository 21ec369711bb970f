"""Every error planindex raises on purpose, in one tree.

    PlanindexError
    ├── InputError                 a file given to planindex cannot be used
    │   ├── NotFound               the path does not exist
    │   ├── NotAPdf                the file is not a PDF (or is empty)
    │   ├── CorruptPdf             the PDF is damaged or truncated beyond repair
    │   ├── EncryptedPdf           the PDF needs a password
    │   ├── EmptyPdf               the PDF has no pages
    │   ├── NoTextLayer            no page has extractable text (a scan?)
    │   └── BadJsonl               a line of a passages .jsonl file is malformed
    ├── IndexError_                the on-disk index cannot be used
    │   ├── IndexMissing           no index at that folder yet
    │   ├── IndexMismatch          built by another version of planindex, tokenizer or normalization
    │   ├── IndexDamaged           the database file is not a readable planindex index
    │   ├── IndexBusy              another process kept the index locked for writing too long
    │   └── UnknownRecord          no document, passage or KPI with that id
    ├── QueryError                 a search query that cannot be run (empty, binary, too long)
    ├── WorkerDied                 a worker process ended without replying (killed, out of memory)
    └── MissingExtra               an evaluation needs a package of the test extras

The CLI (and eval_run, for the evaluation commands) turns these into messages; each message says how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class PlanindexError(Exception):
    """Base of every error planindex raises on purpose."""


class InputError(PlanindexError):
    """A file given to planindex cannot be used."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class NotFound(InputError):
    """The path does not exist."""


class NotAPdf(InputError):
    """The file is not a PDF, or is empty."""


class CorruptPdf(InputError):
    """The PDF is damaged or truncated beyond repair."""


class EncryptedPdf(InputError):
    """The PDF needs a password."""


class EmptyPdf(InputError):
    """The PDF has no pages."""


class NoTextLayer(InputError):
    """No page has extractable text."""


class BadJsonl(InputError):
    """A line of a passages .jsonl file is malformed."""


class IndexError_(PlanindexError):  # noqa: N801 - the builtin IndexError is unrelated
    """The on-disk index cannot be used."""


class IndexMissing(IndexError_):
    """No index exists at that folder yet."""


class IndexMismatch(IndexError_):
    """The index was built by another version of planindex, the tokenizer or the normalization."""


class IndexDamaged(IndexError_):
    """The database file is not a readable planindex index."""


class IndexBusy(IndexError_):
    """Another process kept the index locked for writing too long."""


class UnknownRecord(IndexError_):
    """No document, passage or KPI has that id."""


class QueryError(PlanindexError):
    """A query that cannot be run: empty, binary, stopwords only, or too long."""


class WorkerDied(PlanindexError):
    """A worker process ended without replying: killed, or out of memory. Its command writes nothing."""


class MissingExtra(PlanindexError):
    """A package of the test extras that an evaluation needs is not installed."""
