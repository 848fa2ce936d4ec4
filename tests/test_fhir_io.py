"""Ingestion: every input shape becomes the same normalized model; what is unusable is said."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from linter.errors import InputError
from linter.fhir_io import load_bytes, order_set_from_hook
from linter.model import OrderSet
from linter.text.act import act_targets_in_text
from tests.conftest import FIXTURE_NOW, ROOT

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SPEC_EXAMPLES = ROOT / "knowledge" / "reference" / "cds-hooks-examples"


def _mr(rid: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": "243670", "display": "aspirin 81 MG"}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 81, "unit": "mg", "system": UCUM, "code": "mg"}}],
            }
        ],
    }
    base.update(extra)
    return base


def _bundle(*resources: dict[str, Any], btype: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": btype, "entry": [{"resource": r} for r in resources]}


def _one(doc: Any, mode: str = "strict") -> OrderSet:
    result = load_bytes(orjson.dumps(doc), "t.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    assert not result.errors, result.errors
    assert len(result.order_sets) == 1
    return result.order_sets[0]


@pytest.mark.parametrize("btype", ["collection", "transaction", "batch", "searchset", "document"])
def test_every_bundle_type_is_read(btype: str) -> None:
    doc = _bundle(_mr("a"), btype=btype)
    if btype == "document":
        doc["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}
        doc["timestamp"] = "2026-11-21T10:00:00Z"
    if btype in ("transaction", "batch"):
        doc["entry"][0]["request"] = {"method": "POST", "url": "MedicationRequest"}
    order_set = _one(doc)
    assert [m.ref for m in order_set.medications] == ["MedicationRequest/a"]
    assert order_set.medications[0].is_("aspirin")


def test_a_single_resource_is_an_order_set() -> None:
    order_set = _one(_mr("solo"))
    assert order_set.medications[0].drug.product_code == "243670"


def test_ndjson_groups_resources_by_patient_and_reports_bad_lines() -> None:
    lines = [
        orjson.dumps(_mr("a")),
        orjson.dumps(_mr("b", subject={"reference": "Patient/p2"})),
        b"{not json",
        orjson.dumps(_mr("c")),
    ]
    result = load_bytes(b"\n".join(lines), "export.ndjson", now=FIXTURE_NOW)
    assert [str(e.path) for e in result.errors] == ["line 3"]
    refs = sorted(tuple(m.ref for m in s.medications) for s in result.order_sets)
    assert refs == [("MedicationRequest/a", "MedicationRequest/c"), ("MedicationRequest/b",)]


def test_contained_medication_reference_is_identified_with_its_strength() -> None:
    mr = _mr("hep", medicationReference={"reference": "#med"})
    del mr["medicationCodeableConcept"]
    mr["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med",
            "code": {"text": "Heparin injection"},
            "ingredient": [
                {
                    "itemCodeableConcept": {"coding": [{"system": RX, "code": "5224", "display": "heparin"}]},
                    "strength": {
                        "numerator": {"value": 1000, "system": UCUM, "code": "[iU]"},
                        "denominator": {"value": 1, "system": UCUM, "code": "mL"},
                    },
                }
            ],
        }
    ]
    order = _one(_bundle(mr)).medications[0]
    assert order.is_("heparin") and order.drug.matched_by == "code"
    assert order.drug.strength is not None and order.drug.strength.per_unit == "mL"


def test_bundled_medication_reference_by_full_url() -> None:
    mr = _mr("x", medicationReference={"reference": "urn:uuid:9e0c2a35-46a1-4bd3-9b2a-0b6a4d7e61f5"})
    del mr["medicationCodeableConcept"]
    doc = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:9e0c2a35-46a1-4bd3-9b2a-0b6a4d7e61f5",
                "resource": {"resourceType": "Medication", "code": {"coding": [{"system": RX, "code": "309362"}]}},
                "request": {"method": "POST", "url": "Medication"},
            },
            {"resource": mr, "request": {"method": "POST", "url": "MedicationRequest"}},
        ],
    }
    assert _one(doc).medications[0].is_("clopidogrel")


def test_stu3_dose_shape_and_dose_and_rate_object_are_tolerated() -> None:
    stu3 = _mr("a")
    stu3["dosageInstruction"] = [{"doseQuantity": {"value": 81, "unit": "mg", "system": UCUM, "code": "mg"}}]
    obj = _mr("b")
    obj["dosageInstruction"] = [{"doseAndRate": {"doseQuantity": {"value": 75, "unit": "mg"}}}]
    for doc, value in ((stu3, 81), (obj, 75)):
        dose = _one(doc, mode="fast").medications[0].dosages[0].dose
        assert dose is not None and dose.value == value


def test_timing_code_and_dose_range_are_read() -> None:
    mr = _mr("r")
    mr["dosageInstruction"] = [
        {
            "timing": {
                "code": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BID"}]
                }
            },
            "doseAndRate": [{"doseRange": {"low": {"value": 2.5, "unit": "mg"}, "high": {"value": 5, "unit": "mg"}}}],
        }
    ]
    d = _one(mr).medications[0].dosages[0]
    assert d.timing.code == "BID"
    assert d.dose_low is not None and d.dose_high is not None and (d.dose_low.value, d.dose_high.value) == (2.5, 5)


def test_upload_roles_follow_the_catalog() -> None:
    doc = _bundle(
        _mr("draft"),
        _mr("active", status="active"),
        _mr("onhold", status="on-hold"),
        _mr("done", status="completed"),
        _mr("stopped", status="stopped"),
        {
            "resourceType": "Procedure",
            "id": "prep",
            "status": "preparation",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "anterior tibial angioplasty"},
        },
        {
            "resourceType": "Procedure",
            "id": "old",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "anterior tibial angioplasty"},
            "performedDateTime": "2020-01-01",
        },
    )
    order_set = _one(doc)
    assert {m.id for m in order_set.medications} == {"draft", "active", "onhold"}
    assert [p.id for p in order_set.procedures] == ["prep"]
    assert [p.id for p in order_set.patient.procedures] == ["old"]


def test_latest_weight_wins_and_pounds_are_converted() -> None:
    def weight(rid: str, when: str, value: float, code: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "system": UCUM, "code": code},
        }

    order_set = _one(_bundle(weight("old", "2026-01-01", 90, "kg"), weight("new", "2026-11-20", 154, "[lb_av]")))
    assert order_set.patient.weight is not None
    assert order_set.patient.weight.ref == "Observation/new"
    assert order_set.patient.weight.kg == pytest.approx(69.85, abs=0.01)


@pytest.mark.parametrize("mode", ["strict", "fast"])
def test_a_wrong_type_in_a_read_field_is_dq904_in_both_modes(mode: str) -> None:
    bad = _mr("bad")
    bad["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "81"
    order_set = _one(_bundle(bad, _mr("good")), mode=mode)
    assert [i.ref for i in order_set.invalid] == ["MedicationRequest/bad"]
    assert "doseQuantity" in order_set.invalid[0].path
    assert [m.id for m in order_set.medications] == ["good"]


def test_not_json_and_not_fhir_are_input_errors() -> None:
    assert load_bytes(b"{nope", "x.json").errors[0].message.startswith("not JSON")
    err = load_bytes(b'{"hello": 1}', "x.json").errors[0]
    assert "resourceType" in err.message and err.path == "$.resourceType"
    assert load_bytes(b"[1, 2]", "x.json").errors[0].path == "$"


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("Target ACT 250-300 seconds", 250, 300),
        ("ACT > 250", 250, None),
        ("target ACT 250 to 300 s", 250, 300),
        ("keep ACT < 300 s", None, 300),
        ("ACT 200–300", 200, 300),
    ],
)
def test_act_targets_in_text(text: str, low: float | None, high: float | None) -> None:
    (target,) = act_targets_in_text(text, "MedicationRequest/h")
    assert (target.low_s, target.high_s) == (low, high)


def _hook(hook: str, **context: Any) -> dict[str, Any]:
    return {
        "hook": hook,
        "hookInstance": "2f4d4a3e-6d3f-4c4e-9a0e-2b8a7f6b1c11",
        "context": {"userId": "Practitioner/1", "patientId": "p1", **context},
    }


def test_order_select_reviews_only_the_selections() -> None:
    request = _hook(
        "order-select",
        selections=["MedicationRequest/a"],
        draftOrders={"resourceType": "Bundle", "entry": [{"resource": _mr("a")}, {"resource": _mr("b")}]},
    )
    order_set = order_set_from_hook(request, now=FIXTURE_NOW).order_set
    assert [m.id for m in order_set.medications] == ["a"]
    assert [m.id for m in order_set.patient.active_medications] == ["b"]  # the other draft is context


def test_hook_without_draft_orders_is_an_input_error() -> None:
    with pytest.raises(InputError, match="draftOrders"):
        order_set_from_hook(_hook("order-sign"))


def test_prefetch_null_is_no_data_and_operation_outcome_is_a_gap() -> None:
    request = _hook("order-sign", draftOrders=_bundle(_mr("a")))
    request["prefetch"] = {
        "weight": None,
        "conditions": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "timeout", "diagnostics": "search timed out"}],
        },
    }
    order_set = order_set_from_hook(request, now=FIXTURE_NOW).order_set
    assert [(g.key, "search timed out" in g.reason) for g in order_set.patient.gaps] == [("conditions", True)]


@pytest.mark.skipif(not SPEC_EXAMPLES.exists(), reason="shared/reference not beside the checkout")
@pytest.mark.parametrize("name", ["order-sign.md-block00-Example-R4", "order-select.md-block00-Example-R4"])
@pytest.mark.parametrize("repo", ["HL7__cds-hooks-library__", "cds-hooks__docs__"])
def test_spec_r4_examples_are_read(repo: str, name: str) -> None:
    example = json.loads((SPEC_EXAMPLES / f"{repo}{name}.json").read_text())
    hook = "order-sign" if "order-sign" in name else "order-select"
    request = {"hook": hook, "hookInstance": "x", **example}
    order_set = order_set_from_hook(request, now=FIXTURE_NOW).order_set
    meds = order_set.medications + order_set.patient.active_medications
    assert any(m.id == "smart-MedicationRequest-103" for m in meds)
    assert all(isinstance(m.dosages, tuple) for m in meds)


def test_spec_examples_dir_is_present_in_ci() -> None:
    import os

    if os.environ.get("CI"):
        assert SPEC_EXAMPLES.exists()


def test_order_select_selection_not_in_draft_orders_is_an_input_error() -> None:
    request = _hook(
        "order-select",
        selections=["MedicationRequest/nope"],
        draftOrders={"resourceType": "Bundle", "entry": [{"resource": _mr("a")}]},
    )
    with pytest.raises(InputError, match="MedicationRequest/nope"):
        order_set_from_hook(request, now=FIXTURE_NOW)


def test_bundle_entry_of_the_wrong_type_names_its_path() -> None:
    err = load_bytes(b'{"resourceType": "Bundle", "type": "collection", "entry": {}}', "x.json").errors[0]
    assert (err.message, err.path, err.source) == ("Bundle.entry must be an array", "Bundle.entry", "x.json")
