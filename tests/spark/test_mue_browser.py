"""The MUE report from a Spark run opens in Debian's chromium (Playwright) and the numbers it shows match the
findings and orders tables the same run wrote."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.spark.conftest import Run
from tests.spark.test_spark_job import _parquet

pytestmark = [pytest.mark.spark, pytest.mark.browser]


def test_mue_report_in_chromium_matches_the_findings(generated_run: Run) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    findings = [r for r in _parquet(generated_run.out / "findings.parquet") if r["code"] != "ERROR"]
    orders = _parquet(generated_run.out / "orders.parquet")
    by_indicator = Counter(r["indicator"] for r in findings)
    by_rule = Counter(r["code"] for r in findings)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto((generated_run.out / "mue.html").as_uri())

            def cell(test_id: str) -> int:
                return int(page.get_by_test_id(test_id).inner_text())

            assert page.get_by_role("heading", name="Medication-use evaluation").is_visible()
            assert cell("findings") == len(findings)
            assert cell("orders_checked") == len(orders)
            assert cell("order_sets") == len({r["patient_hmac"] for r in orders})
            for ind in ("critical", "warning", "info"):
                assert cell(f"total-{ind}") == by_indicator[ind]
            assert len(by_rule) > 5
            for code, n in by_rule.items():
                assert cell(f"{code}-findings") == n
                # the chart's bars for the rule add up to its findings
                bars = page.locator(f"#rule-{code} svg rect[data-count]")
                assert sum(int(b.get_attribute("data-count") or 0) for b in bars.all()) == n
            assert page.locator("svg.chart").count() == len(by_rule)
            assert all(u.startswith("file:") for u in requests)  # self-contained: nothing fetched
        finally:
            browser.close()


def test_chart_is_described_for_screen_readers(generated_run: Run) -> None:
    html = (generated_run.out / "mue.html").read_text()
    assert "<script" not in html and 'role="img"' in html and "<desc" in html
