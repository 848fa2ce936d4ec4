"""`--jobs N` as this process and N - 1 forked workers (linter.batch_fork): the chunks cover the inputs in order
and shrink towards the end, results equal one process's whatever the window, and a worker that raises or dies
makes the batch fail instead of losing inputs."""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest

from linter import batch_fork
from linter.batch import FileResult, InputSource, LintOptions, collect_inputs, lint_each
from linter.profiles import Profile
from tests.conftest import FIXTURE_NOW, FIXTURES

OPTIONS = LintOptions(mode="fast", now=FIXTURE_NOW)


def _sources() -> list[InputSource]:
    return [*collect_inputs([str(FIXTURES)]), InputSource("missing.json", error="no such file")]


def _summary(_index: int, r: FileResult) -> tuple[str, list[str], list[str]]:
    return (r.path, [f.code for f in r.findings], [e.message for e in r.errors])


class _Named(tuple):  # type: ignore[type-arg]
    @property
    def path(self) -> str:
        return str(self[0])


def _named(index: int, r: FileResult) -> _Named:
    return _Named(_summary(index, r))


def test_chunks_cover_the_inputs_in_order_and_shrink_towards_the_end() -> None:
    for total, jobs in ((2010, 2), (231, 2), (10, 2), (5000, 4), (1, 2)):
        chunks = batch_fork.chunks(total, jobs)
        assert chunks[0][0] == 0 and chunks[-1][1] == total
        assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))  # contiguous, in order
        sizes = [end - start for start, end in chunks]
        assert max(sizes) <= batch_fork.chunk_size(total, jobs) and min(sizes) >= 1
        assert sizes == sorted(sizes, reverse=True)  # never larger towards the end
    sizes = [end - start for start, end in batch_fork.chunks(2010, 2)]
    assert sizes[0] == 32 and sizes[-1] == 1 and len(sizes) < 100


@pytest.mark.parametrize("window", [1, batch_fork.WINDOW_PER_JOB])
@pytest.mark.parametrize("jobs", [2, 3])
def test_results_stream_in_input_order_and_equal_one_process(
    profile: Profile, monkeypatch: pytest.MonkeyPatch, jobs: int, window: int
) -> None:
    monkeypatch.setattr(batch_fork, "WINDOW_PER_JOB", window)  # 1: the window is often full
    sources = _sources()
    one = lint_each(sources, profile, OPTIONS, _summary)
    seen: list[tuple[int, int, str]] = []
    many = lint_each(
        sources,
        profile,
        OPTIONS,
        _named,
        jobs=jobs,
        progress=lambda done, total, name: seen.append((done, total, name)),
    )
    assert [tuple(x) for x in many] == one
    assert seen == [(n + 1, len(sources), s.name) for n, s in enumerate(sources)]


def _raise_in_a_worker(parent: int) -> Any:
    def finish(index: int, r: FileResult) -> _Named:
        if os.getpid() != parent and index >= 40:
            raise ValueError(f"rule crashed on input {index}")
        return _named(index, r)

    return finish


def test_an_exception_in_a_worker_is_raised_in_the_parent(profile: Profile) -> None:
    with pytest.raises(ValueError, match="rule crashed on input") as exc:
        lint_each(_sources(), profile, OPTIONS, _raise_in_a_worker(os.getpid()), jobs=2)
    assert any("in --jobs worker process" in note and "ValueError" in note for note in exc.value.__notes__)


def test_a_worker_that_dies_fails_the_batch(profile: Profile) -> None:
    parent = os.getpid()

    def finish(index: int, r: FileResult) -> _Named:
        if os.getpid() != parent:
            os._exit(3)  # killed, crashed: no exception, no result
        return _named(index, r)

    with pytest.raises(batch_fork.WorkerError, match="ended before sending its results"):
        lint_each(_sources(), profile, OPTIONS, finish, jobs=2)
