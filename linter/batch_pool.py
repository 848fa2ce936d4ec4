"""`--jobs N`: linting in N worker processes (linter.batch.lint_each), imported only when a batch uses them.

The inputs go to the workers in chunks (a task's round trip is amortised), each worker started once for the
batch: forked, it inherits the engine, the rules and the profile the parent loaded, and keeps its archives
open. What a worker sends back is `finish(index, result)`, computed in the worker: for lint_sources what the
reporters read of a result (linter.report_view), for the CLI's CSV and text reports the input's rendered rows
(linter.render.rows). The results are streamed back in input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from linter import heap
from linter.batch import (
    ArchiveReader,
    FileResult,
    InputSource,
    LintedSet,
    LintOptions,
    ProgressCallback,
    ZipLimits,
    lint_input,
)
from linter.batch_fork import chunk_size
from linter.errors import InputError
from linter.profiles import Profile
from linter.report_view import report_view
from linter.terminology import terminology

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

T = TypeVar("T")


def in_workers(
    sources: Sequence[InputSource],
    profile: Profile,
    options: LintOptions,
    limits: ZipLimits,
    finish: Callable[[int, FileResult], T],
    jobs: int,
    progress: ProgressCallback | None,
    mp_context: BaseContext | None,
) -> list[T]:
    out: list[T] = []
    total = len(sources)
    # What the lints of a process build (the terminology's indexes and phrase patterns, compiled when first
    # used) is built once here, before the workers fork and inherit it, instead of once in each worker: the
    # critical path is the same (the workers waited for it), the CPU is paid once as with --jobs 1.
    terminology().compile_patterns()
    # Lazy: concurrent.futures and multiprocessing only for this runner (lint_sources imports this module for
    # for_reports with any runner).
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=mp_context, initializer=_init_worker, initargs=(profile, options, limits, finish)
    ) as pool:
        for result in _ordered(pool, sources, chunk=chunk_size(total, jobs), window=jobs * 4):
            out.append(result)
            if progress:  # the total grows by the members of files that turned out to be archives
                progress(len(out), max(total, len(out)), result.path)
    return out


def _ordered(pool: ProcessPoolExecutor, sources: Sequence[InputSource], chunk: int, window: int) -> Iterator[Any]:
    """The workers' `finish` results in input order, streamed chunk by chunk, with at most `window` chunks in
    flight (memory stays bounded)."""
    pending: deque[Future[list[Any]]] = deque()
    for start in range(0, len(sources), chunk):
        pending.append(pool.submit(_work_chunk, start, list(sources[start : start + chunk])))
        if len(pending) >= window:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


_WORKER: dict[str, Any] = {}


def _init_worker(
    profile: Profile, options: LintOptions, limits: ZipLimits, finish: Callable[[int, FileResult], Any]
) -> None:
    # What the worker inherited or imported lives as long as it does: keep the garbage collector off it (its
    # full collections would otherwise walk, and under fork copy, every page of the parent's heap), and
    # collect the young generation less often (linter.heap).
    heap.settle()
    # The worker's archives stay open for its life (it ends with the batch's pool).
    _WORKER.update(profile=profile, options=options, limits=limits, finish=finish, archives=ArchiveReader())


def _work_chunk(start: int, chunk: list[InputSource]) -> list[Any]:
    profile, options, limits = _WORKER["profile"], _WORKER["options"], _WORKER["limits"]
    finish, archives = _WORKER["finish"], _WORKER["archives"]
    return [
        finish(start + n, r) for n, src in enumerate(chunk) for r in lint_input(src, profile, options, limits, archives)
    ]


class Packed(NamedTuple):
    """A worker's result for lint_sources: what the reporters read, and the errors as tuples (InputError does
    not survive pickling with its path and source)."""

    result: FileResult
    errors: list[tuple[str, str | None, str | None]]

    @property
    def path(self) -> str:
        return self.result.path


def for_reports(_index: int, result: FileResult) -> Packed:
    """What a worker sends back of a result: what the reporters read (linter.report_view), errors as tuples."""
    errors = [(e.message, e.path, e.source) for e in result.errors]
    sets = [LintedSet(*report_view(s.order_set, s.findings, s.originals)) for s in result.sets]
    return Packed(FileResult(result.path, sets, []), errors)


def unpack(packed: Packed) -> FileResult:
    result, errors = packed
    result.errors = [InputError(message, path, source) for message, path, source in errors]
    return result
