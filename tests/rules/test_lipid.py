"""LL401-LL402: suggestions, the statin class, and how doses are judged (orders by dose, context by strength)."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.model import CreateAction, DeleteAction, Finding, SetDose, SetFrequency, UpdateAction
from linter.profiles import Profile
from linter.rules._common import drugs_in_class
from linter.rules.lipid import ll401_statin_missing, ll402_statin_not_high_intensity
from tests.conftest import FIXTURE_NOW, FIXTURES

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CLEAN = json.loads((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_text())


def _statin(
    resource_type: str,
    status: str,
    code: str,
    dose: float | None = None,
    unit: str = "mg",
    frequency: int = 1,
    period: float = 1,
) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "text": "statin",
        "timing": {"repeat": {"frequency": frequency, "period": period, "periodUnit": "d"}},
    }
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}]
    r: dict[str, Any] = {
        "resourceType": resource_type,
        "id": f"s{code}",
        "status": status,
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }
    if resource_type == "MedicationStatement":
        r["dosage"] = [dosage]
    else:
        r["intent"] = "order"
        r["dosageInstruction"] = [dosage]
    return r


def _lint(extra: list[dict[str, Any]], profile: Profile) -> list[Finding]:
    b = copy.deepcopy(CLEAN)
    b["entry"] = [e for e in b["entry"] if e["resource"]["id"] != "atorvastatin"]
    b["entry"] += [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in extra]
    result = load_bytes(orjson.dumps(b), "test", now=FIXTURE_NOW)
    assert not result.errors
    return run(result.order_sets[0], profile)


def _ll(findings: list[Finding]) -> dict[str, str]:
    return {f.code: f.indicator.value for f in findings if f.code.startswith(("LL", "DQ"))}


def test_statin_keys_are_the_terminology_class() -> None:
    statins = drugs_in_class("statin")
    assert statins == ll401_statin_missing.STATINS
    assert statins == ll402_statin_not_high_intensity.STATINS
    assert statins == ll401_statin_missing.META.drugs


def test_ll401_creates_the_profile_template(profile: Profile) -> None:
    (f,) = [f for f in _lint([], profile) if f.code == "LL401"]
    assert f.indicator.value == "warning"
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, CreateAction) and action.template == "atorvastatin_80_daily"
    assert action.template in profile.regimens


@pytest.mark.parametrize(
    ("statin", "expected"),
    [
        (_statin("MedicationRequest", "draft", "617311", 40), {}),  # atorvastatin 40 mg: boundary, silent
        (_statin("MedicationRequest", "draft", "617310", 20), {"LL402": "info"}),
        (_statin("MedicationRequest", "draft", "617310", 2, "{tbl}"), {}),  # 2 x 20 mg tablets = 40 mg
        (_statin("MedicationRequest", "draft", "617311", 40, period=2), {"LL402": "info"}),  # 20 mg/day
        (_statin("MedicationRequest", "draft", "859751", 20), {}),  # rosuvastatin 20 mg
        (_statin("MedicationRequest", "draft", "859747", 10), {"LL402": "info"}),
        (_statin("MedicationRequest", "draft", "200345", 80), {"LL402": "info"}),  # simvastatin: other statin
        (_statin("MedicationRequest", "draft", "83367"), {"DQ901": "warning"}),  # dose not machine-readable
        # Active medications in context: judged by their coded product strength.
        (_statin("MedicationStatement", "active", "617312"), {"LL402": "info"}),  # atorvastatin 10 mg product
        (_statin("MedicationStatement", "active", "259255"), {}),
        (_statin("MedicationStatement", "active", "83367"), {}),  # ingredient only: not judged
        (_statin("MedicationStatement", "completed", "617312"), {"LL401": "warning"}),  # history: not in regimen
    ],
    ids=[
        "atorva40",
        "atorva20",
        "atorva-2x20tbl",
        "atorva40-every-2-days",
        "rosuva20",
        "rosuva10",
        "simva80",
        "no-dose",
        "ctx-atorva10",
        "ctx-atorva80",
        "ctx-ingredient",
        "ctx-completed",
    ],
)
def test_ll402_judging(statin: dict[str, Any], expected: dict[str, str], profile: Profile) -> None:
    assert _ll(_lint([statin], profile)) == expected


def test_ll402_updates_atorvastatin_order_to_80mg(profile: Profile) -> None:
    (f,) = [f for f in _lint([_statin("MedicationRequest", "draft", "617310", 20)], profile) if f.code == "LL402"]
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction)
    assert SetDose(0, 80, "mg", "mg") in action.changes
    assert any(isinstance(c, SetFrequency) and c.frequency == 1 and c.period_unit == "d" for c in action.changes)


def test_ll402_replaces_another_statin(profile: Profile) -> None:
    findings = _lint([_statin("MedicationRequest", "draft", "859747", 10)], profile)
    (f,) = [f for f in findings if f.code == "LL402"]
    assert f.suggestion is not None
    assert [type(a) for a in f.suggestion.actions] == [DeleteAction, CreateAction]


def test_ll402_context_statin_not_judged_when_a_high_intensity_order_replaces_it(profile: Profile) -> None:
    findings = _lint(
        [_statin("MedicationStatement", "active", "617312"), _statin("MedicationRequest", "draft", "259255", 80)],
        profile,
    )
    assert "LL402" not in _ll(findings)
