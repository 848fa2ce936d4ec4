"""HEP201-HEP206 as tables of valid and invalid cases (ESLint style), run through the whole engine so that
what else fires (DQ901/DQ902, the other HEP rules) is asserted too. Bundles are built in memory; the
fixture files under fixtures/HEP2*/ are checked by tests/test_fixtures.py."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.model import Concept, DrugIdentity, Finding, MedicationOrder, OrderSet
from linter.profiles import Profile
from linter.rules import RULES_BY_CODE
from linter.rules._common import drugs_in_class
from linter.rules.heparin._act import targets_in_text
from linter.rules.heparin._bolus import LMWH_CLASS, UFH_CLASS, is_line_flush
from tests.conftest import FIXTURE_NOW
from tests.rules.builders import q

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ROUTES = {
    "iv": ("47625008", "Intravenous route"),
    "ia": ("58100008", "Intra-arterial route"),
    "sc": ("34206005", "Subcutaneous route"),
}
HEP = "MedicationRequest/hep"

# ---------------------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------------------


def heparin(
    dose: dict[str, Any] | None = None,
    *,
    route: str | None = "iv",
    text: str = "heparin bolus once",
    product: tuple[str, str] = ("1361226", "heparin sodium, porcine 1000 UNT/ML Injectable Solution"),
    timing: dict[str, Any] | None = None,
    rate: dict[str, Any] | None = None,
    note: str | None = None,
    mid: str = "hep",
    dose_range: tuple[dict[str, Any], dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    d: dict[str, Any] = {"text": text}
    if route:
        code, display = ROUTES[route]
        d["route"] = {"coding": [{"system": SCT, "code": code, "display": display}]}
    if timing:
        d["timing"] = timing
    dar: dict[str, Any] = {}
    if dose is not None:
        dar["doseQuantity"] = dose
    if dose_range is not None:
        dar["doseRange"] = {"low": dose_range[0], "high": dose_range[1]}
    if rate is not None:
        dar["rateQuantity"] = rate
    if dar:
        d["doseAndRate"] = [dar]
    d.update(extra or {})
    r: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": product[0], "display": product[1]}]},
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [d],
    }
    if note:
        r["note"] = [{"text": note}]
    return r


def weight(value: float, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "weight",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-11-20T08:00:00Z",
        "valueQuantity": q(value, code),
    }


def condition(
    code: str | None,
    *,
    text: str | None = None,
    status: str = "active",
    verification: str | None = None,
    cid: str = "hit",
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": ICD10CM, "code": code}]} if code else {"text": text},
        "subject": {"reference": "Patient/p1"},
    }
    if verification:
        r["verificationStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        }
    return r


def angioplasty(note: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "pta",
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://www.cms.gov/Medicare/Coding/ICD10",
                    "code": "047P3ZZ",
                    "display": "Dilation of Right Anterior Tibial Artery, Percutaneous Approach",
                }
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2026-11-22",
    }
    if note:
        r["note"] = [{"text": note}]
    return r


def act_goal(low: float | None, high: float | None, unit: str = "s") -> dict[str, Any]:
    rng: dict[str, Any] = {}
    if low is not None:
        rng["low"] = q(low, unit)
    if high is not None:
        rng["high"] = q(high, unit)
    return {
        "resourceType": "Goal",
        "id": "act",
        "lifecycleStatus": "active",
        "description": {"text": "Procedural anticoagulation"},
        "subject": {"reference": "Patient/p1"},
        "target": [{"measure": {"coding": [{"system": LOINC, "code": "3184-9"}]}, "detailRange": rng}],
    }


def order_set(*resources: dict[str, Any], context: str | None = None) -> OrderSet:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r}
            for r in ({"resourceType": "Patient", "id": "p1"}, *resources)
        ],
    }
    result = load_bytes(json.dumps(bundle).encode(), "test", mode="fast", now=FIXTURE_NOW, context=context)  # type: ignore[arg-type]
    assert not result.errors, result.errors
    (oset,) = result.order_sets
    return oset


def lint(profile: Profile, *resources: dict[str, Any], context: str | None = None) -> list[Finding]:
    return run(order_set(*resources, context=context), profile)


def codes(findings: Iterable[Finding]) -> set[tuple[str, str]]:
    return {(f.code, f.indicator.value) for f in findings}


def one(findings: list[Finding], code: str) -> Finding:
    (found,) = [f for f in findings if f.code == code]
    return found


Q8H = {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}}
W70 = weight(70, "kg")

# ---------------------------------------------------------------------------------------------------------
# HEP201 heparin-bolus-dose
# ---------------------------------------------------------------------------------------------------------

HEP201_CASES = [
    # (id, dose, weight, expected findings)
    ("80-per-kg-no-weight", q(80, "[iU]/kg"), None, set()),
    ("70-per-kg", q(70, "[iU]/kg"), None, set()),
    ("69-per-kg", q(69, "[iU]/kg"), None, {("HEP201", "warning")}),
    ("100-per-kg", q(100, "[iU]/kg"), None, set()),
    ("101-per-kg", q(101, "[iU]/kg"), None, {("HEP201", "warning")}),
    ("200-per-kg", q(200, "[iU]/kg"), None, {("HEP201", "warning")}),
    ("201-per-kg", q(201, "[iU]/kg"), None, {("HEP201", "critical")}),
    ("IU-per-kg", q(80, "[IU]/kg"), None, set()),
    ("U-per-kg", q(80, "U/kg"), None, set()),
    ("units-per-kg-text", {"value": 80, "unit": "units/kg"}, None, set()),
    ("usp-per-kg", q(80, "[USP'U]/kg"), None, set()),
    ("15000-units-70kg", q(15000, "[iU]"), W70, {("HEP201", "critical")}),
    ("5600-iU-70kg", q(5600, "[iU]"), W70, set()),
    ("5600-IU-70kg", q(5600, "[IU]"), W70, set()),
    ("5600-USP-70kg", q(5600, "[USP'U]"), W70, set()),
    ("5600-U-70kg", q(5600, "U"), W70, set()),
    ("5600-units-70kg", {"value": 5600, "unit": "units"}, W70, set()),
    ("5600-curly-70kg", q(5600, "{units}"), W70, set()),
    ("7000-70kg-is-100", q(7000, "[iU]"), W70, set()),
    ("7070-70kg-is-101", q(7070, "[iU]"), W70, {("HEP201", "warning")}),
    ("4900-70kg-is-70", q(4900, "[iU]"), W70, set()),
    ("4830-70kg-is-69", q(4830, "[iU]"), W70, {("HEP201", "warning")}),
    ("14000-70kg-is-200", q(14000, "[iU]"), W70, {("HEP201", "warning")}),
    ("14070-70kg-is-201", q(14070, "[iU]"), W70, {("HEP201", "critical")}),
    ("5600-weight-in-lb", q(5600, "[iU]"), weight(154, "[lb_av]"), set()),
    ("15000-weight-in-g", q(15000, "[iU]"), weight(70000, "g"), {("HEP201", "critical")}),
    ("5.6-mL-coded-1000-per-mL", q(5.6, "mL"), W70, set()),
    ("15-mL-coded-1000-per-mL", q(15, "mL"), W70, {("HEP201", "critical")}),
    ("unknown-unit", q(5000, "puffs"), W70, {("DQ902", "warning")}),
]


@pytest.mark.parametrize(
    ("dose", "weight_obs", "expected"), [c[1:] for c in HEP201_CASES], ids=[c[0] for c in HEP201_CASES]
)
def test_hep201_table(
    profile: Profile, dose: dict[str, Any], weight_obs: dict[str, Any] | None, expected: set[tuple[str, str]]
) -> None:
    resources = [heparin(dose)] + ([weight_obs] if weight_obs else [])
    assert codes(lint(profile, *resources)) == expected


def test_hep201_critical_states_numbers_and_suggests_80_per_kg(profile: Profile) -> None:
    f = one(lint(profile, heparin(q(15000, "[iU]")), W70), "HEP201")
    assert f.summary == "Heparin 15,000 units IV = 214 units/kg at 70 kg; source range 70-100 units/kg"
    assert "214 units/kg" in f.detail and "Observation/weight" in f.detail
    assert "Q&A: below-knee angioplasty (2025-03-24), line 24" in f.detail
    assert f.suggestion is not None and "5,600 units" in f.suggestion.label


def test_hep201_sc_prophylaxis_and_infusion_are_not_boluses(profile: Profile) -> None:
    assert lint(profile, heparin(q(5000, "[iU]"), route="sc", timing=Q8H), W70) == []
    infusion = heparin(None, rate=q(18, "[iU]/kg/h"), text="18 units/kg/h IV infusion")
    assert lint(profile, infusion, W70) == []


TIMING_CASES = [
    ("no-timing", None, {("HEP201", "critical")}),
    ("code-text-once", {"code": {"text": "once"}}, {("HEP201", "critical")}),
    ("code-ONCE", {"code": {"coding": [{"code": "ONCE"}]}}, {("HEP201", "critical")}),
    ("code-STAT", {"code": {"coding": [{"code": "STAT"}], "text": "STAT"}}, {("HEP201", "critical")}),
    ("count-1", {"repeat": {"count": 1, "frequency": 1, "period": 1, "periodUnit": "d"}}, {("HEP201", "critical")}),
    ("event-only", {"event": ["2026-11-22T08:00:00Z"]}, {("HEP201", "critical")}),
    ("unknown-code-is-dq901", {"code": {"coding": [{"code": "PERIOP"}]}}, {("DQ901", "warning")}),
    ("q8h-is-not-a-bolus", {"code": {"coding": [{"code": "Q8H"}]}}, set()),
]


@pytest.mark.parametrize(("timing", "expected"), [c[1:] for c in TIMING_CASES], ids=[c[0] for c in TIMING_CASES])
def test_hep201_what_counts_as_one_administration(
    profile: Profile, timing: dict[str, Any] | None, expected: set[tuple[str, str]]
) -> None:
    assert codes(lint(profile, heparin(q(15000, "[iU]"), timing=timing), W70)) == expected


def test_hep201_free_text_dose_is_dq901_not_a_pass(profile: Profile) -> None:
    f = one(lint(profile, heparin(None, text="5000 units IV now"), W70), "DQ901")
    assert "HEP201" in f.detail


def test_hep201_mixed_per_kg_range_is_dq902_not_a_silent_pass(profile: Profile) -> None:
    mixed = heparin(None, dose_range=(q(5000, "[iU]"), q(100, "[iU]/kg")))
    assert ("DQ902", "warning") in codes(lint(profile, mixed, W70))


# ---------------------------------------------------------------------------------------------------------
# HEP202 heparin-bolus-no-weight
# ---------------------------------------------------------------------------------------------------------

HEP202_CASES = [
    ("5000-units-no-weight", [heparin(q(5000, "[iU]"))], {("HEP202", "warning")}),
    ("5-mL-coded-no-weight", [heparin(q(5, "mL"))], {("HEP202", "warning")}),
    ("80-per-kg-no-weight", [heparin(q(80, "[iU]/kg"))], set()),
    ("5000-units-with-weight", [heparin(q(5000, "[iU]")), W70], set()),
    ("sc-prophylaxis-no-weight", [heparin(q(5000, "[iU]"), route="sc", timing=Q8H)], set()),
    ("mg-no-weight-is-hep205-only", [heparin(q(50, "mg"))], {("HEP205", "warning")}),
    ("unusable-weight", [heparin(q(5000, "[iU]")), weight(170, "cm")], {("HEP202", "warning")}),
    ("free-text-dose-no-weight", [heparin(None, text="5000 units IV")], {("DQ901", "warning")}),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in HEP202_CASES], ids=[c[0] for c in HEP202_CASES])
def test_hep202_table(profile: Profile, resources: list[dict[str, Any]], expected: set[tuple[str, str]]) -> None:
    assert codes(lint(profile, *resources)) == expected


def test_hep202_names_the_unusable_weight(profile: Profile) -> None:
    f = one(lint(profile, heparin(q(5000, "[iU]")), weight(170, "cm")), "HEP202")
    assert "could not be used" in f.detail and "Observation/weight" in f.detail
    assert f.values["weight_issue"]
    assert "could not be verified" in f.summary


def test_hep202_and_hep201_share_one_dq901(profile: Profile) -> None:
    f = one(lint(profile, heparin(None, text="5000 units IV")), "DQ901")
    assert "HEP201" in f.detail and "HEP202" in f.detail


# ---------------------------------------------------------------------------------------------------------
# HEP203 act-target-missing and HEP204 act-target-out-of-range (scope btk)
# ---------------------------------------------------------------------------------------------------------

BOLUS = heparin(q(80, "[iU]/kg"), text="80 units/kg IV once at start of procedure")


def hep_act(profile: Profile, *resources: dict[str, Any]) -> set[tuple[str, str]]:
    return {c for c in codes(lint(profile, *resources)) if c[0] in ("HEP203", "HEP204")}


HEP203_CASES = [
    ("no-target", [BOLUS, angioplasty()], {("HEP203", "warning")}),
    ("note-on-heparin", [heparin(q(80, "[iU]/kg"), note="Target ACT 250-300 seconds"), angioplasty()], set()),
    ("service-request-note", [BOLUS, angioplasty("ACT 250-300 s")], set()),
    ("goal", [BOLUS, angioplasty(), act_goal(250, 300)], set()),
    (
        "additional-instruction",
        [
            heparin(q(80, "[iU]/kg"), extra={"additionalInstruction": [{"text": "target ACT 250 to 300 seconds"}]}),
            angioplasty(),
        ],
        set(),
    ),
    (
        "patient-instruction",
        [heparin(q(80, "[iU]/kg"), extra={"patientInstruction": "ACT > 250"}), angioplasty()],
        set(),
    ),
    ("dosage-text", [heparin(q(80, "[iU]/kg"), text="80 units/kg IV, then ACT 250-300 s"), angioplasty()], set()),
    (
        "long-name",
        [heparin(q(80, "[iU]/kg"), note="to achieve an activated clotting time of 250-300 seconds"), angioplasty()],
        set(),
    ),
    ("between-and", [heparin(q(80, "[iU]/kg"), note="keep ACT between 250 and 300 seconds"), angioplasty()], set()),
    ("no-btk-context-vte-bolus", [BOLUS], set()),
    ("sc-prophylaxis-in-btk", [heparin(q(5000, "[iU]"), route="sc", timing=Q8H), angioplasty()], set()),
    ("infusion-in-btk", [heparin(None, rate=q(18, "[iU]/kg/h")), angioplasty()], set()),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in HEP203_CASES], ids=[c[0] for c in HEP203_CASES])
def test_hep203_table(profile: Profile, resources: list[dict[str, Any]], expected: set[tuple[str, str]]) -> None:
    assert hep_act(profile, *resources) == expected


def test_hep203_forced_btk_context_for_a_template(profile: Profile) -> None:
    assert {c for c in codes(lint(profile, BOLUS, context="btk")) if c[0] == "HEP203"} == {("HEP203", "warning")}


HEP204_TEXTS = [
    ("ACT 250-300 s", False),
    ("Target ACT 250-300 seconds", False),
    ("ACT 260-290", False),
    ("ACT 240-300", True),
    ("ACT 249-300", True),
    ("ACT 250-301", True),
    ("ACT 250-320", True),
    ("ACT 200-300", True),
    ("ACT > 250", False),
    ("ACT >= 250 s", False),
    ("ACT > 200", True),
    ("ACT < 300", False),
    ("ACT < 350", True),
    ("target ACT 250 to 300 seconds", False),
    ("activated clotting time 200-300 seconds", True),
    ("ACT between 200 and 300 seconds", True),
]


@pytest.mark.parametrize(("text", "fires"), HEP204_TEXTS, ids=[t for t, _ in HEP204_TEXTS])
def test_hep204_text_boundaries(profile: Profile, text: str, fires: bool) -> None:
    found = hep_act(profile, heparin(q(80, "[iU]/kg"), note=text), angioplasty())
    assert found == ({("HEP204", "warning")} if fires else set())


HEP204_GOALS = [
    ((250, 300), False),
    ((240, 300), True),
    ((250, 320), True),
    ((250, None), False),
    ((200, None), True),
    ((None, 300), False),
]


@pytest.mark.parametrize(("bounds", "fires"), HEP204_GOALS, ids=[str(b) for b, _ in HEP204_GOALS])
def test_hep204_goal_boundaries(profile: Profile, bounds: tuple[float | None, float | None], fires: bool) -> None:
    found = hep_act(profile, BOLUS, angioplasty(), act_goal(*bounds))
    assert found == ({("HEP204", "warning")} if fires else set())


def test_hep204_goal_in_minutes_is_converted(profile: Profile) -> None:
    # 4.5-5 min = 270-300 s passes; 4-5 min = 240-300 s fires
    assert hep_act(profile, BOLUS, angioplasty(), act_goal(4.5, 5, unit="min")) == set()
    assert hep_act(profile, BOLUS, angioplasty(), act_goal(4, 5, unit="min")) == {("HEP204", "warning")}


def test_hep204_unreadable_goal_is_reported(profile: Profile) -> None:
    found = lint(profile, BOLUS, angioplasty(), act_goal(250, 300, unit="mg"))
    f = one(found, "HEP204")
    assert "could not be read" in f.summary


def test_hep204_one_finding_per_place_with_every_bad_target(profile: Profile) -> None:
    found = lint(profile, heparin(q(80, "[iU]/kg"), note="ACT 200-300; recheck, keep ACT > 240"), angioplasty())
    f = one(found, "HEP204")
    assert f.primary_ref == HEP and "200 s" in f.detail and "240 s" in f.detail


def test_hep204_service_request_target_is_reported_on_the_service_request(profile: Profile) -> None:
    f = one(lint(profile, BOLUS, angioplasty("ACT 300-350 s")), "HEP204")
    assert f.refs == ("ServiceRequest/pta", HEP)


def test_hep204_silent_when_the_anticoagulant_is_bivalirudin(profile: Profile) -> None:
    biv = {
        "resourceType": "MedicationRequest",
        "id": "biv",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": "308769"}]},
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [{"text": "0.75 mg/kg IV bolus", "doseAndRate": [{"doseQuantity": q(0.75, "mg/kg")}]}],
    }
    assert hep_act(profile, biv, angioplasty("ACT 300-350 s")) == set()
    # heparin also ordered: the heparin range applies
    assert hep_act(profile, biv, BOLUS, angioplasty("ACT 300-350 s")) == {("HEP204", "warning")}


def test_hep204_outside_btk_context_is_silent(profile: Profile) -> None:
    assert hep_act(profile, heparin(q(80, "[iU]/kg"), note="ACT 180-220")) == set()


def test_act_text_normalization() -> None:
    (t,) = targets_in_text("to achieve an activated clotting time of 250-300 seconds", "x")
    assert (t.low_s, t.high_s) == (250, 300)
    (t,) = targets_in_text("Activated Clotting Time (ACT) between 240 s and 300 s", "x")
    assert (t.low_s, t.high_s) == (240, 300)
    assert targets_in_text("recheck ACT every 30 minutes", "x") == []


# ---------------------------------------------------------------------------------------------------------
# HEP205 heparin-dose-not-in-units
# ---------------------------------------------------------------------------------------------------------

INGREDIENT_ONLY = ("5224", "heparin")

HEP205_CASES = [
    ("5-mL-ingredient-only", [heparin(q(5, "mL"), product=INGREDIENT_ONLY), W70], {("HEP205", "warning")}),
    (
        "5-ml-lowercase-text-unit",
        [heparin({"value": 5, "unit": "ml"}, product=INGREDIENT_ONLY), W70],
        {("HEP205", "warning")},
    ),
    ("50-mg-coded-1000-per-mL", [heparin(q(50, "mg")), W70], {("HEP205", "warning")}),
    ("1-mg-per-kg", [heparin(q(1, "mg/kg"))], {("HEP205", "warning")}),
    ("0.1-mL-per-kg", [heparin(q(0.1, "mL/kg"), product=INGREDIENT_ONLY)], {("HEP205", "warning")}),
    ("sc-in-mL", [heparin(q(0.5, "mL"), route="sc", timing=Q8H, product=INGREDIENT_ONLY)], {("HEP205", "warning")}),
    ("mL-coded-concentration-converted", [heparin(q(5.6, "mL")), W70], set()),
    ("units", [heparin(q(5600, "[iU]")), W70], set()),
    ("vial-count-is-dq902", [heparin({"value": 1, "unit": "vial"}), W70], {("DQ902", "warning")}),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in HEP205_CASES], ids=[c[0] for c in HEP205_CASES])
def test_hep205_table(profile: Profile, resources: list[dict[str, Any]], expected: set[tuple[str, str]]) -> None:
    assert codes(lint(profile, *resources)) == expected


def test_hep205_contained_medication_with_ratio_strength_converts(profile: Profile) -> None:
    mr = heparin(q(5.6, "mL"))
    del mr["medicationCodeableConcept"]
    mr["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m",
            "code": {"coding": [{"system": RX, "code": "5224"}]},
            "ingredient": [
                {
                    "itemCodeableConcept": {"coding": [{"system": RX, "code": "5224"}]},
                    "strength": {"numerator": q(1000, "[USP'U]"), "denominator": q(1, "mL")},
                }
            ],
        }
    ]
    mr["medicationReference"] = {"reference": "#m"}
    assert codes(lint(profile, mr, W70)) == set()
    mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = q(15, "mL")
    assert codes(lint(profile, mr, W70)) == {("HEP201", "critical")}


# ---------------------------------------------------------------------------------------------------------
# HEP206 heparin-with-hit
# ---------------------------------------------------------------------------------------------------------

ENOXAPARIN = {
    "resourceType": "MedicationRequest",
    "id": "enox",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": RX, "code": "854235"}]},
    "subject": {"reference": "Patient/p1"},
    "dosageInstruction": [
        {
            "text": "40 mg SC daily",
            "doseAndRate": [{"doseQuantity": q(40, "mg")}],
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
        }
    ],
}

HEP206_CASES = [
    ("D75.822", [BOLUS, condition("D75.822")], {("HEP206", "critical")}),
    ("D75.829-no-dot", [BOLUS, condition("D75829")], {("HEP206", "critical")}),
    (
        "sc-prophylaxis",
        [heparin(q(5000, "[iU]"), route="sc", timing=Q8H), condition("D75.821")],
        {("HEP206", "critical")},
    ),
    (
        "flush-infusion",
        [heparin(None, rate=q(3, "mL/h"), text="heparin 2 units/mL flush"), condition("D75.828")],
        {("HEP206", "critical")},
    ),
    ("enoxaparin", [ENOXAPARIN, condition("D75.822")], {("HEP206", "critical")}),
    (
        "text-only",
        [BOLUS, condition(None, text="history of heparin-induced thrombocytopenia")],
        {("HEP206", "critical")},
    ),
    ("refuted", [BOLUS, condition("D75.822", verification="refuted")], set()),
    ("resolved-history-counts", [BOLUS, condition("D75.822", status="resolved")], {("HEP206", "critical")}),
    ("no-hit", [BOLUS, condition("I48.91", cid="af")], set()),
    ("thrombocytopenia-text", [BOLUS, condition(None, text="Thrombocytopenia, chronic")], set()),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in HEP206_CASES], ids=[c[0] for c in HEP206_CASES])
def test_hep206_table(profile: Profile, resources: list[dict[str, Any]], expected: set[tuple[str, str]]) -> None:
    assert {c for c in codes(lint(profile, *resources)) if c[0] == "HEP206"} == expected


def test_hep206_names_the_condition_and_its_confidence(profile: Profile) -> None:
    f = one(lint(profile, BOLUS, condition("D75.822")), "HEP206")
    assert f.refs == (HEP, "Condition/hit") and "D75.822" in f.detail and f.confidence == "definite"
    g = one(lint(profile, BOLUS, condition(None, text="HIT type II")), "HEP206")
    assert g.confidence == "inferred" and "by its text" in g.detail


def test_hep206_history_is_named_as_history(profile: Profile) -> None:
    f = one(lint(profile, BOLUS, condition("D75.822", status="resolved")), "HEP206")
    assert "resolved" in f.summary and "clinical status resolved" in f.detail


def test_hep206_lmwh_says_why(profile: Profile) -> None:
    f = one(lint(profile, ENOXAPARIN, condition("D75.822")), "HEP206")
    assert "cross-react" in f.detail and f.values["lmwh"] is True


# ---------------------------------------------------------------------------------------------------------
# the family as a whole
# ---------------------------------------------------------------------------------------------------------


def test_issue_example_15000_units_no_act_target(profile: Profile) -> None:
    """Issue 2 "Done when": heparin 15,000 units IV at 70 kg, no ACT target, anterior tibial angioplasty."""
    found = lint(profile, heparin(q(15000, "[iU]")), W70, angioplasty())
    assert {c for c in codes(found) if c[0].startswith("HEP")} == {("HEP201", "critical"), ("HEP203", "warning")}
    assert "214 units/kg" in one(found, "HEP201").detail


def test_family_classes_match_terminology() -> None:
    assert "heparin" in drugs_in_class(UFH_CLASS)
    assert {"enoxaparin", "dalteparin"} <= drugs_in_class(LMWH_CLASS)
    assert RULES_BY_CODE["HEP206"].META.drugs == drugs_in_class(UFH_CLASS) | drugs_in_class(LMWH_CLASS)


@pytest.mark.parametrize("code", ["HEP201", "HEP202", "HEP203", "HEP204", "HEP205", "HEP206"])
def test_summaries_fit_a_card(profile: Profile, code: str) -> None:
    bundles = {
        "HEP201": [heparin(q(15000, "[iU]")), W70],
        "HEP202": [heparin(q(5000, "[iU]"))],
        "HEP203": [BOLUS, angioplasty()],
        "HEP204": [heparin(q(80, "[iU]/kg"), note="ACT 200-350"), angioplasty()],
        "HEP205": [heparin(q(5, "mL"), product=INGREDIENT_ONLY)],
        "HEP206": [BOLUS, condition("D75.822")],
    }
    f = one(lint(profile, *bundles[code]), code)
    assert len(f.summary) < 140
    assert "**Source**" in f.detail


@pytest.mark.parametrize(
    ("text", "flush"),
    [
        ("HEP-LOCK 10 units/mL", True),
        ("Heparin Lock Flush", True),
        ("flushing the line", True),
        ("fluſh the line", True),  # a long s is an s to the case-insensitive pattern, and to casefold
        ("catheter LOCK", True),
        ("bolus before angioplasty, target ACT 250-300 s", False),
        ("flushed", False),
        ("locked", False),
    ],
)
def test_line_flush_words_in_any_case(text: str, flush: bool) -> None:
    order = MedicationOrder(
        "MedicationRequest/h",
        "MedicationRequest",
        "h",
        "draft",
        "order",
        Concept((), "heparin"),
        DrugIdentity(),
        notes=(text,),
    )
    assert is_line_flush(order) is flush
