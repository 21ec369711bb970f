"""Worker processes fed through pipes (planindex/workers.py): replies in the caller's numbering, a
task's exception raised in the caller, a dead worker named, and no process left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from planindex import ingest as ingest_module
from planindex import workers as workers_module
from planindex.errors import WorkerDied
from planindex.ingest import ingest
from planindex.workers import Workers
from tests.support import corpus_sentences, write_passages


def _double(values: list[int]) -> list[int]:
    return [2 * value for value in values]


def _fail_on_negatives(values: list[int]) -> list[int]:
    if min(values) < 0:
        raise ValueError(f"negative: {min(values)}")
    return values


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _unpicklable(value: int) -> object:
    return lambda: value


def _replies(workers: Workers, tasks: dict[int, tuple[object, ...]]) -> dict[int, object]:
    """Every task's reply: sent as room allows, collected as they come, the way ingest does."""
    unsent, replies = list(tasks), {}
    while len(replies) < len(tasks):
        while unsent and workers.submit(unsent[0], tasks[unsent[0]]):
            unsent.pop(0)
        replies.update(workers.ready(block=True))
    return replies


def test_replies_come_back_under_the_numbers_of_their_tasks() -> None:
    tasks: dict[int, tuple[object, ...]] = {number: ([number, number + 1] * 50_000,) for number in range(12)}  # ~1 MB each
    with Workers(2, _double) as workers:
        replies = _replies(workers, tasks)
    assert replies == {number: [2 * number, 2 * number + 2] * 50_000 for number in range(12)}
    assert not multiprocessing.active_children()


def test_spawned_workers_as_on_macos_and_windows_reply_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fork is unsafe or absent the workers are spawned: they inherit no descriptor to close."""
    monkeypatch.setattr(workers_module.sys, "platform", "darwin")
    with Workers(1, _double) as workers:
        assert _replies(workers, {number: ([number],) for number in range(3)}) == {0: [0], 1: [2], 2: [4]}
    assert not multiprocessing.active_children()


def test_a_task_that_raises_raises_in_the_caller() -> None:
    with Workers(1, _fail_on_negatives) as workers, pytest.raises(ValueError, match="negative: -3"):
        _replies(workers, {0: ([1, 2],), 1: ([4, -3],)})
    assert not multiprocessing.active_children()


def test_a_reply_that_does_not_pickle_comes_back_as_an_error() -> None:
    with Workers(1, _unpicklable) as workers, pytest.raises(RuntimeError, match="could not be sent back"):
        _replies(workers, {0: (1,)})


def test_a_killed_worker_is_named_instead_of_waited_for() -> None:
    with Workers(1, _sleep) as workers:
        assert workers.submit(0, (30.0,))
        (process,) = multiprocessing.active_children()
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(WorkerDied, match="exit code -9"):
            workers.ready(block=True)
    assert not multiprocessing.active_children()


def test_a_worker_that_dies_mid_ingest_fails_it_and_leaves_the_index_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_index: Path
) -> None:
    """A changed file whose ingest loses a worker: the error names it, and the index still holds
    the file as it was (the same content is then unchanged), with no process left behind."""
    sentences = corpus_sentences(corpus_index)
    source = write_passages(tmp_path / "p.jsonl", sentences, 30)
    ingest([source], tmp_path / "index")
    analyze = ingest_module.analyze_chunk

    def dies_in_a_worker(texts: list[str], session: str | None = None) -> object:
        if multiprocessing.parent_process() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return analyze(texts, session)

    monkeypatch.setattr(ingest_module, "analyze_chunk", dies_in_a_worker)
    monkeypatch.setattr(ingest_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ingest_module, "CHUNK", 5)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    write_passages(source, sentences, 40, seed=1)
    with pytest.raises(WorkerDied, match="exit code -9"):
        ingest([source], tmp_path / "index")
    monkeypatch.undo()
    assert not multiprocessing.active_children()
    write_passages(source, sentences, 30)
    assert [e.status for e in ingest([source], tmp_path / "index").events] == ["unchanged"]
