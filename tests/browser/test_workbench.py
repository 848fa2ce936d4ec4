"""The workbench in a real browser: upload three files (one bad), counts, expand a finding, download the CSV
and compare it with the CLI's, then the dashboard after feedback. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import full_prefetch, hook_request
from tests.browser.conftest import ARTIFACTS, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "workbench" / "data"
FILES = ["heparin-overdose.json", "not-fhir.json", "clean-order-set.json"]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_upload_three_files_expand_and_download_csv(server: Server, page: Any, tmp_path: Path) -> None:
    page.goto(server.base_url + "/")
    page.get_by_label("Files").set_input_files([str(DATA / n) for n in FILES])
    assert "3 file(s) chosen" in page.locator("#file-list").inner_text()
    _shot(page, "01-upload-page")
    page.get_by_role("button", name="Lint files").click()
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.get_by_role("heading", name="Results").wait_for()

    def count(key: str) -> int:
        return int(page.locator(f'[data-count="{key}"]').inner_text())

    assert count("files") == 3
    assert count("errors") == 1
    assert count("critical") >= 1  # HEP201 at 214 units/kg
    error_row = page.locator('tbody.row-group[data-indicator="error"]')
    assert error_row.count() == 1 and "not-fhir.json" in error_row.inner_text()
    assert "not a FHIR resource" in error_row.inner_text()
    _shot(page, "02-results")

    hep = page.locator('tbody.row-group[data-code="HEP201"]').first
    toggle = hep.get_by_role("button", name="Details")
    toggle.focus()
    page.keyboard.press("Enter")  # keyboard works, not only the mouse
    assert toggle.get_attribute("aria-expanded") == "true"
    detail = hep.locator(".detail-row")
    assert detail.is_visible()
    text = detail.inner_text()
    assert "Dose per kg" in text and "214 units/kg" in text and "units_per_kg" not in text  # values in words
    assert "000_db9ef64a206b36dc.txt:24" in text  # the source sentence's FILE:LINE
    diff = detail.locator("pre.diff")
    assert "-" in diff.inner_text() and '"value": 5600' in diff.inner_text()
    detail.scroll_into_view_if_needed()
    _shot(page, "03-finding-expanded")

    page.get_by_label("Indicator").select_option("critical")
    visible = page.locator("tbody.row-group:not([hidden])")
    assert all(visible.nth(i).get_attribute("data-indicator") == "critical" for i in range(visible.count()))
    page.get_by_label("Indicator").select_option("")
    page.get_by_role("button", name="Indicator").click()
    assert page.locator("th[aria-sort=ascending]").count() == 1

    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    downloaded = Path(info.value.path()).read_bytes()
    cli = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "--format", "csv", "-q", *sorted(FILES)],
        cwd=DATA,
        capture_output=True,
        check=False,
    )
    assert cli.returncode == 2  # findings and one unusable file
    assert downloaded == cli.stdout


def test_dashboard_shows_override_rates_after_feedback(server: Server, page: Any) -> None:
    services = httpx.get(f"{server.base_url}/cds-services").json()["services"]
    service = next(s["id"] for s in services if s["hook"] == "order-sign")
    cards: list[dict[str, Any]] = []
    for _ in range(3):
        answer = httpx.post(f"{server.base_url}/cds-services/{service}", json=hook_request(prefetch=full_prefetch()))
        assert answer.status_code == 200, answer.text
        cards += answer.json()["cards"]
    hep = [c for c in cards if c["source"]["topic"]["code"] == "HEP201"]
    assert len(hep) == 3
    now = datetime.now(UTC).isoformat()
    feedback = [
        {
            "card": hep[0]["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": now,
            "overrideReason": {
                "reason": {"code": "pt-specific", "system": "http://example.org", "display": "Patient-specific dosing"},
                "userComment": "Obese patient, dosed on adjusted weight",
            },
        },
        {"card": hep[1]["uuid"], "outcome": "overridden", "outcomeTimestamp": now},
        {
            "card": hep[2]["uuid"],
            "outcome": "accepted",
            "outcomeTimestamp": now,
            "acceptedSuggestions": [{"id": hep[2]["suggestions"][0]["uuid"]}],
        },
    ]
    stored = httpx.post(f"{server.base_url}/cds-services/{service}/feedback", json={"feedback": feedback})
    assert stored.status_code == 200 and stored.json()["unknownCards"] == []

    page.goto(server.base_url + "/dashboard")
    row = page.locator('table.stats tr[data-code="HEP201"]')
    cells = row.locator("td")
    assert cells.nth(0).inner_text() == "3"  # issued
    assert cells.nth(1).inner_text() == "1"  # accepted
    assert cells.nth(2).inner_text() == "2"  # overridden
    assert "67%" in row.locator("td.rate").inner_text()
    assert "Patient-specific dosing (1)" in row.inner_text()
    assert page.locator("#rule-HEP201 svg.chart").count() == 1
    assert "Obese patient" in page.locator("#rule-HEP201").inner_text()
    _shot(page, "04-dashboard")
    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard?days=7")
    assert page.locator('table.stats tr[data-code="HEP201"]').count() == 1
