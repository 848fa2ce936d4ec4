"""Cards a clinician reads without a glossary (issue 8 §4): no UCUM code in the reviewed card texts
(tests/snapshots), outside the quoted source sentences, which stay verbatim."""

from __future__ import annotations

import re

from tests.conftest import ROOT

# A number followed by a UCUM code people do not write: 15,000 [iU]; 200 ug; 1 {tbl}; 69 [iU]/kg.
UCUM_AFTER_NUMBER = re.compile(r"\d (\[[A-Za-z_']+\]|ug\b|\{[a-z]+\})")
PERIOD_CODE = re.compile(r"\bper \d+ (d|h|wk|mo|a)\b")


def _offending_lines() -> list[str]:
    out = []
    for path in sorted((ROOT / "tests" / "snapshots").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(">"):
                continue  # a quoted source sentence is cited verbatim
            if UCUM_AFTER_NUMBER.search(line) or PERIOD_CODE.search(line):
                out.append(f"{path.relative_to(ROOT)}: {line}")
    return out


def test_frequencies_are_written_out() -> None:
    assert not [line for line in _offending_lines() if PERIOD_CODE.search(line)]


def test_no_ucum_code_in_card_text() -> None:
    assert not _offending_lines()
