"""Rule documentation: `explain` shows what a clinician needs (what, why, quoted source with FILE:LINE, the
active profile's thresholds with citations, limitations); docs/rules.md is generated and never stale; and the
catalog meta-test: every rule of RULES.md is registered with the scope and indicator RULES.md gives it, its
docs have every section, and the fixtures its Example names exist."""

from __future__ import annotations

import re

import pytest

from linter.docs import NOT_CHECKED, NOT_CHECKED_STATUS, explain_text, missing_sections, rule_sections, rules_markdown
from linter.docs import rules_table as table
from linter.profiles import Profile, load_profile
from linter.rules import RULES, RULES_BY_CODE
from linter.rules._base import RuleModule
from tests.conftest import ROOT

RULES_MD = ROOT / "knowledge" / "RULES.md"
DOCS_MD = ROOT / "docs" / "rules.md"
REGENERATE = "orderlint rules --format markdown > docs/rules.md"


def _catalog() -> str:
    return RULES_MD.read_text(encoding="utf-8")


def _catalog_rows() -> dict[str, str]:
    """code -> indicator cell of the RULES.md tables."""
    rows = {}
    for line in _catalog().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[A-Z]{2,3}\d{3}", cells[0]):
            rows[cells[0]] = cells[2]
    return rows


def _catalog_scopes() -> dict[str, str]:
    scopes: dict[str, str] = {}
    for line in _catalog().splitlines():
        m = re.match(r"- \*\*(any|pad|btk)\*\*: (.*)", line)
        if not m:
            continue
        for a, b in re.findall(r"([A-Z]{2,3}\d{3})(?:-([A-Z]{2,3}\d{3}))?", m.group(2)):
            if b:
                prefix, lo, hi = a[:-3], int(a[-3:]), int(b[-3:])
                for n in range(lo, hi + 1):
                    scopes[f"{prefix}{n}"] = m.group(1)
            else:
                scopes[a] = m.group(1)
    return scopes


# ---- generated docs ----------------------------------------------------------------------------------------


def test_docs_rules_md_is_not_stale(profile: Profile) -> None:
    assert DOCS_MD.exists(), f"docs/rules.md is missing: run `{REGENERATE}`"
    assert DOCS_MD.read_text(encoding="utf-8") == rules_markdown(profile), f"docs/rules.md is stale: run `{REGENERATE}`"


def test_markdown_lists_every_rule_and_what_is_not_checked(profile: Profile) -> None:
    md = rules_markdown(profile)
    for rule in RULES:
        assert f"## {rule.META.code} {rule.META.name}" in md
    assert "## Documented, not checked" in md
    for item in NOT_CHECKED:
        assert item.title in md and item.reason in md


# ---- explain -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_explain_has_source_thresholds_and_limitations(rule: RuleModule, profile: Profile) -> None:
    text = explain_text(rule.META.code.lower(), profile)
    assert text.startswith(f"{rule.META.code} {rule.META.name}: ")
    for heading in ("WHAT IT CHECKS", "WHY IT MATTERS", "SOURCE", "THRESHOLDS", "LIMITATIONS"):
        assert heading in text
    for c in rule.META.citations:
        assert c.quote in text and c.label in text
    cfg = profile.rule(rule.META.code)
    for key in cfg.options if cfg else {}:
        assert f"  {key} = " in text
        assert cfg is not None and cfg.cite[key] in text


def test_explain_shows_the_active_profile_thresholds() -> None:
    jp = load_profile("btk-angioplasty-jp")
    if "AT101" not in RULES_BY_CODE:
        pytest.skip("AT101 not registered yet")
    text = explain_text("AT101", jp)
    assert "btk-angioplasty-jp" in text
    assert "  suggest_mg = 100\n      cited: 002_6cec19d6dc2f6528.txt:62" in text


def test_explain_unknown_code(profile: Profile) -> None:
    with pytest.raises(KeyError):
        explain_text("XX999", profile)


def test_pr501_explain_quotes_the_class_iii_sentence(profile: Profile) -> None:
    text = explain_text("PR501", profile)
    assert "Do NOT revascularize for claudication due to isolated infrapopliteal calcified disease" in text
    assert "001_f5986088b79218a7.txt:46" in text


# ---- rules table -------------------------------------------------------------------------------------------


def test_rules_table_rows(profile: Profile) -> None:
    rows = table(profile)
    codes = [r["code"] for r in rows if r["status"] != NOT_CHECKED_STATUS]
    assert codes == [r.META.code for r in RULES]
    for row in rows:
        assert {"code", "name", "family", "scope", "indicator", "citation", "status"} <= set(row)
        assert all(isinstance(v, str) for v in row.values())
    not_checked = [r for r in rows if r["status"] == NOT_CHECKED_STATUS]
    assert {r["name"] for r in not_checked} == {"pierce-technique", "balloon-diameter-and-inflation-time"}
    assert all(r["reason"] for r in not_checked)
    assert any("004_aa54da322e4d534c.txt" in r["citation"] for r in not_checked)
    assert any("000_db9ef64a206b36dc.txt:25" in r["citation"] for r in not_checked)


# ---- catalog meta-test -------------------------------------------------------------------------------------


def test_every_catalog_code_is_registered() -> None:
    missing = sorted(set(_catalog_rows()) - set(RULES_BY_CODE))
    assert not missing, f"RULES.md codes without a registered rule: {missing}"


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_rule_agrees_with_the_catalog(rule: RuleModule) -> None:
    rows, scopes = _catalog_rows(), _catalog_scopes()
    code = rule.META.code
    if code in rows:
        first = re.match(r"(info|warning|critical)", rows[code])
        assert first, rows[code]
        assert rule.META.default_indicator.value == first.group(1), f"{code}: RULES.md says {rows[code]!r}"
    if code in scopes:
        assert rule.META.scope.value == scopes[code], f"{code}: RULES.md scope is {scopes[code]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_rule_docs_sections_are_filled_and_examples_exist(rule: RuleModule) -> None:
    assert not missing_sections(rule), f"{rule.META.code}: empty or missing doc sections {missing_sections(rule)}"
    _, sections = rule_sections(rule)
    named = re.findall(r"`(fixtures/[^`]+\.json)`", sections["Example"])
    assert named, f"{rule.META.code}: the Example section names no fixture"
    for path in named:
        assert (ROOT / path).exists(), f"{rule.META.code}: Example names {path}, which does not exist"
