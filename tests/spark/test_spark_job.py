"""`orderlint spark` equals the single-machine CLI on the same export: findings (code, indicator, order,
summary, patient HMAC), error rows with file and line, the MUE report; and its tables are what a data team
reads (Parquet, CSV)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from linter.bulk import Record
from linter.cli import main
from linter.profiles import Profile
from linter.render.mue import counts_from_records, mue_doc
from linter.rules import RULE_NAMES
from linter.settings import get_settings
from tests.spark.conftest import SALT, TRUNCATED, WINDOW, Run

pytestmark = pytest.mark.spark

KEY = ("patient_hmac", "order", "code", "indicator", "summary")


def _findings(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r[k] for k in KEY) for r in rows if r["code"] != "ERROR")


def _errors(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter((r["file"], r["line"], r["summary"]) for r in rows if r["code"] == "ERROR")


def _parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq  # the spark extra: imported once the session fixture has checked for it

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def _reference(run: Run, kind: str) -> list[Record]:
    return [r for r in run.reference if r["kind"] == kind]


@pytest.mark.parametrize("which", ["fixture_run", "generated_run"])
def test_spark_findings_equal_the_cli(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    spark_rows = _parquet(run.out / "findings.parquet")
    expected = _findings(_reference(run, "finding"))
    assert len(expected) > 100  # a real comparison, not two empty sets
    assert _findings(spark_rows) == expected
    assert _errors(spark_rows) == _errors(_reference(run, "error"))
    assert len(_parquet(run.out / "orders.parquet")) == len(_reference(run, "order"))


def _repeated_medication_refs(export: Path) -> int:
    """(patient, Medication) pairs that more than one of the patient's MedicationRequests name."""
    import gzip

    named: Counter[tuple[str, str]] = Counter()
    for part in export.glob("MedicationRequest.*.ndjson.gz"):
        with gzip.open(part) as fh:
            try:
                lines = fh.read().splitlines()
            except (EOFError, OSError):  # the truncated part: its readable lines are enough here
                continue
        for line in lines:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            ref = r.get("medicationReference", {}).get("reference") if isinstance(r, dict) else None
            if ref:
                named[(r["subject"]["reference"], ref)] += 1
    return sum(1 for n in named.values() if n > 1)


def test_a_medication_named_by_several_orders_is_read_once(generated_run: Run) -> None:
    """Every order naming a Medication brings it to its patient's partition (a join of the distinct
    references); the worker reads a repeated line once."""
    assert _repeated_medication_refs(generated_run.export) > 10  # the export has such patients
    rows = _parquet(generated_run.out / "findings.parquet")
    assert _findings(rows) == _findings(_reference(generated_run, "finding"))


def test_the_keyed_lines_are_keyed_once_and_shuffled_once(spark: Any, fixture_run: Run, profile: Profile) -> None:
    """Patients (with the unreadable lines), references and Medications all read one shuffle of the keyed
    lines: each file is read and keyed in Python once, not once per branch."""
    from linter.spark import job

    files, _ = job.list_files(spark, [str(fixture_run.export)])
    keyed = job.keyed_lines(spark, files)
    records = job.lint_records(spark, keyed, profile, fixture_run.options, SALT, 3)
    with job._planned_without(spark, job.ONE_SHUFFLE_EXCLUDED_RULES):
        plan = records._jdf.queryExecution().executedPlan().toString()
    scans = keyed._jdf.queryExecution().executedPlan().toString().count("FileScan binaryFile")
    assert scans >= 1 and plan.count("FileScan binaryFile") == scans
    assert plan.count("ReusedExchange") == 2
    assert spark.conf.get("spark.sql.optimizer.excludedRules", None) is None  # as before


def test_the_worker_orders_a_patients_lines_reads_a_repeated_one_once_and_streams_groups_across_batches(
    profile: Profile, monkeypatch: Any
) -> None:
    import pyarrow as pa

    from linter.bulk import ExportOptions
    from linter.spark import worker

    seen: list[tuple[str, list[tuple[str, int, str]]]] = []

    def lint_patient(key: str, lines: Any, *_: Any) -> Any:
        seen.append((key, list(lines)))
        return SimpleNamespace(records=[])

    monkeypatch.setattr(worker, "lint_patient", lint_patient)
    rows = [(1, "p1", "Med.000", 1, "m"), (1, "p1", "MR.000", 1, "a"), (1, "p1", "Med.000", 1, "m"),
            (2, "p2", "Med.000", 2, "n"), (2, "p2", "Med.000", 1, "m"), (2, "p2", "Med.000", 1, "m")]  # fmt: skip
    columns = ("group", "key", "file", "line", "text")
    batches = [
        pa.RecordBatch.from_pylist([dict(zip(columns, r, strict=True)) for r in chunk])
        for chunk in (rows[:2], rows[2:4], rows[4:])  # a patient's repeated line may open the next batch
    ]
    list(worker.lint_sorted(profile, ExportOptions(mode="fast"), SALT)(iter(batches)))
    assert seen == [
        ("p1", [("MR.000", 1, "a"), ("Med.000", 1, "m")]),
        ("p2", [("Med.000", 1, "m"), ("Med.000", 2, "n")]),
    ]


def test_order_sets_are_counted_once_per_patient_hmac_and_month_within_a_group(
    profile: Profile, monkeypatch: Any
) -> None:
    """The report counts order sets by patient HMAC (`Patient/1` and a bare `1` are one): job.lint_records puts
    the keys sharing one in a group, and the worker flags the first order of a set, and of a set in a month."""
    import pyarrow as pa

    from linter.bulk import ExportOptions
    from linter.spark import worker

    def lint_patient(key: str, lines: Any, *_: Any) -> Any:
        hmac_ = key.removeprefix("Patient/")
        return SimpleNamespace(records=[{"kind": "order", "patient_hmac": hmac_, "month": t} for _, _, t in lines])

    monkeypatch.setattr(worker, "lint_patient", lint_patient)
    rows = [(1, "1", "MR", 1, "2025-01"), (1, "Patient/1", "MR", 2, "2025-01"), (1, "Patient/1", "MR", 3, "2025-02"),
            (2, "Patient/2", "MR", 4, "2025-01"), (2, "Patient/2", "MR", 5, "2025-01")]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(
        [dict(zip(("group", "key", "file", "line", "text"), r, strict=True)) for r in rows]
    )
    out = list(worker.lint_sorted(profile, ExportOptions(mode="fast"), SALT)(iter([batch])))
    new_set, in_month = worker.NEW_SET, worker.NEW_IN_MONTH
    assert [flags for b in out for flags in b.column("sets").to_pylist()] == [
        new_set | in_month,
        0,
        in_month,
        new_set | in_month,
        0,
    ]


def test_unreadable_lines_are_error_rows_with_file_and_line(fixture_run: Run) -> None:
    errors = [r for r in _parquet(fixture_run.out / "findings.parquet") if r["code"] == "ERROR"]
    assert sorted((r["file"], r["indicator"]) for r in errors) == [("MedicationRequest.000.ndjson.gz", "error")] * 3
    lines = sorted(r["line"] for r in errors)
    assert lines[0] > 1 and lines == list(range(lines[0], lines[0] + 3))  # the three lines appended last
    assert any("not JSON" in r["summary"] for r in errors)


def test_truncated_gzip_is_one_error_row_and_its_readable_lines_are_linted(generated_run: Run) -> None:
    rows = _parquet(generated_run.out / "findings.parquet")
    errors = [r for r in rows if r["file"] == TRUNCATED and r["code"] == "ERROR"]
    expected = [r for r in _reference(generated_run, "error") if r["file"] == TRUNCATED]
    assert sorted((r["line"] or 0, r["summary"]) for r in errors) == sorted(
        (r["line"] or 0, r["summary"]) for r in expected
    )
    # the file's own row names its last good line, as the CLI's does; the others are bad lines in it
    (error,) = [r for r in errors if r["summary"].startswith("cannot read after line ")]
    last = int(error["summary"].split()[4].rstrip(":"))
    assert error["line"] == last
    assert last > 100  # the damage is past the start: there were readable lines
    linted = [r["line"] for r in rows if r["file"] == TRUNCATED and r["code"] != "ERROR"]
    assert linted and max(linted) <= last  # the lines before the damage were linted, nothing after it
    assert Counter(r["code"] for r in rows if r["file"] == TRUNCATED and r["code"] != "ERROR") == Counter(
        r["code"] for r in _reference(generated_run, "finding") if r["file"] == TRUNCATED
    )


def test_csv_has_one_row_per_finding_with_values_as_columns(generated_run: Run) -> None:
    (part,) = list((generated_run.out / "findings.csv").glob("part-*.csv"))
    with part.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(_parquet(generated_run.out / "findings.parquet"))
    hep = [r for r in rows if r["code"] == "HEP201"]
    assert hep and all(float(r["units_per_kg"]) > 0 and r["drug"] and r["authored"].startswith("2025-") for r in hep)
    assert all(len(r["patient_hmac"]) == 64 for r in rows if r["code"] != "ERROR")


def test_the_mue_report_equals_the_cli_report(generated_run: Run, profile: Profile) -> None:
    reference = mue_doc(counts_from_records(generated_run.reference), profile, "2025-01-01", "2026-01-01", RULE_NAMES)
    assert generated_run.spark_doc == reference
    assert json.loads((generated_run.out / "mue.json").read_text()) == reference
    t = reference["totals"]
    assert t["order_sets"] > 500 and t["findings"] > 500 and t["orders_undated_not_checked"] > 0
    assert {m["month"] for m in reference["months"]} == {f"2025-{m:02d}" for m in range(1, 13)}


def test_cli_format_mue_json_is_the_same_report(generated_run: Run, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("ORDERLINT_PATIENT_ID_SALT", SALT)
    get_settings.cache_clear()
    out = tmp_path / "mue.json"
    argv = ["lint", "--export", str(generated_run.export), "--mode", "fast", "--format", "mue-json", "-q"]
    argv += ["--since", WINDOW.since.isoformat(), "--until", WINDOW.until.isoformat(), "-o", str(out)]  # type: ignore[union-attr]
    assert main(argv) == 2  # the export has unreadable lines
    doc = json.loads(out.read_text())
    spark_doc = dict(generated_run.spark_doc)
    assert doc["totals"] == spark_doc["totals"] and doc["months"] == spark_doc["months"]
    # the CLI evaluates with its own clock, the Spark run with the tests' fixed one: rules judged per order's
    # date in a window do not depend on it
    assert doc == spark_doc


def test_apply_in_pandas_grouping_gives_the_same_rows(
    spark: Any, fixture_run: Run, profile: Profile, tmp_path: Path
) -> None:
    from linter.spark.job import run_job

    run_job(spark, [str(fixture_run.export)], str(tmp_path), profile, fixture_run.options, SALT, grouping="apply")
    assert _findings(_parquet(tmp_path / "findings.parquet")) == _findings(_reference(fixture_run, "finding"))


@pytest.mark.parametrize("whole_file_bytes", [None, 0], ids=["whole-files", "split-by-textFile"])
def test_plain_ndjson_files_give_the_same_rows_read_whole_or_split(
    spark: Any, fixture_run: Run, profile: Profile, tmp_path: Path, monkeypatch: Any, whole_file_bytes: int | None
) -> None:
    """Uncompressed NDJSON, as most servers' $export writes it: small files are read whole (binaryFile and
    Arrow), files over WHOLE_FILE_BYTES split across tasks (textFile); both number lines as the CLI does."""
    import gzip

    from linter.bulk import lint_export
    from linter.spark import job

    plain = tmp_path / "plain"
    plain.mkdir()
    for part in fixture_run.export.iterdir():
        data = part.read_bytes()
        (plain / part.name.removesuffix(".gz")).write_bytes(gzip.decompress(data) if part.suffix == ".gz" else data)
    if whole_file_bytes is not None:
        monkeypatch.setattr(job, "WHOLE_FILE_BYTES", whole_file_bytes)
    out = tmp_path / "out"
    job.run_job(spark, [str(plain)], str(out), profile, fixture_run.options, SALT, partitions=3)
    reference = lint_export([str(plain)], profile, fixture_run.options, SALT).records
    rows = _parquet(out / "findings.parquet")
    assert _findings(rows) == _findings([r for r in reference if r["kind"] == "finding"])
    errors = _errors(rows)
    assert errors == _errors([r for r in reference if r["kind"] == "error"])
    assert {file for file, _, _ in errors} == {"MedicationRequest.000.ndjson"}


def test_files_are_keyed_in_groups_of_about_equal_work(spark: Any) -> None:
    from linter.spark.job import balanced_groups

    work = {f"f{i}": size for i, size in enumerate([720, 721, 719, 722, 78, 551, 442, 157, 158, 461, 210, 1])}
    groups = balanced_groups(work, 4)
    assert sorted(p for g in groups for p in g) == sorted(work)  # every file once
    loads = [sum(work[p] for p in g) for g in groups]
    assert len(groups) == 4 and max(loads) - min(loads) <= max(work.values())
    assert balanced_groups(work, 100) == [[p] for p in sorted(work, key=lambda p: (-work[p], p))]
    assert balanced_groups({}, 4) == []


def test_each_group_of_files_is_keyed_by_one_task(spark: Any, generated_run: Run) -> None:
    from linter.spark.job import keyed_lines, list_files

    files, _ = list_files(spark, [str(generated_run.export)])
    groups = min(len(files), 2 * spark.sparkContext.defaultParallelism)
    assert len(files) > groups  # some groups hold several files
    assert keyed_lines(spark, files).rdd.getNumPartitions() == groups


def test_a_local_session_listens_on_loopback_only_and_has_no_web_ui(spark: Any) -> None:
    """A hospital machine: Spark's RPC ports are unauthenticated and its web UI has no login."""
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1" and conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false" and spark.sparkContext.uiWebUrl is None
    assert "-XX:TieredStopAtLevel=1" in conf.get("spark.driver.extraJavaOptions")


def test_local_workers_fork_from_a_daemon_with_the_engine_imported_and_no_thread(spark: Any) -> None:
    assert spark.sparkContext.getConf().get("spark.python.daemon.module") == "linter.spark.daemon"
    # pyspark.daemon forks its workers: a thread started by an import would not be copied into them
    probe = "import threading, linter.spark.daemon; print(threading.active_count())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "1"
