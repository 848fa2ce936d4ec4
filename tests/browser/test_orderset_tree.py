"""A P&T pharmacist reviews an order-set definition in a real browser: upload the seeded BTK PlanDefinition,
see its tree of actions with the findings on the actions, follow a finding to its detail (the corrected
ActivityDefinition as a diff), and download the report, identical to the CLI's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEEDED = ROOT / "fixtures" / "plandef" / "btk-os-seeded.json"


def test_upload_a_definition_see_the_action_tree_and_download_the_report(server: Server, page: Any) -> None:
    page.goto(server.base_url + "/")
    page.get_by_label("Files").set_input_files([str(SEEDED)])
    page.get_by_role("button", name="Lint files").click()
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.get_by_role("heading", name="Results").wait_for()

    tree = page.locator("section.definition-tree")
    assert "Below-the-knee angioplasty order set (seeded defects)" in tree.locator("h2").inner_text()
    heparin = tree.locator('li.tree-node[data-ref="PlanDefinition/btk-os-seeded action[1].action[0]"]')
    assert "Heparin 15,000 units IV bolus" in heparin.locator(".tree-label").first.inner_text()
    assert "HEP202" in heparin.locator(".tree-findings").inner_text()
    p2y12 = tree.locator('li.tree-node[data-ref="PlanDefinition/btk-os-seeded action[2].action[1].action[1]"]')
    assert "AT110" in p2y12.inner_text() and "pre-checked" in p2y12.inner_text()
    clean_action = tree.locator('li.tree-node[data-ref="PlanDefinition/btk-os-seeded action[4].action[0]"]')
    assert clean_action.locator(".tree-findings").count() == 0  # atorvastatin: nothing on it
    page.screenshot(path=str(ARTIFACTS / "10-orderset-tree.png"), full_page=True)

    tree.locator('li.tree-node[data-ref$="action[3].action[0]"] a[data-finding-row]').click()  # VD301
    group = page.locator('tbody.row-group[data-code="VD301"]')
    assert group.get_by_role("button", name="Details").get_attribute("aria-expanded") == "true"
    detail = group.locator(".detail-row")
    assert detail.is_visible()
    diff = detail.locator("pre.diff").inner_text()
    assert '+            "code": "ug"' in diff and '-            "code": "mg"' in diff  # the ActivityDefinition's dose
    assert "Nitroglycerin 100 mg intra-arterial as needed" in group.locator(".finding-row").inner_text()
    page.screenshot(path=str(ARTIFACTS / "11-orderset-finding.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="JSON").click()
    downloaded = json.loads(Path(info.value.path()).read_bytes())
    cli = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "--format", "json", "-q", SEEDED.name],
        cwd=SEEDED.parent,
        capture_output=True,
        check=False,
    )
    assert cli.returncode == 1
    assert downloaded["files"][0]["order_sets"] == json.loads(cli.stdout)["files"][0]["order_sets"]
