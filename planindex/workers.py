"""Worker processes that run one function on tasks sent through pipes, with no thread in the caller.

The caller sends a task to a worker with room, takes the replies that are ready whenever it looks,
and does work of its own in between. concurrent.futures' pool moves every task and reply through
two threads of the caller; where the caller is busy in Python itself (reading a file, writing the
index, tokenizing), those threads wait for the GIL at every step, and a worker waited for them
(0.3-0.5 s at the start of each 100k-passage ingest). With pipes enlarged to hold a reply and a
queued task, neither side blocks the other: a worker has its next task ready when it finishes one.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from planindex.errors import WorkerDied

PIPE_BYTES = 1 << 20  # Linux's limit for an unprivileged process (/proc/sys/fs/pipe-max-size)
QUEUED = 2  # tasks a worker holds at once (one running, one waiting) when its pipes take that much


def _serve(function: Callable[..., Any], tasks: Connection, replies: Connection, inherited: list[int]) -> None:
    """A worker's life: a reply (the result, or the exception raised) to each task, in order, until
    the caller closes its end. inherited: the caller's ends of the pipes (this worker's and those of
    the workers forked before it), which a forked worker holds too and closes: while any process
    holds a pipe's writing end its reader never sees it end, nor does a writer see its reader gone."""
    for descriptor in inherited:
        os.close(descriptor)
    gc.enable()  # forked while the caller read a file with the collector paused
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle: it closes the pipes
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        try:
            reply = function(*task)
        except Exception as exc:  # sent back, to be raised in the caller
            reply = exc
        try:
            replies.send(reply)
        except OSError:  # the caller is gone
            return
        except Exception as exc:  # a reply that does not pickle: its error goes back instead
            replies.send(RuntimeError(f"a worker's reply could not be sent back: {exc!r}"))


def _enlarge(pipe: Connection) -> bool:
    """Whether the pipe now holds PIPE_BYTES (Linux only)."""
    try:
        import fcntl  # absent on Windows

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        return False
    return True


class Workers:
    """`count` processes running `function`. Tasks and replies are numbered by the caller; a task's
    arguments and its reply must be picklable. A context manager: the processes end with it."""

    def __init__(self, count: int, function: Callable[..., Any]) -> None:
        forked = sys.platform == "linux"
        context = multiprocessing.get_context("fork" if forked else "spawn")
        self._processes: list[Any] = []
        self._tasks: list[Connection] = []
        self._replies: list[Connection] = []
        self._pending: list[collections.deque[int]] = []  # per worker, the numbers of its tasks not yet replied to
        self._room = QUEUED
        for _ in range(count):
            task_reader, task_writer = context.Pipe(duplex=False)
            reply_reader, reply_writer = context.Pipe(duplex=False)
            if not (_enlarge(task_writer) and _enlarge(reply_writer)):
                self._room = 1  # a send could fill a pipe that the worker is not reading
            ours = (*self._tasks, *self._replies, task_writer, reply_reader)
            inherited = [end.fileno() for end in ours] if forked else []
            process = context.Process(target=_serve, args=(function, task_reader, reply_writer, inherited), daemon=True)
            process.start()
            task_reader.close()  # the worker's ends: closed here, so that either side sees the other end
            reply_writer.close()
            self._processes.append(process)
            self._tasks.append(task_writer)
            self._replies.append(reply_reader)
            self._pending.append(collections.deque())

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def submit(self, number: int, args: tuple[Any, ...]) -> bool:
        """Send the task to the least busy worker with room; False when every worker is full."""
        worker = min(range(len(self._pending)), key=lambda w: len(self._pending[w]))
        if len(self._pending[worker]) >= self._room:
            return False
        try:
            self._tasks[worker].send(args)
        except BrokenPipeError:
            raise self._died(worker) from None
        self._pending[worker].append(number)
        return True

    def _died(self, worker: int) -> WorkerDied:
        self._processes[worker].join(timeout=1)
        code = self._processes[worker].exitcode
        return WorkerDied(
            f"a worker process ended without replying (exit code {code}): killed, or out of memory? Nothing of this command was written"
        )

    def ready(self, block: bool = False) -> dict[int, Any]:
        """The replies that have arrived, by task number; with block, at least one (some task must be
        pending). A task that raised raises here."""
        if block:
            wait([reader for reader, pending in zip(self._replies, self._pending) if pending])
        out: dict[int, Any] = {}
        for worker, reader in enumerate(self._replies):
            while self._pending[worker] and reader.poll():
                number = self._pending[worker].popleft()
                try:
                    out[number] = reader.recv()
                except EOFError:
                    raise self._died(worker) from None
                if isinstance(out[number], Exception):
                    raise out[number]
        return out

    def close(self) -> None:
        """End the workers: each sees its task pipe closed once it has replied to what it holds."""
        for writer in self._tasks:
            writer.close()
        for reader in self._replies:
            reader.close()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        self._processes = []
        self._tasks = []
        self._replies = []
