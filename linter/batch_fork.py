"""`--jobs N` as this process and N - 1 forked ones (linter.batch.lint_each, where fork is the start method).

The CLI's batch ran in a ProcessPoolExecutor: N workers beside the parent (three processes for `--jobs 2` on
two cores), each chunk of inputs pickled to a worker through the executor's queues and threads, and the
parent, which also pays the start, only waited. Here the parent is one of the N: it forks N - 1 workers, which
inherit the inputs, the profile, the engine and the rules, so a task is a chunk's number and index range
(12 bytes on a pipe) and nothing but the results is pickled; and it lints chunks itself, looking after the
workers between two of its inputs (a poll: read what came back, hand out the next chunks). Every process
takes the next chunk when it needs one, so the parent, which also emits the results, simply takes fewer.
Neither multiprocessing nor concurrent.futures is imported.

Results come out in input order (`progress` called for each); a worker holds at most AHEAD chunks, and no
chunk is handed out more than WINDOW chunks past the first one not yet emitted, so memory stays bounded.
Chunks shrink towards the end (`chunks`), so that the processes finish close together. A worker that raises
sends its exception back (with the worker's traceback as a note); one that dies closes its pipe: either way the
parent stops the other workers and raises.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

# pickle's C implementation, which the pickle module re-exports: importing the module itself (its Python
# fallback classes, a probe for Jython) was ~1.5 ms of the start the workers wait for (-X importtime).
try:
    from _pickle import dumps, loads
except ImportError:  # pragma: no cover - an interpreter without it
    from pickle import dumps, loads

from linter import heap
from linter.batch import ArchiveReader, FileResult, InputSource, LintOptions, ProgressCallback, ZipLimits, lint_input
from linter.profiles import Profile
from linter.terminology import terminology

T = TypeVar("T")

AHEAD = 2  # chunks a worker holds: the one it lints and the next, so it never waits for the parent's poll
WINDOW_PER_JOB = 4  # chunks in flight past the first not yet emitted, per process
_TASK = struct.Struct("=iii")  # chunk number, first input, end
_RESULT = struct.Struct("=iQ")  # chunk number (-1: the worker failed), bytes of the pickled list that follows
_PROTOCOL = -1  # pickle's highest
_PIPE_BYTES = 1 << 20  # a worker's result pipe (Linux F_SETPIPE_SZ): it never waits for the parent to read


class WorkerError(RuntimeError):
    """A worker process ended without sending back its chunk."""


def chunk_size(total: int, jobs: int) -> int:
    """Inputs per chunk at most: enough to amortise a chunk's round trip, small enough that every process gets
    several chunks (load balance) and progress still moves. 2,010 inputs on 2 jobs: chunks of 32."""
    return max(1, min(32, total // (jobs * 8)))


def chunks(total: int, jobs: int) -> list[tuple[int, int]]:
    """The batch's chunks as (first input, end): chunk_size() while much is left, then smaller (a quarter of
    what is left per process), so that no process is left with a long chunk when the others are done."""
    cap = chunk_size(total, jobs)
    out: list[tuple[int, int]] = []
    start = 0
    while start < total:
        size = max(1, min(cap, (total - start) // (jobs * 4)))
        out.append((start, start + size))
        start += size
    return out


class _Worker:
    __slots__ = ("held", "pid", "results", "tasks")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results  # our ends of its pipes (tasks -1: closed)
        self.held: deque[int] = deque()  # the chunks it was given and has not sent back, in order


def in_forks(
    sources: Sequence[InputSource],
    profile: Profile,
    options: LintOptions,
    limits: ZipLimits,
    finish: Callable[[int, FileResult], T],
    jobs: int,
    progress: ProgressCallback | None,
) -> list[T]:
    # What the lints of a process build (the terminology's indexes and phrase patterns, compiled when first
    # used) is built once here, before the workers fork and inherit it, instead of once in each worker.
    terminology().compile_patterns()
    run = _Run(sources, finish, chunks(len(sources), jobs), jobs, progress)

    def lint_one(i: int) -> list[T]:
        return [finish(i, r) for r in lint_input(sources[i], profile, options, limits, run.archives)]

    # The first input is linted before the workers fork: they inherit what its lint built on first use (the
    # engine's plan, the rules' options, the regexes and memo tables of the code paths it ran) instead of each
    # building it again (callgrind, 2,010 bundles: the first lint of a process costs ~30 M instructions more
    # than the next ones).
    first = lint_one(0)
    try:
        run.workers = _fork(
            jobs - 1, lambda tasks, results: _serve(tasks, results, sources, profile, options, limits, finish)
        )
        run.parent(lint_one, first)
    except BaseException:
        _end(run.workers, kill=True)
        raise
    finally:
        run.archives.close()
    _end(run.workers, kill=False)
    return run.out


class _Run:
    """The parent's side of a batch: hands out chunks, lints its own, collects and emits in order."""

    def __init__(
        self,
        sources: Sequence[InputSource],
        finish: Callable[[int, FileResult], T],
        chunks: list[tuple[int, int]],
        jobs: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.total, self.chunks, self.progress = len(sources), chunks, progress
        self.window = WINDOW_PER_JOB * jobs
        self.next = 0  # the next chunk to hand out
        self.emitted = 0  # the next chunk to emit
        self.done: dict[int, list[Any]] = {}
        self.out: list[Any] = []
        self.workers: list[_Worker] = []
        self.archives = ArchiveReader()  # the parent's own reads (each worker has its own)

    def parent(self, lint_one: Callable[[int], list[Any]], first: list[Any]) -> None:
        """Lint chunks here (the first chunk's first input, whose results are `first`, already linted) while
        the workers lint theirs, until every result is emitted."""
        by_fd = {w.results: w for w in self.workers}
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        mine = self._take()  # chunk 0, which `first` began
        for w in self.workers:
            self._give(w)
        results, begun = first, 1  # the chunk's results so far, and its inputs they are from
        while self.emitted < len(self.chunks):
            if mine is None:
                mine = self._take()
                self._close_when_all_given()
                results, begun = [], 0
            if mine is None:  # all handed out, or the window is full: wait for the workers' results
                if not by_fd:  # pragma: no cover - chunks are held only by live workers
                    raise WorkerError("--jobs: chunks are missing and no worker is left")
                self._collect(poller, by_fd, None)
                continue
            start, end = self.chunks[mine]
            for i in range(start + begun, end):
                results.extend(lint_one(i))
                if by_fd and poller.poll(0):  # between two inputs: the workers' results, their next chunks
                    self._collect(poller, by_fd, 0)
            self.done[mine] = results
            self._emit()
            mine = None

    def _take(self) -> int | None:
        """The next chunk's number, or None when all are handed out or the window is full (the parent then
        waits for results instead)."""
        if self.next >= len(self.chunks) or self.next - self.emitted >= self.window:
            return None
        self.next += 1
        return self.next - 1

    def _give(self, w: _Worker) -> None:
        while len(w.held) < AHEAD and w.tasks >= 0 and (number := self._take()) is not None:
            w.held.append(number)
            try:
                _write(w.tasks, _TASK.pack(number, *self.chunks[number]))
            except BrokenPipeError:  # it has ended (failed) since its last result: its result pipe says how
                _close_tasks(w)
        self._close_when_all_given()

    def _close_when_all_given(self) -> None:
        if self.next == len(self.chunks):  # nothing left: each worker ends after the chunks it holds
            for w in self.workers:
                _close_tasks(w)

    def _collect(self, poller: select.poll, by_fd: dict[int, _Worker], timeout: float | None) -> None:
        for fd, _event in poller.poll(timeout):
            w = by_fd[fd]
            head = _read(fd, _RESULT.size)
            if len(head) < _RESULT.size:  # the worker has ended: fine once it has sent back all it was given
                poller.unregister(fd)
                del by_fd[fd]
                if w.held:
                    raise WorkerError(f"a --jobs worker process (pid {w.pid}) ended before sending its results")
                continue
            number, size = _RESULT.unpack(head)
            payload = _read(fd, size)
            if len(payload) < size:
                raise WorkerError(f"a --jobs worker process (pid {w.pid}) ended while sending its results")
            if number < 0:
                exc, where = loads(payload)  # noqa: S301 - from our own forked worker
                exc.add_note(f"in --jobs worker process {w.pid}:\n{where}")
                raise exc
            if not w.held or w.held[0] != number:  # pragma: no cover - a worker sends its chunks in order
                raise WorkerError(f"a --jobs worker process sent chunk {number}, not one it was given")
            w.held.popleft()
            self.done[number] = _unpack(payload)
            self._give(w)
        self._emit()
        for w in self.workers:  # the window may have moved: hand out what it now allows
            self._give(w)

    def _emit(self) -> None:
        while self.emitted in self.done:
            results = self.done.pop(self.emitted)
            start, end = self.chunks[self.emitted]
            self.total += len(results) - (end - start)  # the members of files that turned out to be archives
            for result in results:
                self.out.append(result)
                if self.progress:
                    self.progress(len(self.out), self.total, result.path)
            self.emitted += 1


def _fork(count: int, serve: Callable[[int, int], None]) -> list[_Worker]:
    workers: list[_Worker] = []
    try:
        for _ in range(count):
            workers.append(_fork_one(workers, serve))
    except BaseException:  # no pipe or no process left: stop the workers already started
        _end(workers, kill=True)
        raise
    return workers


def _fork_one(workers: list[_Worker], serve: Callable[[int, int], None]) -> _Worker:
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    _widen(result_w)
    pid = os.fork()
    if pid == 0:  # the worker: it never returns into the caller's code (os._exit: no atexit, no flush)
        code = 1
        try:
            for fd in (task_w, result_r, *(fd for w in workers for fd in (w.tasks, w.results))):
                os.close(fd)
            serve(task_r, result_w)
            code = 0
        except BaseException as exc:
            _send_failure(result_w, exc)
        finally:
            os._exit(code)
    os.close(task_r)
    os.close(result_w)
    return _Worker(pid, task_w, result_r)


def _serve(
    tasks: int,
    results: int,
    sources: Sequence[InputSource],
    profile: Profile,
    options: LintOptions,
    limits: ZipLimits,
    finish: Callable[[int, FileResult], Any],
) -> None:
    """A worker: lint each chunk it is given and send back its `finish` results, until its task pipe closes."""
    # What the worker inherited lives as long as it does: keep the garbage collector off it (a full collection
    # would walk, and so copy, every page of the parent's heap) and collect the young generation less often.
    heap.settle()
    with ArchiveReader() as archives:  # the worker's archives stay open for its life
        while len(task := _read(tasks, _TASK.size)) == _TASK.size:
            number, start, end = _TASK.unpack(task)
            done = [
                finish(i, r)
                for i in range(start, end)
                for r in lint_input(sources[i], profile, options, limits, archives)
            ]
            payload = _pack(done)
            _write(results, _RESULT.pack(number, len(payload)) + payload)


def _pack(done: list[Any]) -> bytes:
    """A chunk's results, pickled. Named tuples (the CLI's CSV and text rows, linter.render.rows.InputRows) go as
    plain tuples and their class once: pickle would call a named tuple's `__getnewargs__` for each, and on the
    parent's side its `__new__`, both Python functions (callgrind: ~5 us an input in all, half of it in the
    parent), where `_unpack` builds them as tuple.__new__ does, which is all a named tuple's `__new__` does."""
    kind = type(done[0]) if done else None
    if kind is not None and hasattr(kind, "_make") and issubclass(kind, tuple) and all(type(r) is kind for r in done):
        return dumps((kind, list(map(tuple, done))), _PROTOCOL)
    return dumps((None, done), _PROTOCOL)


def _unpack(payload: bytes) -> list[Any]:
    kind, done = loads(payload)  # noqa: S301 - from our own forked worker
    if kind is None:
        return done  # type: ignore[no-any-return]
    new = tuple.__new__
    return [new(kind, values) for values in done]


def _send_failure(results: int, exc: BaseException) -> None:
    import traceback  # lazy: only a worker that fails (~2 ms of every --jobs start otherwise)

    where = "".join(traceback.format_exception(exc))
    try:
        payload = dumps((exc, where), _PROTOCOL)
    except Exception:  # an exception that does not pickle: its text
        payload = dumps((WorkerError(f"{type(exc).__name__}: {exc}"), where), _PROTOCOL)
    with contextlib.suppress(OSError):  # the parent is gone or has stopped listening
        _write(results, _RESULT.pack(-1, len(payload)) + payload)


def _close_tasks(w: _Worker) -> None:
    if w.tasks >= 0:
        os.close(w.tasks)
        w.tasks = -1


def _end(workers: list[_Worker], *, kill: bool) -> None:
    """Close the pipes and wait for every worker (stopped first when the batch failed)."""
    for w in workers:
        _close_tasks(w)
        if kill:
            import signal  # lazy: only when a batch fails (its enums cost ~0.8 ms of every --jobs start)

            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(w.pid, signal.SIGTERM)
        os.close(w.results)
        os.waitpid(w.pid, 0)


def _widen(fd: int) -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or over the user's pipe quota: the default
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _read(fd: int, size: int) -> bytes:
    """`size` bytes, or fewer when the other end closed first."""
    data = os.read(fd, size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size and (more := os.read(fd, size - got)):
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
