"""`orderlint lint --jobs N` writes what `--jobs 1` writes, byte for byte, in every format: the report, the lines
on stderr and the exit code, over the fixture catalog plus inputs that cannot be read (a missing file, a file
that is not FHIR, an archive with refused and broken members). CSV and text are rendered input by input where
each input is linted (linter.render.rows); their bytes also equal the whole-batch renderers' (what the CLI
writes when the summary tables need the whole results)."""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

import pytest

from linter import cli_lint
from linter.batch import LintOptions
from linter.cli import main
from tests.conftest import FIXTURE_NOW, FIXTURES

DATA = Path(__file__).resolve().parent / "workbench" / "data"
FORMATS = ["text", "csv", "json", "cards", "outcome", "html", "mue", "mue-json"]


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    archive = tmp_path / "orders.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "HEP201" / "fail-15000-units-70kg.json", "HEP201/fail.json")
        zf.writestr("../escape.json", "{}")
        zf.writestr("broken.json", '{"resourceType": "Bundle", "entry": [')
        zf.writestr("inner.zip", b"PK\x03\x04")
    return [str(FIXTURES), str(archive), str(tmp_path / "missing.json"), str(DATA / "not-fhir.json")]


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run evaluates at the same instant (runs a second apart must not differ by the clock)."""
    monkeypatch.setattr(cli_lint, "LintOptions", functools.partial(LintOptions, now=FIXTURE_NOW))
    monkeypatch.setenv("ORDERLINT_PATIENT_ID_SALT", "jobs-test-salt-0123456789abcdef")
    from linter.settings import get_settings  # lazy: the settings (pydantic-settings) only for the MUE formats

    get_settings.cache_clear()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    out, err = capsys.readouterr()
    return code, re.sub(r'"uuid": "[^"]+"', '"uuid": ""', out), err


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_jobs_write_what_one_job_writes(capsys: pytest.CaptureFixture[str], inputs: list[str], fmt: str) -> None:
    args = ["--mode", "fast", "--format", fmt, "--show-source", *inputs]
    one = _run(capsys, "--jobs", "1", *args)
    two = _run(capsys, "--jobs", "2", *args)
    assert one == two
    code, out, err = one
    assert code == 2  # some inputs were not read
    assert out
    assert f"{inputs[2]}: error: no such file" in err.splitlines()
    assert f"{inputs[1]}!../escape.json: error: archive member refused: a '..' path component" in err.splitlines()
    assert "with errors" in err.splitlines()[-1]  # the closing line


def _split_tables(err: str) -> tuple[list[str], str]:
    """stderr of a run with --summary: (the error lines before the tables, the closing line)."""
    lines = err.splitlines()
    return lines[: next(n for n, line in enumerate(lines) if line.strip() == "Files")], lines[-1]


@pytest.mark.parametrize("fmt", ["csv", "text"])
@pytest.mark.parametrize("show_source", [False, True])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_rows_rendered_per_input_equal_the_whole_batch_report(
    capsys: pytest.CaptureFixture[str], inputs: list[str], fmt: str, show_source: bool, jobs: str
) -> None:
    """--summary makes the CLI keep the whole results and render them at the end (report.report_csv, the text
    entries of ordering.report_rows); --no-summary renders each input's rows where it is linted."""
    args = ["--mode", "strict", "--format", fmt, "--jobs", jobs, *(["--show-source"] if show_source else []), *inputs]
    whole_code, whole_out, whole_err = _run(capsys, "--summary", *args)
    code, out, err = _run(capsys, "--no-summary", *args)
    assert (code, out) == (whole_code, whole_out)
    errors, closing = _split_tables(whole_err)
    assert err.splitlines() == [*errors, closing]
    assert len(errors) == 5 and closing.startswith("2")


@pytest.mark.parametrize("fail_on", ["info", "warning", "critical"])
@pytest.mark.parametrize("path", ["clean", "HEP201", "HEP201/fail-15000-units-70kg.json", "AT101"])
def test_exit_code_and_closing_line_from_the_counts(
    capsys: pytest.CaptureFixture[str], fail_on: str, path: str
) -> None:
    args = ["--format", "csv", "--fail-on", fail_on, str(FIXTURES / path)]
    whole_code, whole_out, whole_err = _run(capsys, "--summary", *args)
    assert _run(capsys, "--no-summary", *args) == (whole_code, whole_out, whole_err.splitlines()[-1] + "\n")
