"""Alert-fatigue figures: counts, override rate on the latest outcome per card, reasons, comments, chart,
the dashboard page and `orderlint stats`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linter.store.migrate import upgrade
from linter.store.repository import CardRecord, FeedbackRecord, Store
from linter.store.stats import period, rule_stats
from linter.workbench.charts import rule_chart


def _store(tmp_path: Path) -> tuple[str, Store]:
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    upgrade(url)
    store = Store.from_url(url)
    store.record_cards(
        "svc",
        "hook-1",
        "pat-1",
        [CardRecord(f"c{i}", "HEP201", "critical") for i in range(4)] + [CardRecord("a1", "AT104", "warning")],
    )
    now = datetime.now(UTC)
    store.record_feedback(
        "svc",
        [
            FeedbackRecord("c0", "overridden", now, override_code="rx", override_display="Patient-specific dosing"),
            FeedbackRecord("c1", "overridden", now, override_display="Patient-specific dosing", user_comment="obese"),
            FeedbackRecord("c2", "overridden", now - timedelta(minutes=5), override_display="Other"),
            FeedbackRecord("c2", "accepted", now, accepted_suggestions=["s1"]),  # latest wins
            FeedbackRecord("a1", "accepted", now, accepted_suggestions=["s1"]),
            FeedbackRecord("never-issued", "overridden", now),
        ],
    )
    return url, store


def test_rule_stats(tmp_path: Path) -> None:
    _url, store = _store(tmp_path)
    stats = rule_stats(store.engine, *period(7), {"HEP201": "heparin-bolus-dose"})
    hep = next(r for r in stats.rules if r.code == "HEP201")
    at104 = next(r for r in stats.rules if r.code == "AT104")
    assert (hep.name, at104.name) == ("heparin-bolus-dose", "")  # names from the caller; the store keeps codes
    assert (hep.issued, hep.accepted, hep.overridden, hep.no_feedback) == (4, 1, 2, 1)
    assert hep.override_rate is not None and abs(hep.override_rate - 2 / 3) < 1e-9
    assert hep.top_reasons == [("Patient-specific dosing", 2)]
    assert hep.comments == ["obese"]
    assert stats.rules[0].code == "HEP201"  # most overridden first
    svg = str(rule_chart(hep))
    assert svg.startswith("<svg") and "4 cards issued" in svg and "overridden" in svg
    old = rule_stats(store.engine, datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) - timedelta(days=8), {})
    assert old.rules == []
    store.dispose()


def test_stats_command(tmp_path: Path) -> None:
    url, store = _store(tmp_path)
    store.dispose()
    env = {**os.environ, "ORDERLINT_DATABASE_URL": url}
    run = subprocess.run(
        [sys.executable, "-m", "linter.cli", "stats", "--days", "7"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "HEP201" in run.stdout and "67%" in run.stdout and "Patient-specific dosing (2)" in run.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "linter.cli", "stats", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    doc = json.loads(as_json.stdout)
    assert doc["rules"][0]["override_rate"] == 0.6667
    missing = subprocess.run(
        [sys.executable, "-m", "linter.cli", "stats"],
        env={**os.environ, "ORDERLINT_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "no card store" in missing.stderr
