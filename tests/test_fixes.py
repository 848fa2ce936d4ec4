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
    Coding,
    CreateAction,
    DeleteAction,
    Finding,
    Indicator,
    SetDose,
    SetDuration,
    SetFrequency,
    SetRoute,
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


# --- the sig text follows the new dose (issue 12 §3) ----------------------------------------------------


def _order(text: str | None = None, patient: str | None = None, **dosage: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008", "display": "Intravenous route"}]},
        "doseAndRate": [{"doseQuantity": {"value": 15000, "unit": "units", "system": UCUM, "code": "[iU]"}}],
        **dosage,
    }
    if text is not None:
        d["text"] = text
    if patient is not None:
        d["patientInstruction"] = patient
    return {
        "resourceType": "MedicationRequest",
        "id": "hep",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": "heparin"},
        "dosageInstruction": [d],
    }


def _updated(resource: dict[str, Any], *changes: Any) -> dict[str, Any]:
    before = copy.deepcopy(resource)
    out = apply_update(resource, UpdateAction("MedicationRequest/hep", "fix", changes))
    assert resource == before
    validate_resource(out)
    dosage: dict[str, Any] = out["dosageInstruction"][0]
    return dosage


TO_5600 = SetDose(0, 5600, "[iU]", "units")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the one dose it states is the old coded dose: rewritten in place, the rest kept
        ("15,000 units IV once at start of procedure", "5,600 units IV once at start of procedure"),
        ("15000 U IV once", "5,600 units IV once"),
        ("Heparin 15,000 [iU] intravenously", "Heparin 5,600 units intravenously"),
        # it states no dose: nothing to contradict, kept
        ("IV bolus at start of procedure", "IV bolus at start of procedure"),
        # cannot be rewritten safely (two quantities, words, a bare number, another dose): generated
        ("15,000 units (15 mL of 1,000 units/mL) IV once", "5,600 units IV"),
        ("fifteen thousand units IV", "5,600 units IV"),
        ("15000 IV once", "5,600 units IV"),
        ("10,000 units IV once", "5,600 units IV"),
        ("5,600 units IV once (80 units/kg)", "5,600 units IV"),
    ],
)
def test_a_new_dose_rewrites_the_sig_or_generates_one(text: str, expected: str) -> None:
    assert _updated(_order(text), TO_5600)["text"] == expected


def test_the_patient_instruction_follows_the_dose_when_it_states_one() -> None:
    d = _updated(_order("15,000 units IV once", "You will get 15,000 units before the procedure."), TO_5600)
    assert d["patientInstruction"] == "You will get 5,600 units before the procedure."
    kept = _updated(_order("15,000 units IV once", "Tell the nurse about any bleeding."), TO_5600)
    assert kept["patientInstruction"] == "Tell the nurse about any bleeding."


def test_no_sig_is_added_where_there_was_none() -> None:
    d = _updated(_order(), TO_5600)
    assert "text" not in d and "patientInstruction" not in d


def test_a_dose_range_is_rewritten_as_the_new_single_dose() -> None:
    rng = {"doseRange": {"low": {"value": 5000, "code": "[iU]"}, "high": {"value": 8000, "code": "[iU]"}}}
    d = _updated(_order("5,000-8,000 units IV once", doseAndRate=[rng]), TO_5600)
    assert d["text"] == "5,600 units IV once"


def test_a_new_dose_and_frequency_give_a_sig_from_the_coded_fields() -> None:
    oral = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}]}
    dose = [{"doseQuantity": {"value": 325, "unit": "mg", "system": UCUM, "code": "mg"}}]
    d = _updated(
        _order("325 mg by mouth twice daily", route=oral, doseAndRate=dose),
        SetDose(0, 81, "mg", "mg"),
        SetFrequency(0, 1, 1, "d", "once daily"),
    )
    assert d["text"] == "81 mg by mouth once daily"


def test_a_new_route_that_the_sig_contradicts_gives_a_generated_sig() -> None:
    ia = Coding("http://snomed.info/sct", "58100008", "Intra-arterial route")
    dose = [{"doseQuantity": {"value": 100, "unit": "mg", "system": UCUM, "code": "mg"}}]
    d = _updated(_order("100 mg IV as needed", doseAndRate=dose), SetDose(0, 100, "ug", "mcg"), SetRoute(0, ia))
    assert d["text"] == "100 mcg intra-arterially"
    same = _updated(_order("100 mg intra-arterial as needed", doseAndRate=dose), SetDose(0, 100, "ug", "mcg"))
    assert same["text"] == "100 mcg intra-arterial as needed"


def test_a_new_duration_replaces_a_sig_that_states_the_old_one() -> None:
    dose = [{"doseQuantity": {"value": 75, "unit": "mg", "system": UCUM, "code": "mg"}}]
    timing = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    d = _updated(_order("75 mg daily for 30 days", doseAndRate=dose, timing=timing), SetDuration(90))
    assert d["text"] == "75 mg IV once daily for 90 days"
    kept = _updated(_order("75 mg daily", doseAndRate=dose, timing=timing), SetDuration(90))
    assert kept["text"] == "75 mg daily"


def test_the_heparin_fixture_suggestion_says_the_new_dose_in_its_sig(profile: Profile) -> None:
    read = load_bytes((FIXTURES / "HEP201" / "fail-15000-units-70kg.json").read_bytes(), "x", now=FIXTURE_NOW).read[0]
    (hep201,) = [f for f in run(read.order_set, profile) if f.code == "HEP201"]
    (action,) = suggestion_actions(hep201, read.order_set, read.originals, profile)
    dosage = action["resource"]["dosageInstruction"][0]
    assert read.originals["MedicationRequest/hep"]["dosageInstruction"][0]["text"] == "15,000 units IV once"
    assert dosage["text"] == "5,600 units IV once"
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 5600


def test_a_new_frequency_keeps_a_sig_that_states_no_frequency() -> None:
    dose = [{"doseQuantity": {"value": 325, "unit": "mg", "system": UCUM, "code": "mg"}}]
    twice = (SetDose(0, 81, "mg", "mg"), SetFrequency(0, 1, 1, "d", "once daily"))
    assert _updated(_order("Take with food", doseAndRate=dose), *twice)["text"] == "Take with food"
    assert _updated(_order("325 mg with food", doseAndRate=dose), *twice)["text"] == "81 mg with food"
    assert _updated(_order("325 mg BID with food", doseAndRate=dose), *twice)["text"] == "81 mg IV once daily"
