"""`orderlint lint` ends its process with os._exit once its output is out (linter.cli._end_process): no byte of
the report or of stderr may be lost, whatever the buffering, and the exit code is the command's."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.cli import main
from tests.cli_run import piped
from tests.conftest import FIXTURES

ONE = FIXTURES / "HEP201" / "fail-15000-units-70kg.json"


@pytest.mark.parametrize(("path", "jobs"), [(FIXTURES, "2"), (FIXTURES, "1"), (ONE, "1")])
def test_the_process_writes_all_and_exits_as_the_command_returns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, path: Path, jobs: str
) -> None:
    args = ["lint", "--format", "text", "--mode", "fast", "--jobs", jobs, str(path)]
    code = main(args)  # in this process: main returns
    out, err = capsys.readouterr()
    assert out and err.endswith(".\n")  # a report, and the closing line
    # The console script, its stdout a pipe and so block-buffered (an empty PYTHONUNBUFFERED is unset): what a
    # short report leaves in the buffer is lost unless flushed before os._exit.
    done = piped(*args, "--no-summary", PYTHONUNBUFFERED="")
    assert (done.returncode, done.stdout, done.stderr) == (code, out, err)
    report = tmp_path / "report.txt"
    written = piped(*args, "--no-summary", "-q", "--output", str(report), PYTHONUNBUFFERED="")
    assert (written.returncode, written.stdout, written.stderr) == (code, "", "")
    assert report.read_text(encoding="utf-8") == out
