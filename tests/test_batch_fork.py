"""`--jobs N` as this process and N - 1 forked workers (linter.batch_fork): the chunks cover the inputs in order
and shrink towards the end, results equal one process's whatever the window, and a worker that raises or dies
makes the batch fail instead of losing inputs."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

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


class _Row(NamedTuple):
    path: str
    counts: dict[str, int]


def test_results_cross_the_pipe_as_they_were() -> None:
    # Named tuples go as plain tuples and their class; anything else (other tuples, a mix) is pickled as it is.
    rows = [_Row("a.json", {"findings": 1}), _Row("b.json", {})]
    for done in (rows, [*rows, _Named(("c.json",))], [_Named(("c.json",))], [("d.json", 1)], [], [None]):
        back = batch_fork._unpack(batch_fork._pack(done))
        assert back == done and [type(x) for x in back] == [type(x) for x in done]


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


def test_a_worker_that_fails_before_the_parent_hands_it_a_chunk(profile: Profile) -> None:
    """The worker sends its first chunk and fails on its second while the parent is busy with an input: the
    parent reads the result, hands the worker its next chunk (on a pipe no one reads any more), and then raises
    the worker's exception, not a broken pipe."""
    parent = os.getpid()
    sources = _sources()
    second = batch_fork.chunks(len(sources), 2)[2][0]  # the worker holds chunks 1 and 2 from the start

    def finish(index: int, r: FileResult) -> _Named:
        if os.getpid() != parent and index >= second:
            raise ValueError(f"rule crashed on input {index}")
        if os.getpid() == parent and index == 1:
            time.sleep(1.5)  # the worker is done with chunk 1 and gone meanwhile
        return _named(index, r)

    with pytest.raises(ValueError, match="rule crashed on input"):
        lint_each(sources, profile, OPTIONS, finish, jobs=2)


def test_a_worker_that_dies_fails_the_batch(profile: Profile) -> None:
    parent = os.getpid()

    def finish(index: int, r: FileResult) -> _Named:
        if os.getpid() != parent:
            os._exit(3)  # killed, crashed: no exception, no result
        return _named(index, r)

    with pytest.raises(batch_fork.WorkerError, match="ended before sending its results"):
        lint_each(_sources(), profile, OPTIONS, finish, jobs=2)


def test_ctrl_c_stops_the_workers_and_ends_with_one_line(tmp_path: Path) -> None:
    """Ctrl-C in a terminal sends SIGINT to the whole process group: the CLI and its forked workers. The batch
    stops, no worker is left behind, and the user reads one line, not a traceback; exit code 130."""
    cases = sorted(FIXTURES.rglob("*.json"))
    for n in range(4000):  # strict mode, several seconds of work on two cores: the signal comes mid-batch
        source = cases[n % len(cases)]
        (tmp_path / f"{n:05d}-{source.name}").write_bytes(source.read_bytes())
    argv = [str(Path(sys.executable).parent / "orderlint"), "lint", "-q", "--mode", "strict", "--jobs", "2"]
    process = subprocess.Popen(
        [*argv, "--format", "csv", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 60
    while not children.read_text().split():  # the batch runs once its worker is forked
        assert process.poll() is None and time.monotonic() < deadline, "no --jobs worker was started"
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.decode().strip() == "orderlint: error: interrupted: the output is incomplete"
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):  # no process of the group is left
        os.killpg(process.pid, 0)
