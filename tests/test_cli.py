"""`orderlint lint` through the real entry point: exit codes, text lines, CSV/JSON/HTML, zip input,
--jobs 2 == --jobs 1, a bad file as an error line while the others still lint, no progress bar when piped."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "workbench" / "data"
GOOD = ["clean-order-set.json", "heparin-low.json", "heparin-overdose.json"]


def orderlint(*args: str, cwd: Path = DATA) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linter.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_clean_file_exits_0_with_no_output() -> None:
    result = orderlint("lint", "clean-order-set.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_findings_exit_1_with_one_text_line_per_finding() -> None:
    result = orderlint("lint", "heparin-overdose.json")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "heparin-overdose.json: MedicationRequest/hep-1: HEP201 critical Heparin 15,000 units IV" in result.stdout
    assert all(line.startswith("heparin-overdose.json: ") for line in lines)
    for line in lines:
        _file, where, rest = line.split(": ", 2)
        code, indicator, _summary = rest.split(" ", 2)
        assert "/" in where and code[:2].isalpha() and indicator in ("info", "warning", "critical")


def test_fail_on_critical_only() -> None:
    # HEP201 only: other rules landing in the profile must not move this boundary
    assert orderlint("lint", "--select", "HEP201", "--fail-on", "critical", "heparin-low.json").returncode == 0
    assert orderlint("lint", "--select", "HEP201", "--fail-on", "critical", "heparin-overdose.json").returncode == 1


def test_bad_file_is_an_error_line_and_the_others_still_lint() -> None:
    result = orderlint("lint", "heparin-overdose.json", "not-fhir.json", "missing.json")
    assert result.returncode == 2
    assert "heparin-overdose.json: MedicationRequest/hep-1: HEP201 critical" in result.stdout
    assert "not-fhir.json: error at $.resourceType: not a FHIR resource" in result.stderr
    assert "missing.json: error: no such file" in result.stderr


def test_csv_has_error_rows_and_the_report_columns() -> None:
    result = orderlint("lint", "--format", "csv", "-q", *GOOD, "not-fhir.json")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "record", "file", "order_set", "status", "order_sets", "orders_checked", "findings", "critical", "warning",
        "info", "errors", "order", "drug", "code", "name", "indicator", "summary", "citation",
    ]  # fmt: skip
    error = {"record": "error", "file": "not-fhir.json", "code": "ERROR", "indicator": "error"}
    assert error.items() <= rows[-1].items()
    assert any(r["code"] == "HEP201" and r["indicator"] == "critical" for r in rows)
    assert result.stderr.count("not-fhir.json") == 1  # the error line, and no summary table with -q
    assert "Found" not in result.stderr and "finding" not in result.stderr


def test_jobs_2_gives_the_same_reports_as_jobs_1(tmp_path: Path) -> None:
    for i in range(6):  # enough inputs that both workers get some
        for name in (*GOOD, "not-fhir.json"):
            shutil.copy(DATA / name, tmp_path / f"{i}-{name}")
    for fmt in ("csv", "json", "text"):
        one = orderlint("lint", "--format", fmt, "--jobs", "1", str(tmp_path))
        two = orderlint("lint", "--format", fmt, "--jobs", "2", str(tmp_path))
        assert one.returncode == two.returncode == 2
        assert one.stdout == two.stdout
        assert one.stderr == two.stderr  # error lines and the summary table too
        assert (one.stdout + one.stderr).count("not-fhir.json") >= 6


def test_zip_input_names_members_and_refuses_tricks(tmp_path: Path) -> None:
    archive = tmp_path / "orders.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(DATA / "heparin-overdose.json", "sets/heparin-overdose.json")
        zf.write(DATA / "clean-order-set.json", "sets/clean.json")
        zf.writestr("../escape.json", "{}")
        zf.writestr("README.txt", "not linted")
    result = orderlint("lint", str(archive), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{archive}!sets/heparin-overdose.json: MedicationRequest/hep-1: HEP201 critical" in result.stdout
    assert f"{archive}!../escape.json: error: archive member refused: a '..' path component" in result.stderr
    assert "README" not in result.stdout + result.stderr


def test_no_progress_bar_and_no_table_when_piped_only_the_closing_line() -> None:
    result = orderlint("lint", *GOOD)
    assert "linting" not in result.stderr and "\x1b[" not in result.stderr  # no bar, no terminal codes
    assert "Files" not in result.stderr and "Findings by rule" not in result.stderr  # no table: not a terminal
    assert result.stderr.splitlines() == [
        "3 files: 1 clean, 2 with findings, 0 with errors; 3 order sets, 10 orders checked; "
        "10 findings (3 critical, 5 warning, 2 info)."
    ]
    assert result.stdout.count("\n") == len(result.stdout.splitlines())  # stdout holds only the report
    asked = orderlint("lint", "--summary", *GOOD)
    assert "Files" in asked.stderr and "Findings by rule" in asked.stderr and "HEP201" in asked.stderr
    assert asked.stdout == result.stdout


def test_json_and_html_reports() -> None:
    doc = json.loads(orderlint("lint", "--format", "json", "-q", *GOOD).stdout)
    assert doc["summary"]["files"] == 3 and doc["summary"]["by_indicator"]["critical"] >= 1
    hep = next(f for file in doc["files"] for s in file["order_sets"] for f in s["findings"] if f["code"] == "HEP201")
    assert hep["sources"][0]["label"].endswith(":24")
    html = orderlint("lint", "--format", "html", "-q", *GOOD).stdout
    assert html.startswith("<!doctype html>") and "HEP201" in html
    assert "<link" not in html and "src=" not in html  # self-contained


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_bad_jobs_value_is_a_usage_error(jobs: str) -> None:
    assert orderlint("lint", "--jobs", jobs, "heparin-low.json").returncode == 2
