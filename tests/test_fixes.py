"""Suggestions become valid FHIR: updates keep the id and everything else, creates come from the profile."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from linter.engine import run
from linter.fhir_io import load_bytes, validate_resource
from linter.fixes import apply_update, suggestion_actions
from linter.model import (
    CreateAction,
    DeleteAction,
    Finding,
    Indicator,
    SetDose,
    SetDuration,
    SetFrequency,
    Suggestion,
    UpdateAction,
)
from linter.profiles import Profile
from tests.conftest import FIXTURE_NOW, FIXTURES

UCUM = "http://unitsofmeasure.org"


def _clean_set() -> Any:
    data = (FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes()
    return load_bytes(data, "clean", now=FIXTURE_NOW).read[0]  # the OrderSet and the resources as read


def test_set_dose_replaces_the_dose_keeps_the_rest() -> None:
    original = _clean_set().originals["MedicationRequest/heparin"]
    before = copy.deepcopy(original)
    updated = apply_update(
        original,
        UpdateAction("MedicationRequest/heparin", "Change to 5,600 units", (SetDose(0, 5600, "[iU]", "units"),)),
    )
    assert original == before  # the input is never mutated
    assert updated["id"] == "heparin" and updated["note"] == original["note"]
    assert updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] == {
        "value": 5600,
        "unit": "units",
        "system": UCUM,
        "code": "[iU]",
    }
    validate_resource(updated)


def test_set_frequency_drops_a_contradicting_timing_code() -> None:
    resource = {
        "resourceType": "MedicationRequest",
        "id": "r",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": "rivaroxaban"},
        "dosageInstruction": [
            {
                "timing": {
                    "code": {"text": "QD"},
                    "repeat": {"boundsDuration": {"value": 30, "unit": "d", "system": UCUM, "code": "d"}},
                }
            }
        ],
    }
    updated = apply_update(
        resource,
        UpdateAction("MedicationRequest/r", "2.5 mg twice daily", (SetFrequency(0, 2, 1, "d", "twice daily"),)),
    )
    timing = updated["dosageInstruction"][0]["timing"]
    assert "code" not in timing
    assert timing["repeat"] == {
        "boundsDuration": {"value": 30, "unit": "d", "system": UCUM, "code": "d"},
        "frequency": 2,
        "period": 1,
        "periodUnit": "d",
    }
    validate_resource(updated)


def test_set_duration_states_supply_and_bounds() -> None:
    updated = apply_update(
        _clean_set().originals["MedicationRequest/aspirin"],
        UpdateAction("MedicationRequest/aspirin", "90 days", (SetDuration(90),)),
    )
    assert updated["dispenseRequest"]["expectedSupplyDuration"]["value"] == 90
    assert updated["dosageInstruction"][0]["timing"]["repeat"]["boundsDuration"]["code"] == "d"
    validate_resource(updated)


def test_create_and_delete_actions_in_spec_order(profile: Profile) -> None:
    read = _clean_set()
    finding = Finding(
        "AT104",
        Indicator.CRITICAL,
        "x",
        "y",
        ("MedicationRequest/aspirin",),
        Suggestion(
            "fix",
            (
                UpdateAction("MedicationRequest/aspirin", "u", (SetDose(0, 81, "mg", "mg"),)),
                CreateAction("aspirin_81_daily", "c"),
                DeleteAction("MedicationRequest/clopidogrel", "d"),
            ),
        ),
    )
    actions = suggestion_actions(finding, read.order_set, read.originals, profile)
    assert [a["type"] for a in actions] == ["delete", "create", "update"]
    assert actions[0] == {"type": "delete", "description": "d", "resourceId": "MedicationRequest/clopidogrel"}
    created = actions[1]["resource"]
    assert created["medicationCodeableConcept"]["coding"][0]["code"] == "243670"
    assert created["subject"] == {"reference": "Patient/p1"}


def test_an_unknown_template_drops_the_suggestion_instead_of_sending_it(profile: Profile) -> None:
    finding = Finding("AT104", Indicator.CRITICAL, "x", "y", (), Suggestion("fix", (CreateAction("nope", "c"),)))
    read = _clean_set()
    assert suggestion_actions(finding, read.order_set, read.originals, profile) == []


def test_heparin_overdose_suggestion_carries_the_corrected_dose(profile: Profile) -> None:
    doc = orjson.loads((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes())
    heparin = next(e["resource"] for e in doc["entry"] if e["resource"]["id"] == "heparin")
    heparin["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 15000
    read = load_bytes(orjson.dumps(doc), "x", now=FIXTURE_NOW).read[0]
    order_set = read.order_set
    (hep201,) = [f for f in run(order_set, profile) if f.code == "HEP201"]
    assert hep201.indicator is Indicator.CRITICAL
    (action,) = suggestion_actions(hep201, order_set, read.originals, profile)
    assert action["type"] == "update" and action["resource"]["id"] == "heparin"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 5600


@pytest.mark.parametrize("key", ["aspirin_81_daily", "clopidogrel_75_daily_90d", "atorvastatin_80_daily"])
def test_every_regimen_template_builds_valid_fhir(profile: Profile, key: str) -> None:
    finding = Finding("X", Indicator.INFO, "x", "y", (), Suggestion("s", (CreateAction(key, "c"),)))
    read = _clean_set()
    (action,) = suggestion_actions(finding, read.order_set, read.originals, profile)
    validate_resource(action["resource"])
