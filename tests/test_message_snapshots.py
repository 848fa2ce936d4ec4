"""Messages clinicians read are reviewed content: every fixture's rendered findings (summary and detail) are
kept in tests/snapshots/, so a wording change shows up in the diff. After reviewing a deliberate change,
regenerate with ORDERLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_message_snapshots.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.profiles import load_profile
from tests.conftest import FIXTURE_NOW, ROOT
from tests.fixture_cases import Case, cases

SNAPSHOTS = ROOT / "tests" / "snapshots"
CASES = [c for c in cases() if "findings" in c.expected]


def render(case: Case) -> str:
    profile = load_profile(case.expected.get("profile", "btk-angioplasty"))
    result = load_bytes(case.path.read_bytes(), case.path.name, context=case.expected.get("context"),
                        now=FIXTURE_NOW)
    parts = []
    for order_set in result.order_sets:
        for f in run(order_set, profile):
            parts.append(f"## {f.code} {f.indicator.value} {f.primary_ref}\n\n{f.summary}\n\n{f.detail}\n")
    return "\n".join(parts) or "(no findings)\n"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rendered_messages_match_snapshot(case: Case) -> None:
    path = SNAPSHOTS / case.path.parent.name / (case.path.stem + ".md")
    text = render(case)
    if os.environ.get("ORDERLINT_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.relative_to(ROOT)}: run with ORDERLINT_UPDATE_SNAPSHOTS=1 and review"
    assert text == path.read_text(encoding="utf-8")


def test_no_orphan_snapshots() -> None:
    wanted = {Path(c.path.parent.name) / (c.path.stem + ".md") for c in CASES}
    present = {p.relative_to(SNAPSHOTS) for p in SNAPSHOTS.rglob("*.md")} if SNAPSHOTS.exists() else set()
    assert present <= wanted, sorted(str(p) for p in present - wanted)
