"""Cards a clinician reads without a glossary (issue 8 §4, issue 12 §3): no UCUM code in the reviewed finding
texts (the messages of fixtures/**/*.expected.md) nor in the labelled values and card details rendered from
them, outside the quoted source sentences, which stay verbatim."""

from __future__ import annotations

import re

from linter.render.cards import card_detail
from tests.conftest import FIXTURES
from tests.test_value_labels import fixture_findings

# A number followed by a UCUM code people do not write: 15,000 [iU]; 200 ug; 1 {tbl}; 69 [iU]/kg.
UCUM_AFTER_NUMBER = re.compile(r"\d (\[[A-Za-z_']+\]|ug\b|\{[a-z]+\})")
PERIOD_CODE = re.compile(r"\bper \d+ (d|h|wk|mo|a)\b")


def _reviewed_lines() -> list[tuple[str, str]]:
    """(where, line) of every reviewed message and every card detail, quoted source sentences left out."""
    out = []
    artifacts = sorted(FIXTURES.rglob("*.expected.md"))
    assert len(artifacts) > 100  # the catalog's reviewed messages (tests/snapshots/ moved here)
    for path in artifacts:
        messages = path.read_text(encoding="utf-8").split("\n```\n", 1)[-1]  # after the JSON header
        out.extend((str(path.relative_to(FIXTURES)), line) for line in messages.splitlines())
    for where, f, order_set in fixture_findings():
        out.extend((f"{where} {f.code} card", line) for line in card_detail(f, order_set).splitlines())
    return [(where, line) for where, line in out if not line.startswith(">")]  # a quote is cited verbatim


def test_frequencies_are_written_out() -> None:
    assert [f"{w}: {line}" for w, line in _reviewed_lines() if PERIOD_CODE.search(line)] == []


def test_no_ucum_code_in_card_text() -> None:
    assert [f"{w}: {line}" for w, line in _reviewed_lines() if UCUM_AFTER_NUMBER.search(line)] == []
