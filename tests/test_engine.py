"""The engine: selection by code or prefix, indicator overrides, one finding per rule per order, and a rule
that raises becomes a finding (logged without its message) instead of taking the others down."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from linter import engine
from linter.fhir_io import load_bytes
from linter.model import CouldNotVerify, Finding, Indicator, OrderSet
from linter.profiles import Profile, RuleConfig
from linter.rules.data_quality import could_not_verify_findings
from tests.conftest import FIXTURE_NOW, FIXTURES

OVERDOSE = FIXTURES / "hooks" / "order-sign-heparin-overdose.json"


def _order_set() -> OrderSet:
    return load_bytes(OVERDOSE.read_bytes(), "t", now=FIXTURE_NOW).order_sets[0]


def test_select_and_ignore_take_codes_and_prefixes(profile: Profile) -> None:
    order_set = _order_set()
    assert [f.code for f in engine.run(order_set, profile)] == ["HEP201"]
    assert engine.run(order_set, profile, select=["AT"]) == []
    assert [f.code for f in engine.run(order_set, profile, select=["hep2"])] == ["HEP201"]
    assert engine.run(order_set, profile, ignore=["HEP201"]) == []


def test_indicator_overrides_come_from_the_profile(profile: Profile) -> None:
    rules = dict(profile.rules)
    rules["HEP201"] = RuleConfig(
        options=rules["HEP201"].options,
        cite=rules["HEP201"].cite,
        indicator_overrides={Indicator.CRITICAL: Indicator.WARNING},
    )
    tuned = profile.model_copy(update={"rules": rules})
    (finding,) = engine.run(_order_set(), tuned)
    assert finding.indicator is Indicator.WARNING


def test_a_disabled_rule_does_not_run(profile: Profile) -> None:
    rules = dict(profile.rules)
    rules["HEP201"] = RuleConfig(enabled=False)
    assert engine.run(_order_set(), profile.model_copy(update={"rules": rules})) == []


def test_one_finding_per_rule_per_order_keeps_the_most_urgent(profile: Profile) -> None:
    base = Finding("AT101", Indicator.WARNING, "s", "d", ("MedicationRequest/a",))
    kept = engine.finalize([base, replace(base, indicator=Indicator.CRITICAL), base], profile)
    assert [(f.code, f.indicator) for f in kept] == [("AT101", Indicator.CRITICAL)]


def test_a_rule_that_raises_becomes_a_finding_and_its_message_is_not_logged(
    profile: Profile, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from linter.rules import RULES_BY_CODE

    rule: Any = RULES_BY_CODE["AT104"]  # called on every order set (no META.applies_to)
    patient_data = "patient " + "John Smith MRN 12345"  # built at run time, as data in a message would be

    def broken(order_set: OrderSet, options: Any) -> Iterable[Finding]:
        raise ValueError(patient_data)

    monkeypatch.setattr(rule, "check", broken)
    engine._PLANS.clear()
    with caplog.at_level(logging.ERROR, logger="orderlint.engine"):
        findings = engine.run(_order_set(), profile)
    crash = [f for f in findings if f.code == "AT104"]
    assert crash and "internal error (ValueError)" in crash[0].summary
    assert any(f.code == "HEP201" for f in findings)  # the other rules still ran
    assert "ValueError" in caplog.text and "John Smith" not in caplog.text


def test_could_not_verify_lists_each_rule_once_with_its_own_reason() -> None:
    clean = FIXTURES / "clean" / "pass-btk-order-set-complete.json"
    order_set = load_bytes(clean.read_bytes(), clean.name, now=FIXTURE_NOW).order_sets[0]
    items = [
        CouldNotVerify("DQ902", "MedicationRequest/x", "HEP202", "the heparin bolus dose", "'vial' is not UCUM"),
        CouldNotVerify("DQ902", "MedicationRequest/x", "HEP201", "the heparin bolus dose", "'vial' is not UCUM"),
        CouldNotVerify("DQ902", "MedicationRequest/x", "HEP201", "the heparin bolus dose", "'vial' is not UCUM"),
        CouldNotVerify("DQ902", "MedicationRequest/x", "HEP205", "the heparin dose in units", "no concentration"),
    ]
    (f,) = could_not_verify_findings(items, order_set)
    bullets = [line for line in f.detail.splitlines() if line.startswith("- ")]
    assert bullets == [
        "- HEP201 needs the heparin bolus dose",
        "- HEP202 needs the heparin bolus dose",
        "- HEP205 needs the heparin dose in units, which could not be read because no concentration",
    ]
    assert f.values["rules"] == ["HEP201", "HEP202", "HEP205"]
