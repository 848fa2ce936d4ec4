"""Issue 12 in a real browser, as a signed-in pharmacist: upload fixtures/ as a zip (plus one named patient's
order set), find that patient's heparin finding in three clicks, see every clean file with its status, the
patient and the procedure on each row, critical rows first; print to PDF (A4 and Letter: a header, no
controls, a page per patient); and the 390 px layout (nothing wider than the screen).

Screenshots and PDFs go to test-artifacts/browser/ (results-*.png, print-*.pdf, narrow-*.png)."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from linter.api.workbench_auth import hash_password
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, Server, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = ROOT / "tests" / "workbench" / "data"
USER, PASSWORD = "pharm", "pharm-password-12"
NAME, MRN = "Quenby, Marisol Ann", "MRN-5512077"
CONTROLS = ("Details", "Log out", "Download", "Show clean", "Search", "Lint files", "Upload")
INDICATORS = ("critical", "warning", "info", "error", "clean")


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    users = f"{USER}:{hash_password(PASSWORD)}"
    yield from start_server(tmp_path_factory.mktemp("serve-users"), ORDERLINT_WORKBENCH_USERS=users)


@pytest.fixture(scope="module")
def pharmacist(signed_in: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser: Any, width: int = 1366) -> Any:
    return browser.new_context(
        viewport={"width": width, "height": 900},
        http_credentials={"username": USER, "password": PASSWORD},
        accept_downloads=True,
    )


@pytest.fixture(scope="module")
def fixtures_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fixtures/ as a pharmacist would zip it, with one order set of a named patient in a ward folder."""
    path = tmp_path_factory.mktemp("zip") / "fixtures.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((ROOT / "fixtures").rglob("*.json")):
            zf.write(f, f.relative_to(ROOT).as_posix())
        zf.write(DATA / "named-patient-heparin.json", "fixtures/ward-7/quenby.json")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def job_url(signed_in: Server, pharmacist: Any, fixtures_zip: Path) -> str:
    context = _context(pharmacist)
    page = context.new_page()
    page.goto(signed_in.base_url + "/")
    page.get_by_label("Files").set_input_files(str(fixtures_zip))
    page.get_by_role("button", name="Lint files").click()  # click 1
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.get_by_role("heading", name="Results").wait_for(timeout=240_000)
    url: str = page.url
    context.close()
    return url


def _visible_rows(page: Any) -> Any:
    return page.locator("tbody.row-group:not([hidden])")


def test_a_named_patients_heparin_finding_in_three_clicks(pharmacist: Any, job_url: str) -> None:
    context = _context(pharmacist)
    page = context.new_page()
    page.goto(job_url)  # (after click 1, Lint files, the browser lands here)
    page.get_by_label("Search").fill("Quenby")  # typing, not a click
    page.locator("#filter-code").select_option("HEP201")  # click 2
    rows = _visible_rows(page)
    assert rows.count() >= 1
    row = rows.first
    assert NAME in row.inner_text() and MRN in row.inner_text() and "born 1950-03-02" in row.inner_text()
    row.get_by_role("button", name="Details").click()  # click 3
    detail = row.locator(".detail-row")
    assert detail.is_visible() and "214" in detail.inner_text()
    row.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "results-named-patient-heparin.png"))
    context.close()


def test_every_row_has_its_patient_and_procedure_critical_first_clean_files_on_request(
    pharmacist: Any, job_url: str
) -> None:
    context = _context(pharmacist)
    page = context.new_page()
    page.goto(job_url)
    rows = _visible_rows(page)
    indicators = [rows.nth(i).get_attribute("data-indicator") for i in range(rows.count())]
    assert indicators[0] == "critical" and "clean" not in indicators
    assert [INDICATORS.index(i) for i in indicators] == sorted(INDICATORS.index(i) for i in indicators)
    for i in range(0, rows.count(), max(1, rows.count() // 25)):  # a sample across the table
        patient = rows.nth(i).locator("td.patient").inner_text().strip()
        context_cell = rows.nth(i).locator("td.context").inner_text().strip()
        assert patient and ".json" in patient, indicators[i]  # who: the patient (when named) and the file
        if indicators[i] != "error":
            assert context_cell, patient  # the procedure, the BTK/PAD context, or "no BTK/PAD context"
    assert any("BTK" in text for text in page.locator("td.context").all_inner_texts())
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1366  # the table fits the window
    page.locator("#results").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "results-default.png"))

    shown_before = rows.count()
    page.get_by_label("Show clean").check()
    clean = page.locator('tbody.row-group[data-indicator="clean"]:not([hidden])')
    assert clean.count() >= 1 and _visible_rows(page).count() == shown_before + clean.count()
    first_clean = clean.first
    assert first_clean.locator(".badge.ind-clean").inner_text().strip().lower() == "clean"
    assert "No findings" in first_clean.inner_text() and ".json" in first_clean.inner_text()
    files = int(page.locator('[data-count="files"]').inner_text())
    by_status = page.locator("#report-totals").inner_text()  # "N files: a clean, b with findings, c with errors"
    a, b, c = (int(by_status.split(word)[0].split()[-1]) for word in (" clean", " with findings", " with errors"))
    assert a + b + c == files
    first_clean.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "results-show-clean.png"))
    context.close()


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_results_print_to_pdf_with_a_header_and_no_controls(pharmacist: Any, job_url: str, paper: str) -> None:
    context = _context(pharmacist)
    page = context.new_page()
    page.goto(job_url)
    page.get_by_label("Search").fill("HEP2")  # a short print: the heparin rows of a few patients
    patients = {
        (g.get_attribute("data-file"), g.get_attribute("data-set")) for g in _visible_rows(page).element_handles()
    }
    assert len(patients) >= 3
    page.emulate_media(media="print")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"print-{paper}-emulated.png"))  # the top of the printed page
    pdf = ARTIFACTS / f"print-{paper}.pdf"
    page.pdf(path=str(pdf), format=paper, print_background=True)
    context.close()

    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(str(pdf)).pages]  # no "ﬁ"
    first = pages[0]
    assert "Results" in first and "Profile btk-angioplasty" in first and f"user {USER}" in first
    assert "Printed 20" in first and "files:" in first and "critical" in first  # date and counts
    text = "\n".join(pages)
    for label in CONTROLS:
        assert label not in text, label
    assert len(pages) >= len(patients) + 1  # the summary, then a page per patient (at least)
    assert sum(MRN in p for p in pages) == 1  # one patient's rows on one page (the name may wrap)


def _no_overflow(page: Any, name: str, limit: int = 390) -> None:
    page.screenshot(path=str(ARTIFACTS / f"narrow-{name}.png"))  # the viewport: where the eye is
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= limit, (name, width)


def test_390px_wide_upload_and_results_pages_do_not_overflow(pharmacist: Any, signed_in: Server, job_url: str) -> None:
    context = _context(pharmacist, width=390)
    page = context.new_page()
    page.goto(signed_in.base_url + "/")
    select = page.locator("#profile").bounding_box()
    assert select is not None and select["x"] + select["width"] <= 390
    _no_overflow(page, "upload")
    page.goto(job_url)
    page.locator("#results").scroll_into_view_if_needed()
    _no_overflow(page, "results")
    page.get_by_label("Search").fill("Quenby")
    button = page.locator("tbody.row-group:not([hidden])").first.get_by_role("button", name="Details")
    button.click()
    button.scroll_into_view_if_needed()
    _no_overflow(page, "results-detail")
    context.close()


def test_the_cli_html_report_prints_with_its_header_and_no_controls(pharmacist: Any, tmp_path: Path) -> None:
    """The standalone report (`orderlint lint --format html`, the same file as the workbench's download): no
    user in it (it is a file, and carries no patient), the profile, the date it is printed and the counts."""
    report = tmp_path / "report.html"
    names = ["heparin-overdose.json", "heparin-low.json", "clean-order-set.json", "not-fhir.json"]
    run = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "--format", "html", "-q", "--output", str(report), *names],
        cwd=DATA,
        capture_output=True,
        check=False,
    )
    assert report.is_file(), run.stderr
    context = pharmacist.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(report.as_uri())
    page.get_by_label("Show clean").check()  # the clean file prints too
    page.emulate_media(media="print")
    pdf = ARTIFACTS / "print-cli-report-Letter.pdf"
    page.pdf(path=str(pdf), format="Letter")
    context.close()
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(str(pdf)).pages]
    assert "Profile btk-angioplasty" in pages[0] and "Printed 20" in pages[0]
    assert "4 files: 1 clean, 2 with findings, 1 with errors" in " ".join(pages[0].split())
    text = "\n".join(pages)
    assert "clean-order-set.json" in text and "No findings" in text
    for label in CONTROLS:
        assert label not in text, label
    assert len(pages) >= 4  # the summary page, then heparin-overdose, heparin-low, clean, not-fhir
