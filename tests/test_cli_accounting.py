"""Every input accounted for, through the real console script: N inputs in are N file rows out in JSON, CSV,
HTML and the summary table, each with its status (clean, findings, error) and counts; one row per order set;
per-file counts add up to the totals; a clean file is visible as clean with its order count. Errors name their
place (line and column); the exit code when some inputs are bad and others have findings is 2."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.cli_run import DATA, piped

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "fixtures" / "clean" / "pass-btk-order-set-complete.json"
INDICATORS = ("critical", "warning", "info")


def _draft_orders(path: Path) -> int:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return sum(1 for e in bundle["entry"] if e["resource"].get("status") == "draft")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven inputs: a clean order set, two with findings, an NDJSON file with two patients and a bad line, a
    file that is not FHIR, a broken JSON file and an empty one."""
    root = tmp_path_factory.mktemp("batch")
    shutil.copy(CLEAN, root / "a-clean.json")
    shutil.copy(DATA / "heparin-overdose.json", root / "b-overdose.json")
    shutil.copy(DATA / "heparin-low.json", root / "c-low.json")
    shutil.copy(DATA / "not-fhir.json", root / "d-not-fhir.json")
    (root / "e-broken.json").write_text('{\n  "resourceType": "Bundle",\n  "type": "collection",,\n}\n')
    (root / "f-empty.json").write_text("\n")
    overdose = json.loads((DATA / "heparin-overdose.json").read_text(encoding="utf-8"))
    clean = json.loads(CLEAN.read_text(encoding="utf-8"))
    (root / "g-two-patients.ndjson").write_text(
        json.dumps(overdose) + "\n" + '{"resourceType": "Patient", "id": \n' + json.dumps(clean) + "\n"
    )
    return root


INPUTS = 7


def test_json_has_one_entry_per_input_with_status_and_counts_that_add_up(batch: Path) -> None:
    run = piped("lint", "--format", "json", "-q", str(batch))
    assert run.returncode == 2  # bad inputs and findings: the bad inputs decide
    doc = json.loads(run.stdout)
    files, summary = doc["files"], doc["summary"]
    assert len(files) == summary["files"] == INPUTS
    assert [Path(f["path"]).name for f in files] == sorted(p.name for p in batch.iterdir())
    status = {Path(f["path"]).name: f["status"] for f in files}
    assert status == {
        "a-clean.json": "clean", "b-overdose.json": "findings", "c-low.json": "findings",
        "d-not-fhir.json": "error", "e-broken.json": "error", "f-empty.json": "error",
        "g-two-patients.ndjson": "error",  # two order sets linted, one line unreadable
    }  # fmt: skip
    clean = files[0]
    assert clean["counts"] == {
        "order_sets": 1, "orders_checked": _draft_orders(CLEAN), "findings": 0,
        "critical": 0, "warning": 0, "info": 0, "errors": 0,
    }  # fmt: skip
    for key in ("order_sets", "orders_checked", "findings", "errors"):
        assert sum(f["counts"][key] for f in files) == summary[key], key
    for ind in INDICATORS:
        assert sum(f["counts"][ind] for f in files) == summary["by_indicator"][ind]
    assert summary["files_by_status"] == {"clean": 1, "findings": 2, "error": 4}
    ndjson = files[-1]
    assert [s["status"] for s in ndjson["order_sets"]] == ["findings", "clean"]
    labels = [s["label"] for s in ndjson["order_sets"]]  # the NDJSON line and the patient reference
    assert labels == ["line 1 Patient/pat-7734", "line 3 Patient/p1"]
    for f in files:
        for s in f["order_sets"]:
            assert s["counts"]["findings"] == len(s["findings"])
            ranks = [INDICATORS.index(x["indicator"]) for x in s["findings"]]
            assert ranks == sorted(ranks)  # critical first inside each order set too
    assert sum(s["counts"]["orders_checked"] for s in ndjson["order_sets"]) == ndjson["counts"]["orders_checked"]


def test_csv_has_a_row_per_input_and_per_order_set_and_the_totals_add_up(batch: Path) -> None:
    run = piped("lint", "--format", "csv", "-q", str(batch))
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    by_record: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_record.setdefault(row["record"], []).append(row)
    files, sets, findings, errors = (by_record[k] for k in ("file", "order_set", "finding", "error"))
    assert len(files) == INPUTS
    assert rows[: len(files) + len(sets)] == [r for r in rows if r["record"] in ("file", "order_set")]
    clean = files[0]
    assert (Path(clean["file"]).name, clean["status"], clean["orders_checked"], clean["findings"]) == (
        "a-clean.json", "clean", str(_draft_orders(CLEAN)), "0",
    )  # fmt: skip
    assert sum(int(f["order_sets"]) for f in files) == len(sets)
    assert sum(int(f["findings"]) for f in files) == len(findings) == sum(int(s["findings"]) for s in sets)
    assert sum(int(f["errors"]) for f in files) == len(errors) == 4
    for ind in INDICATORS:
        assert sum(int(f[ind]) for f in files) == sum(1 for x in findings if x["indicator"] == ind)
    ranks = [INDICATORS.index(x["indicator"]) for x in findings]
    assert ranks == sorted(ranks)  # critical first, then warning, then info; errors after the findings
    assert rows[-len(errors) :] == errors
    two = [s for s in sets if s["file"].endswith(".ndjson")]
    assert [(s["order_set"], s["status"]) for s in two] == [
        ("line 1 Patient/pat-7734", "findings"), ("line 3 Patient/p1", "clean"),
    ]  # fmt: skip


def test_html_report_lists_every_input_with_its_status(batch: Path) -> None:
    html = piped("lint", "--format", "html", "-q", str(batch)).stdout
    rows = re.findall(r'<tr class="input-row" data-status="(\w+)">\s*<th scope="row" class="file">([^<]+)</th>', html)
    assert len(rows) == INPUTS
    assert [(status, Path(name).name) for status, name in rows][:2] == [
        ("clean", "a-clean.json"), ("findings", "b-overdose.json"),
    ]  # fmt: skip
    clean_row = html[html.index('class="file">' + str(batch / "a-clean.json")) :].split("</tr>")[0]
    assert f"<td>1</td><td>{_draft_orders(CLEAN)}</td><td>0</td><td>0</td><td>0</td><td>0</td>" in clean_row
    assert html.count('class="order-set-row"') == 2  # the NDJSON file's two order sets
    assert f"Total ({INPUTS} files)" in html


def test_summary_table_has_a_row_per_input(batch: Path) -> None:
    run = piped("lint", "-q", "--summary", str(batch), COLUMNS="200")
    names = sorted(p.name for p in batch.iterdir())
    lines = [line.rstrip() for line in run.stderr.splitlines()]
    table = lines[lines.index("Files") :]
    table_rows = [line.split() for line in table if any(n in line for n in names)]
    assert [Path(r[0]).name for r in table_rows] == names
    assert table_rows[0][1:] == ["clean", "1", str(_draft_orders(CLEAN)), "0", "0", "0", "0"]


def test_errors_name_their_line_and_column(batch: Path) -> None:
    run = piped("lint", "-q", str(batch))
    err = {Path(line.split(":", 1)[0]).name: line.split(": ", 1)[1] for line in run.stderr.splitlines()}
    assert err["e-broken.json"] == "error: not JSON at line 3, column 24: unexpected character, expected a string key"
    assert err["g-two-patients.ndjson"] == "error at line 2: not JSON at column 35: unexpected end of data"
    assert err["f-empty.json"] == "error: the file is empty"
    assert err["d-not-fhir.json"].startswith("error at $.resourceType: not a FHIR resource")


def test_a_pretty_printed_file_with_a_whole_object_on_a_line_is_still_read_as_json(tmp_path: Path) -> None:
    broken = tmp_path / "one-line-entry.json"
    lines = ["{", '  "resourceType": "Bundle",', '  "entry": [', '    {"resource": {"resourceType": "Patient"}}', "  ]"]
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the closing brace is missing
    run = piped("lint", "-q", str(broken))
    assert run.stderr.endswith("one-line-entry.json: error: not JSON at line 6, column 1: unexpected end of data\n")


@pytest.mark.parametrize(
    ("files", "fail_on", "code"),
    [
        (["clean-order-set.json"], "warning", 0),
        (["heparin-overdose.json"], "warning", 1),
        (["heparin-overdose.json"], "critical", 1),
        (["heparin-low.json", "clean-order-set.json"], "critical", 1),
        (["heparin-overdose.json", "not-fhir.json"], "warning", 2),  # findings and a bad input: 2
        (["clean-order-set.json", "not-fhir.json"], "warning", 2),
    ],
)
def test_exit_codes(files: list[str], fail_on: str, code: int) -> None:
    assert piped("lint", "-q", "--fail-on", fail_on, *files).returncode == code


def test_readme_documents_the_exit_code_of_bad_inputs_with_findings() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| 2 | at least one input could not be read" in readme
