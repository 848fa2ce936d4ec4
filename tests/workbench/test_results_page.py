"""The results page (issue 12): a row for every clean order set, the patient and the procedure on every row
for signed-in users only (never the open workbench, the downloads or the logs), critical rows first, and no
inline script or style on the page."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from linter.batch import LintOptions, lint_paths
from linter.fhir_io.demographics import demographics, display_name, identifier, report_people
from linter.fhir_io.documents import load_bytes
from linter.profiles import load_profile
from linter.render.html import render_report_body, table_rows
from linter.render.report import report_doc
from tests.workbench.conftest import DATA
from tests.workbench.test_jobs import _run_job
from tests.workbench.test_web_security import ALICE, users_client  # noqa: F401 - a fixture used below
from tests.workbench.web import with_csrf

NAMED = "named-patient-heparin.json"
NAME, MRN, BORN = "Quenby, Marisol Ann", "MRN-5512077", "1950-03-02"
FILES = [NAMED, "clean-order-set.json", "not-fhir.json"]


def _groups(html: str) -> list[str]:
    """The opening tag of each row of the results table, in page order."""
    return [chunk.split(">", 1)[0] for chunk in html.split('<tbody class="row-group"')[1:]]


def test_demographics_come_from_the_patient_resource_kept_beside_the_order_set() -> None:
    (read,) = load_bytes((DATA / NAMED).read_bytes(), NAMED).read
    found = demographics(read.order_set, read.originals)
    assert found is not None
    assert (found.name, found.identifier, found.identifier_kind, found.birth_date) == (NAME, MRN, "MRN", BORN)
    assert found.procedures and "angioplasty" in found.procedures[0].lower()


def test_demographics_take_what_is_there_and_ignore_wrong_types() -> None:
    assert display_name({"name": [{"text": "  Jo   Bloggs "}]}) == "Jo Bloggs"
    assert display_name({"name": [{"family": "Bloggs"}]}) == "Bloggs"
    assert display_name({"name": "Bloggs"}) is None
    assert display_name({"name": [{"family": 7, "given": ["Jo", 3]}]}) == "Jo"
    assert identifier({"identifier": [{"value": "A1", "type": {"text": "NHS number"}}]}) == ("A1", "NHS number")
    assert identifier({"identifier": [{"value": 5}, "x"]}) == (None, None)


def test_rows_put_critical_first_then_the_patient_and_list_clean_order_sets() -> None:

    profile = load_profile("btk-angioplasty")
    results = lint_paths(
        [str(DATA / n) for n in ("clean-order-set.json", "heparin-low.json", NAMED)], profile, LintOptions()
    )
    doc = report_doc(results, profile)
    plain = table_rows(doc)
    assert [r["indicator"] for r in plain][-1] == "clean"  # the clean file has its row, after the findings
    assert all(r["patient"] is None for r in plain)
    people = table_rows(doc, report_people(results))
    ranks = [("critical", "warning", "info", "error", "clean").index(r["indicator"]) for r in people]
    assert ranks == sorted(ranks)
    named = [r for r in people if r["patient"] and r["patient"]["name"] == NAME]
    assert named and named[0]["indicator"] == "critical"
    body = render_report_body(doc, report_people(results))
    assert NAME in body and MRN in body and BORN in body and "Show clean (1)" in body
    assert NAME not in render_report_body(doc) and MRN not in render_report_body(doc)


def test_signed_in_users_see_the_patient_the_downloads_and_logs_never_do(
    users_client: TestClient,  # noqa: F811 - the fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    users_client.headers.update(with_csrf(users_client, ALICE))
    job = _run_job(users_client, FILES)
    page = users_client.get(f"/jobs/{job}").text
    assert NAME in page and MRN in page and f"born {BORN}" in page
    assert "user alice" in page  # the print header names the user
    groups = _groups(page)
    assert 'data-indicator="critical"' in groups[0] and NAME in groups[0]
    assert any('data-indicator="clean"' in g and "clean-order-set.json" in g for g in groups)
    for kind in ("json", "csv", "html"):
        download = users_client.get(f"/workbench/jobs/{job}/report.{kind}").text
        assert NAME not in download and MRN not in download and "Marisol" not in download, kind
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "Quenby" not in logged and MRN not in logged


def test_the_open_workbench_shows_no_patient(wb_client: TestClient) -> None:
    job = _run_job(wb_client, FILES)
    page = wb_client.get(f"/jobs/{job}").text
    assert "Quenby" not in page and MRN not in page
    assert 'data-indicator="clean"' in page and "open workbench, no user" in page
    jobs_dir = Path(wb_client.app.state.orderlint.settings.upload_dir)  # type: ignore[attr-defined]
    assert not list(jobs_dir.rglob("body-people.html"))  # nothing with patients is even written


def test_the_results_page_has_no_inline_script_or_style(wb_client: TestClient) -> None:
    job = _run_job(wb_client, FILES)
    html = wb_client.get(f"/jobs/{job}").text
    assert "<tbody" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html and re.search(r"\son[a-z]+=", html) is None


def test_a_long_by_rule_summary_is_folded_below_the_findings_a_short_one_stays_open_above() -> None:

    profile = load_profile("btk-angioplasty")
    root = Path(__file__).resolve().parents[2] / "fixtures"
    many = report_doc(lint_paths([str(root)], profile, LintOptions()), profile)
    assert len(many["summary"]["by_code"]) > 6
    body = render_report_body(many)
    assert body.index('<details class="by-code">') > body.index('id="findings-title"')
    few = report_doc(lint_paths([str(DATA / "heparin-low.json")], profile, LintOptions()), profile)
    body = render_report_body(few)
    assert body.index('<details class="by-code" open>') < body.index('id="findings-title"')


def test_two_inputs_under_one_name_get_no_patient_rather_than_the_wrong_one() -> None:
    profile = load_profile("btk-angioplasty")
    named = lint_paths([str(DATA / NAMED)], profile, LintOptions())
    other = lint_paths([str(DATA / "heparin-low.json")], profile, LintOptions())
    other[0].path = named[0].path
    assert report_people(named)[named[0].path][0] is not None
    assert report_people([*named, *other])[named[0].path] == [None]
