"""Computed values in words (issue 12 §3): every value key any rule emits has a label, the labelled text has no
program key or UCUM code, the confidence is explained, and each source quote is shown once; the JSON and CSV
keep the machine keys."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from linter.batch import FileResult, LintedSet
from linter.engine import run
from linter.fhir_io import load_bytes
from linter.model import Finding, OrderSet
from linter.profiles import Profile, available_profiles
from linter.render.cards import card_detail, cards_response
from linter.render.html import render_report_doc
from linter.render.report import detail_lines, report_csv, report_doc
from linter.render.values import LABELS, confidence_text, detail_body, label_for, labelled_values
from tests.conftest import FIXTURE_NOW, FIXTURES

HEPARIN = FIXTURES / "HEP201" / "fail-15000-units-70kg.json"
HEPARIN_VALUES = {"units_per_kg": 214.3, "weight_kg": 70.0, "suggested_dose": 5600.0, "suggested_unit": "[iU]"}
HEPARIN_LINES = [
    "Dose per kg: 214 units/kg",
    "Weight: 70 kg (Observation, 2026-11-20)",
    "Suggested: 5,600 units",
]
UCUM_CODE = re.compile(r"\[[A-Za-z_']+\]|\bug\b|\{[a-z]+\}|\b\d+ (?:d|h|wk|mo|a)\b")


@cache
def fixture_findings() -> tuple[tuple[str, Finding, OrderSet], ...]:
    """Every finding of every fixture under every profile (the engine over fixtures/, as the CLI runs it)."""
    out = []
    for path in sorted(FIXTURES.rglob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        result = load_bytes(path.read_bytes(), path.name, now=FIXTURE_NOW)
        for order_set in result.order_sets:
            for profile in available_profiles().values():
                out.extend((str(path.relative_to(FIXTURES)), f, order_set) for f in run(order_set, profile))
    return tuple(out)


def test_every_value_key_any_rule_emits_over_the_fixtures_has_a_label() -> None:
    found = fixture_findings()
    keys = {(f.code, k) for _, f, _ in found for k in f.values}
    assert len({k for _, k in keys}) > 30  # the catalog emits values widely
    assert sorted(f"{code} {key}" for code, key in keys if label_for(code, key) is None) == []


def test_labelled_values_have_no_program_key_and_no_ucum_code() -> None:
    machine_keys = {k for k in LABELS if isinstance(k, str)}
    for where, f, order_set in fixture_findings():
        for v in labelled_values(f, order_set):
            assert v.label not in machine_keys or v.label == v.key.capitalize(), f"{where} {f.code}: {v.label}"
            assert "_" not in v.label, f"{where} {f.code}: label {v.label!r}"
            assert not UCUM_CODE.search(v.text), f"{where} {f.code}: {v.label}: {v.text!r}"
            assert v.text.strip(), f"{where} {f.code}: empty {v.label}"


def _found(where: str, code: str) -> tuple[Finding, OrderSet]:
    return next((f, o) for w, f, o in fixture_findings() if w == where and f.code == code)


def _heparin() -> tuple[Finding, OrderSet]:
    return _found("HEP201/fail-15000-units-70kg.json", "HEP201")


def test_the_heparin_finding_in_words() -> None:
    f, order_set = _heparin()
    assert [f"{v.label}: {v.text}" for v in labelled_values(f, order_set)] == HEPARIN_LINES
    # the machine keys are what the API gives, unchanged
    assert dict(f.values) == HEPARIN_VALUES


def test_a_dose_per_kg_shows_no_weight_and_suggests_per_kg() -> None:
    f, _ = _found("HEP201/fail-101-units-per-kg.json", "HEP201")
    shown = [f"{v.label}: {v.text}" for v in labelled_values(f)]
    assert shown == ["Dose per kg: 101 units/kg", "Suggested: 80 units/kg"]


def test_the_weight_names_where_it_came_from_only_when_it_is_that_weight() -> None:
    f, order_set = _heparin()
    assert [v.text for v in labelled_values(f, None) if v.key == "weight_kg"] == ["70 kg"]
    assert order_set.patient.weight is not None and order_set.patient.weight.ref.startswith("Observation/")


def test_every_confidence_is_explained_truthfully() -> None:
    seen: dict[str, set[str]] = {}
    for _, f, _ in fixture_findings():
        text = confidence_text(f)
        assert text.startswith(f"{f.confidence}: "), text
        seen.setdefault(f.confidence, set()).add(text)
        if f.confidence == "inferred":  # each rule that infers says what it inferred
            assert "detail says" not in text, f"{f.code}: generic inferred wording"
    assert set(seen) == {"definite", "inferred"}


def test_the_detail_body_drops_exactly_the_source_block() -> None:
    for where, f, _ in fixture_findings():
        body = detail_body(f)
        for c in f.citations:
            assert c.quote not in body, f"{where} {f.code}: quote left in the body"
        assert f.detail.startswith(body)


def _results(*paths: Path) -> tuple[list[FileResult], Profile]:
    profile = available_profiles()["btk-angioplasty"]
    results = []
    for path in paths:
        read = load_bytes(path.read_bytes(), str(path.relative_to(FIXTURES)), now=FIXTURE_NOW)
        sets = [LintedSet(r.order_set, run(r.order_set, profile), r.originals) for r in read.read]
        results.append(FileResult(str(path.relative_to(FIXTURES)), sets, []))
    return results, profile


def _heparin_item(doc: dict[str, Any]) -> dict[str, Any]:
    items = doc["files"][0]["order_sets"][0]["findings"]
    item: dict[str, Any] = next(i for i in items if i["code"] == "HEP201")
    return item


def test_json_and_csv_keep_the_machine_keys_and_the_report_doc_adds_the_words() -> None:
    results, profile = _results(HEPARIN)
    item = _heparin_item(report_doc(results, profile))
    assert item["values"] == HEPARIN_VALUES
    assert [f"{v['label']}: {v['text']}" for v in item["display"]["values"]] == HEPARIN_LINES
    assert item["display"]["confidence"].startswith("definite: computed from the order's dose and the recorded weight")
    assert "**Source**" in item["detail"] and "**Source**" not in item["display"]["detail"]
    rows = list(csv.DictReader(io.StringIO(report_csv(results))))
    assert [r["code"] for r in rows if r["record"] == "finding"] == ["HEP201"]


def _detail_rows(html: str) -> list[str]:
    """Each finding's detail panel: from its detail row to the next row group (or the end of the table)."""
    chunks = html.split('<tr class="detail-row"')[1:]
    return [re.split(r'<tbody class="row-group"|</section>', c, maxsplit=1)[0] for c in chunks]


def test_html_detail_shows_labels_the_confidence_and_each_quote_once() -> None:
    paths = [HEPARIN, FIXTURES / "orders" / "claudication-only.json", FIXTURES / "VD301" / "fail-100-mg-ia.json"]
    results, profile = _results(*paths)
    doc = report_doc(results, profile)
    html = render_report_doc(doc)
    rows = _detail_rows(html)
    findings = [f for r in results for s in r.sets for f in s.findings]
    assert len(rows) == len(findings) > 2
    for row in rows:
        assert re.search(r'<p class="confidence" data-confidence="\w+">Confidence: (definite|inferred): ', row)
        for quote in re.findall(r"<blockquote>(.*?)</blockquote>", row, re.S):
            assert row.count(quote.strip()) == 1, f"quoted twice: {quote[:60]}"
        for key in re.findall(r'<th scope="row">(.*?)</th>', row):
            assert "_" not in key and not key.islower(), f"a program key as a label: {key}"
    hep = next(r for r in rows if "heparin-bolus-dose" in r)
    for line in HEPARIN_LINES:
        label, text = line.split(": ", 1)
        assert f'<th scope="row">{label}</th><td>{text}</td>' in hep
    assert "Q&amp;A: below-knee angioplasty (2025-03-24), line 24" in hep  # the source titled, once


def test_the_card_detail_lists_the_labelled_values_as_github_markdown() -> None:
    f, order_set = _heparin()
    detail = card_detail(f, order_set)
    head = detail.split("\n\n", 1)[0].splitlines()
    assert head == [
        "- **Dose per kg:** 214 units/kg",
        "- **Weight:** 70 kg (Observation, 2026-11-20)",
        "- **Suggested:** 5,600 units",
        "- **Confidence:** definite: computed from the order's dose and the recorded weight, nothing assumed",
    ]
    assert detail.endswith(f.detail) and detail.count(f.citations[0].quote) == 1
    profile = available_profiles()["btk-angioplasty"]
    (card,) = [c for c in cards_response([f], order_set, profile)["cards"]]
    assert card["detail"] == detail


def test_card_markdown_escapes_request_text_in_values() -> None:
    f = Finding("DQ904", _heparin()[0].indicator, "s", "d", values={"path": "entry[2].resource", "reason": "*bad* <b>"})
    detail = card_detail(f)
    assert "- **Where:** entry\\[2\\].resource" in detail and "- **Reason:** \\*bad\\* \\<b\\>" in detail


def test_text_show_source_prints_values_confidence_and_each_quote_once() -> None:
    f, order_set = _heparin()
    lines = detail_lines(f, order_set)
    assert lines[:3] == HEPARIN_LINES and lines[3].startswith("Confidence: definite: ")
    out = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "-q", "--show-source", str(HEPARIN)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    for line in HEPARIN_LINES:
        assert f"\n    {line}\n" in out
    assert out.count(f.citations[0].quote) == 1


@pytest.mark.parametrize("key", sorted(k for k in LABELS if isinstance(k, str)))
def test_each_label_reads_as_words(key: str) -> None:
    entry = LABELS[key]
    assert entry.label[0].isupper() and "_" not in entry.label and json.dumps(entry.label).isascii()
