"""Bulk Data exports on one machine (linter.bulk, `orderlint lint --export`): the same findings as linting
each fixture Bundle, as `orderlint lint` on the concatenated NDJSON, the retrospective window, bad lines."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from linter.batch import LintOptions, lint_bytes
from linter.bulk import VALUE_COLUMNS, ExportOptions, Window, export_role, lint_export, read_lines
from linter.bulk_index import ExportIndex
from linter.cli import main
from linter.orderset_definition import is_definition
from linter.profiles import Profile
from linter.render.mue import counts_from_records, mue_doc, mue_html
from linter.rules import RULE_NAMES
from tests.conftest import FIXTURE_NOW
from tests.fixture_cases import fixture_files
from tests.spark.export_fixtures import bundle_patient, write_fixture_export

SALT = "bulk-test-salt"


@pytest.fixture(scope="module")
def fixture_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixture_export(tmp_path_factory.mktemp("bulk") / "export")


def _unprefix(ref: str) -> str:
    rtype, _, rid = ref.partition("/")
    return f"{rtype}/{rid.split('-', 1)[1]}" if rid.startswith("f") and "-" in rid else ref


def test_each_fixture_patient_has_the_findings_of_its_bundle(fixture_export: Path, profile: Profile) -> None:
    """The export path (keying, grouping, Medication join) loses nothing the Bundle path finds."""
    run = lint_export([str(fixture_export)], profile, ExportOptions(now=FIXTURE_NOW), SALT)
    got = Counter((r["code"], r["indicator"], _unprefix(r["order"])) for r in run.records if r["kind"] == "finding")
    want: Counter[tuple[str, str, str]] = Counter()
    for path in fixture_files():
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle" and not is_definition(doc):
            result = lint_bytes(str(path), path.read_bytes(), profile, LintOptions(now=FIXTURE_NOW))
            want.update((f.code, f.indicator.value, f.primary_ref) for f in result.findings)
    assert sum(want.values()) > 100
    missing, extra = want - got, got - want
    assert not missing and not extra, (missing, extra)


def test_export_equals_lint_on_the_concatenated_ndjson(tmp_path: Path, profile: Profile) -> None:
    """Without a window and without Medication references, `--export` and plain `orderlint lint` of all the
    lines in one NDJSON file (grouped per patient by fhir_io.load_bytes) find the same."""
    export = tmp_path / "export"
    export.mkdir()
    lines = []
    for k, path in enumerate(fixture_files()[:60]):
        doc = json.loads(path.read_text())
        if (
            isinstance(doc, dict)
            and doc.get("resourceType") == "Bundle"
            and "medicationReference" not in path.read_text()
        ):
            lines += [json.dumps(r) for r in bundle_patient(k, doc) if r["resourceType"] != "Medication"]
    (export / "all.ndjson").write_text("\n".join(lines) + "\n")
    run = lint_export([str(export)], profile, ExportOptions(now=FIXTURE_NOW), SALT)
    plain = lint_bytes("all.ndjson", (export / "all.ndjson").read_bytes(), profile, LintOptions(now=FIXTURE_NOW))
    key = lambda code, ind, ref, summary: (code, ind, ref, summary)  # noqa: E731
    got = Counter(
        key(r["code"], r["indicator"], r["order"], r["summary"]) for r in run.records if r["kind"] == "finding"
    )
    want = Counter(key(f.code, f.indicator.value, f.primary_ref, f.summary) for f in plain.findings)
    assert sum(want.values()) > 30 and got == want


def test_every_numeric_value_has_a_column(fixture_export: Path, profile: Profile) -> None:
    run = lint_export([str(fixture_export)], profile, ExportOptions(now=FIXTURE_NOW), SALT)
    numeric = set()
    for p in run.patients:
        for f in p.findings:
            numeric |= {k for k, v in f.values.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    assert numeric and numeric <= set(VALUE_COLUMNS), numeric - set(VALUE_COLUMNS)


def _mr(status: str, authored: str | None) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "MedicationRequest", "status": status}
    if authored:
        r["authoredOn"] = authored
    return r


def test_the_retrospective_window() -> None:
    role = export_role(Window(date(2025, 1, 1), date(2026, 1, 1)))
    assert role(_mr("completed", "2025-03-04T10:00:00Z")) == "review"
    assert role(_mr("stopped", "2025-12-31")) == "review"
    assert role(_mr("entered-in-error", "2025-03-04")) == "context"
    assert role(_mr("draft", "2025-03-04")) == "context"
    assert role(_mr("active", "2024-12-31")) == "context"  # before: a current medication
    assert role(_mr("active", "2026-01-01")) == "skip"  # after: not known when the order was written
    assert role(_mr("completed", None)) == "context"  # undated: counted, not checked
    assert role(_mr("completed", "2025-06")) == "review"  # a partial date counts as its first day
    upload = export_role(Window())
    assert upload(_mr("completed", "2025-03-04")) == "context" and upload(_mr("draft", None)) == "review"


def test_a_truncated_gzip_file_is_an_error_row_not_a_crash(tmp_path: Path, profile: Profile) -> None:
    data = gzip.compress(b'{"resourceType": "Patient", "id": "a"}\n' * 2000)
    (tmp_path / "Patient.000.ndjson.gz").write_bytes(data[: len(data) // 2])
    lines = list(read_lines(str(tmp_path / "Patient.000.ndjson.gz")))
    assert lines[-1][0] == 0
    last_good = lines[-2][0]
    run = lint_export([str(tmp_path)], profile, ExportOptions(now=FIXTURE_NOW), SALT)
    (err,) = run.errors
    assert err["file"] == "Patient.000.ndjson.gz" and "cannot read" in err["summary"]
    assert err["line"] == last_good and f"after line {last_good}" in err["summary"]  # the last good line


def _lint_cli(args: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    code = main(["lint", "--export", *args, "-o", str(out)])
    err = capsys.readouterr().err
    return code, out.read_text(), [line for line in err.splitlines() if ": error at " in line or "checked" in line]


@pytest.fixture
def fixed_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    from linter.settings import get_settings

    monkeypatch.setenv("ORDERLINT_PATIENT_ID_SALT", SALT)
    get_settings.cache_clear()


@pytest.mark.usefixtures("fixed_salt")
@pytest.mark.parametrize(
    "args",
    [
        ["--format", "text"],
        ["--format", "text", "--show-source", "--select", "HEP201,DPI101,DAPT301"],
        ["--format", "csv"],
        ["--format", "csv", "--since", "2025-01-01", "--until", "2026-06-01"],
        ["--format", "json"],
        ["--format", "json", "--since", "2025-01-01", "--until", "2026-06-01", "--select", "HEP"],
        ["--format", "json", "--select", "NOSUCHCODE"],
        ["--format", "html"],
        ["--format", "html", "--since", "2025-01-01", "--until", "2026-06-01", "--select", "HEP"],
        ["--format", "cards"],
        ["--format", "outcome", "--since", "2025-01-01", "--until", "2026-06-01"],
        ["--format", "mue-json"],
        ["--format", "mue-json", "--since", "2025-01-01", "--until", "2026-06-01"],
        ["--format", "mue", "--fail-on", "critical"],
    ],
)
def test_the_streamed_export_writes_what_the_in_memory_path_writes(
    args: list[str],
    fixture_export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Text, CSV, JSON, cards, OperationOutcome and MUE are written patient by patient (linter.bulk_stream);
    --summary takes the in-memory path (every order set kept, the CLI's renderers). Same report, error lines,
    closing line and exit code."""
    monkeypatch.setattr("linter.bulk_stream.MUE_CHUNK", 7)  # MUE counts added up over many small chunks
    streamed = _lint_cli([str(fixture_export), *args], tmp_path / "a", capsys)
    in_memory = _lint_cli([str(fixture_export), *args, "--summary"], tmp_path / "b", capsys)
    if "cards" in args:  # every card and suggestion gets a fresh uuid
        uuids = re.compile(r'"(uuid|id)": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
        streamed, in_memory = ((c, uuids.sub(r'"\1": "-"', r), e) for c, r, e in (streamed, in_memory))
        assert streamed[1].count('"uuid": "-"') > 20
    assert streamed == in_memory
    code, report, stderr = streamed
    assert code == 2 and len(report) > 1000  # the fixture export has unreadable lines: exit 2, findings kept
    assert sum(": error at " in line for line in stderr) == 3 and stderr[-1].endswith("could not be read.")


@pytest.mark.usefixtures("fixed_salt")
def test_cli_lints_the_lines_before_a_truncated_gzip(
    fixture_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .gz cut short: an error line naming the file and its last good line, exit 2, and the findings of the
    lines read before the cut are reported as if the file had ended there."""
    name = "MedicationRequest.000.ndjson.gz"
    lines = gzip.decompress((fixture_export / name).read_bytes()).splitlines(keepends=True)
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    shutil.copytree(fixture_export, cut)
    shutil.copytree(fixture_export, whole)
    data = gzip.compress(b"".join(lines))
    (cut / name).write_bytes(data[: len(data) * 2 // 3])
    good = [n for n, _ in read_lines(str(cut / name)) if n]
    assert 0 < len(good) < len(lines)
    (whole / name).write_bytes(gzip.compress(b"".join(lines[: len(good)])))
    code, report, stderr = _lint_cli([str(cut), "--format", "text"], tmp_path / "cut.txt", capsys)
    _, expected, _ = _lint_cli([str(whole), "--format", "text"], tmp_path / "whole.txt", capsys)
    assert code == 2 and report.replace(str(cut), str(whole)) == expected and len(report) > 1000
    assert any(f"error at {name} line {len(good)}: cannot read after line {len(good)}" in line for line in stderr)


def test_the_index_groups_in_python_key_order_with_medications(tmp_path: Path) -> None:
    """Patients come back in Python's str order (SQLite compares UTF-8 bytes), each with its lines and those
    of the Medications it references, by file label then line."""
    keys = ["Patient/é", "Patient/z", "Patient/Z", "Patient/10", "Patient/9", "", "Patient/\u4e2d"]
    with ExportIndex(["b.ndjson", "a.ndjson"], str(tmp_path)) as index:
        for n, key in enumerate(keys, start=1):
            index.add_patient_line(key, 0, n, f"b{n}", ["Medication/m"] if key == "Patient/9" else [])
            index.add_patient_line(key, 1, 100 - n, f"a{n}", [])
        index.add_medication_line("Medication/m", 1, 1, "med")
        index.add_medication_line("Medication/other", 1, 2, "other")
        groups = dict(index.groups())
        assert list(groups) == sorted(keys)
        assert groups["Patient/9"] == [("a.ndjson", 1, "med"), ("a.ndjson", 95, "a5"), ("b.ndjson", 5, "b5")]
        assert groups["Patient/z"] == [("a.ndjson", 98, "a2"), ("b.ndjson", 2, "b2")]
    assert not list(tmp_path.iterdir())  # the index's temporary directory is removed


def test_cli_since_needs_export(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "fixtures/clean", "--since", "2025-01-01"]) == 2
    assert "--export" in capsys.readouterr().err


def test_cli_mue_over_ordinary_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from linter.settings import get_settings

    monkeypatch.setenv("ORDERLINT_PATIENT_ID_SALT", SALT)
    get_settings.cache_clear()
    out = tmp_path / "mue.html"
    assert main(["lint", "fixtures/HEP201", "--format", "mue", "-q", "-o", str(out)]) == 1
    html = out.read_text()
    assert "HEP201" in html and "<svg" in html and "<script" not in html


def test_mue_rates_and_months(fixture_export: Path, profile: Profile) -> None:
    run = lint_export([str(fixture_export)], profile, ExportOptions(now=FIXTURE_NOW), SALT)
    doc = mue_doc(counts_from_records(run.records), profile, names=RULE_NAMES)
    t = doc["totals"]
    assert t["findings"] == sum(r["findings"] for r in doc["rules"])
    assert t["rate_per_100_order_sets"] == round(100 * t["findings"] / t["order_sets"], 1)
    assert t["errors"] == 3
    for rule in doc["rules"]:
        assert sum(m["findings"] for m in rule["months"]) == rule["findings"]
    assert "Medication-use evaluation" in mue_html(doc)


def test_the_cli_starts_without_importing_spark() -> None:
    heavy = "('pyspark', 'pandas', 'pyarrow')"
    code = f"import sys, linter.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("depth", [1, 3])
def test_a_list_written_item_by_item_is_what_json_dumps_writes(tmp_path: Path, n: int, depth: int) -> None:
    import io
    import json

    from linter.json_stream import PLACEHOLDER, JsonItems

    items = [{"label": f"set {i}", "findings": [{"code": "AT101", "values": {"mg": i}}], "empty": []} for i in range(n)]
    listed = JsonItems(tmp_path / "items", depth)
    for item in items:
        listed.add(item)

    def nest(value: object, levels: int) -> object:
        return value if levels == 0 else {"profile": "p", "files": [{"path": "x", "inner": nest(value, levels - 2)}]}

    doc = {"summary": {"files": 1}, "entry": PLACEHOLDER} if depth == 1 else nest(PLACEHOLDER, 2)
    out = io.StringIO()
    listed.write_document(out, doc)
    expected = json.dumps(doc, indent=2, ensure_ascii=False).replace(
        json.dumps(PLACEHOLDER), json.dumps(items, indent=2).replace("\n", "\n" + "  " * depth)
    )
    assert out.getvalue() == expected + "\n"
    assert listed.first == (items[0] if items else None)


SEEDED, SEEDED_RG, CLEAN_PD = "plandef/btk-os-seeded", "plandef/btk-os-seeded-requestgroup", "plandef/btk-os-clean"
HEP_CRITICAL, HEP_WARNING, AT_BOTH, AT_CLEAN = (
    "HEP201/fail-15000-units-70kg",
    "HEP201/fail-69-units-per-kg",
    "AT101/fail-81-grams-unit-error",
    "AT101/pass-325mg-daily",
)


@pytest.mark.parametrize(
    ("picked", "errors"),
    [
        ((), 0),  # a file without order sets: its one clean row
        ((), 2),
        ((SEEDED,), 0),  # one order set: rows without its label, its definition's tree unfolded
        ((AT_CLEAN,), 1),
        ((CLEAN_PD, SEEDED), 0),
        ((HEP_WARNING, SEEDED, AT_CLEAN, HEP_CRITICAL, SEEDED_RG, AT_BOTH, CLEAN_PD), 2),
        ((HEP_CRITICAL, AT_BOTH, HEP_WARNING), 0),
    ],
)
def test_the_streamed_html_page_is_the_in_memory_page(
    picked: tuple[str, ...], errors: int, profile: Profile, tmp_path: Path
) -> None:
    """linter.render.html.StreamedReport, fed one order set at a time, writes report_html's bytes: with no order
    set, one (its rows unlabelled, its definition's tree unfolded) or several; definition trees linking to rows
    whose ids count the rows of every indicator before them; clean rows and input errors."""
    import io

    from linter.batch import FileResult, collect_inputs, lint_sources
    from linter.errors import InputError
    from linter.render.html import StreamedReport, report_html
    from linter.render.report import report_doc

    paths = [f"fixtures/{name}.json" for name in picked]
    by_path = {r.path: r for r in lint_sources(collect_inputs(paths), profile, LintOptions(now=FIXTURE_NOW))}
    sets = [s for path in paths for s in by_path[path].sets]
    result = FileResult("export", sets, [InputError(f"bad {k}", f"line {9 - k}") for k in range(errors)])
    doc = report_doc([result], profile)
    page = StreamedReport(tmp_path, "export")
    for order_set in doc["files"][0]["order_sets"]:
        page.add_set(order_set)
    out = io.StringIO()
    page.write(out, {**doc, "files": [{**doc["files"][0], "order_sets": []}]})
    in_memory = report_html([result], profile)
    assert out.getvalue() == in_memory
    assert in_memory.count('<section class="definition-tree"') == sum(1 for s in sets if s.order_set.definition)
    assert "<#" not in in_memory


@pytest.mark.usefixtures("fixed_salt")
def test_the_streamed_html_report_keeps_no_order_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--format html` goes through linter.bulk_stream (never the in-memory export_results), and the Python
    memory it holds stays flat from the 50th to the 250th order set (the in-memory page holds ~60 KB more per
    order set). Measured on a second run over the same export, so that the bounded caches (rendered markdown,
    the suggestions' FHIR verdicts), filled by the first, do not hide a leak; MUE rows counted 7 at a time."""
    import gc
    import tracemalloc

    from bench.export_gen import write_export
    from linter.render.html import StreamedReport

    def in_memory(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the html report of an export was built in memory")

    monkeypatch.setattr("linter.bulk_cli.export_results", in_memory)
    monkeypatch.setattr("linter.bulk_stream.MUE_CHUNK", 7)
    held: list[int] = []
    add_set = StreamedReport.add_set

    def measured(self: StreamedReport, order_set: dict[str, Any]) -> None:
        add_set(self, order_set)
        if tracemalloc.is_tracing() and self.sets % 25 == 0:
            gc.collect()  # what is still held, not garbage awaiting the cycle collector
            held.append(tracemalloc.get_traced_memory()[0])

    monkeypatch.setattr(StreamedReport, "add_set", measured)
    args = [str(write_export(tmp_path / "export", 250)), "--mode", "fast", "--format", "html", "-q"]
    first = _lint_cli(args, tmp_path / "first.html", capsys)
    tracemalloc.start()
    try:
        second = _lint_cli(args, tmp_path / "second.html", capsys)
    finally:
        tracemalloc.stop()
    assert first == second and second[0] in (1, 2) and second[1].count('<tbody class="row-group"') > 250
    assert len(held) == 10 and max(held[1:]) - held[1] < 100_000, [n - held[1] for n in held]
