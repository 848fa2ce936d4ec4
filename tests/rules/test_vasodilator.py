"""VD301-VD302 as tables of valid and invalid cases (ESLint style), run through the whole engine so that
what else fires (DQ901/DQ902/DQ903) is asserted too. The fixture files under fixtures/VD3*/ are checked by
tests/test_fixtures.py."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.model import Finding, SetDose, SetRoute, UpdateAction
from linter.profiles import Profile
from linter.rules import RULES_BY_CODE
from linter.rules._common import drugs_in_class
from tests.conftest import FIXTURE_NOW
from tests.rules.builders import q

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ROUTES = {
    "ia": ("58100008", "Intra-arterial route"),
    "iv": ("47625008", "Intravenous route"),
    "sl": ("37839007", "Sublingual route"),
    "po": ("26643006", "Oral route"),
}
NTG_1MG_ML = ("245276", "nitroglycerin 1 MG/ML Injectable Solution")
NTG_IN = ("4917", "nitroglycerin")
NTG = "MedicationRequest/ntg"


def med(
    mid: str,
    product: tuple[str, str] | str,
    dose: dict[str, Any] | None = None,
    *,
    route: str | None = None,
    text: str | None = None,
    rate: dict[str, Any] | None = None,
    status: str = "draft",
    rtype: str = "MedicationRequest",
    timing: dict[str, Any] | None = None,
    dose_range: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if text:
        d["text"] = text
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
    concept = (
        {"text": product}
        if isinstance(product, str)
        else {"coding": [{"system": RX, "code": product[0], "display": product[1]}]}
    )
    r: dict[str, Any] = {"resourceType": rtype, "id": mid, "status": status}
    if rtype == "MedicationRequest":
        r["intent"] = "order"
    r["medicationCodeableConcept"] = concept
    r["subject"] = {"reference": "Patient/p1"}
    r["dosageInstruction" if rtype == "MedicationRequest" else "dosage"] = [d]
    return r


def ia(
    dose: dict[str, Any] | None,
    text: str = "intra-arterially as needed for vasospasm",
    *,
    route: str | None = "ia",
    product: tuple[str, str] = NTG_1MG_ML,
    **kw: Any,
) -> dict[str, Any]:
    return med("ntg", product, dose, route=route, text=text, **kw)


def lint(profile: Profile, *resources: dict[str, Any]) -> list[Finding]:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r}
            for r in ({"resourceType": "Patient", "id": "p1"}, *resources)
        ],
    }
    result = load_bytes(json.dumps(bundle).encode(), "test", mode="fast", now=FIXTURE_NOW)
    assert not result.errors, result.errors
    (oset,) = result.order_sets
    return run(oset, profile)


def codes(findings: Iterable[Finding]) -> set[tuple[str, str]]:
    return {(f.code, f.indicator.value) for f in findings}


def one(findings: list[Finding], code: str) -> Finding:
    (found,) = [f for f in findings if f.code == code]
    return found


DAILY = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}

# ---------------------------------------------------------------------------------------------------------
# VD301 nitroglycerin-ia-dose
# ---------------------------------------------------------------------------------------------------------

VD301_CASES = [
    # (id, order, expected findings)
    ("0.1-mg-is-100-mcg", ia(q(0.1, "mg")), set()),
    ("100-mcg", ia(q(100, "ug", "mcg")), set()),
    ("100-mcg-text-unit", ia({"value": 100, "unit": "mcg"}), set()),
    ("200-mcg", ia(q(200, "ug")), set()),
    ("0.2-mg", ia(q(0.2, "mg")), set()),
    ("99-mcg", ia(q(99, "ug")), {("VD301", "warning")}),
    ("201-mcg", ia(q(201, "ug")), {("VD301", "warning")}),
    ("250-mcg", ia(q(250, "ug")), {("VD301", "warning")}),
    ("999-mcg", ia(q(999, "ug")), {("VD301", "warning")}),
    ("1000-mcg", ia(q(1000, "ug")), {("VD301", "critical")}),
    ("1-mg", ia(q(1, "mg")), {("VD301", "critical")}),
    ("100-mg", ia(q(100, "mg")), {("VD301", "critical")}),
    ("200-mg", ia(q(200, "mg")), {("VD301", "critical")}),
    ("0.1-g", ia(q(0.1, "g")), {("VD301", "critical")}),
    ("0.1-mL-of-1-mg-per-mL", ia(q(0.1, "mL")), set()),
    ("0.3-mL-of-1-mg-per-mL", ia(q(0.3, "mL")), {("VD301", "warning")}),
    ("range-100-200", ia(None, dose_range=(q(100, "ug"), q(200, "ug"))), set()),
    ("range-100-300", ia(None, dose_range=(q(100, "ug"), q(300, "ug"))), {("VD301", "warning")}),
    ("range-50-200", ia(None, dose_range=(q(50, "ug"), q(200, "ug"))), {("VD301", "warning")}),
    (
        "route-by-text-only",
        ia(q(100, "mg"), "100 mg intra-arterial bolus", route=None, product=NTG_IN),
        {("VD301", "critical")},
    ),
    ("route-coded-iv-text-says-ia", ia(q(100, "mg"), "100 mg intra-arterially", route="iv"), {("VD301", "critical")}),
    ("no-route-injectable-assumed-ia", ia(q(100, "mg"), "100 mg for spasm", route=None), {("VD301", "critical")}),
    ("no-route-ingredient-only-silent", ia(q(100, "mg"), "100 mg for spasm", route=None, product=NTG_IN), set()),
    ("sublingual-0.4-mg", med("ntg", NTG_IN, q(0.4, "mg"), route="sl", text="0.4 mg SL q5min prn chest pain"), set()),
    ("sublingual-by-text", med("ntg", NTG_IN, q(0.4, "mg"), text="0.4 mg sublingually prn"), set()),
    (
        "transdermal-patch",
        med("ntg", NTG_IN, q(1, "{patch}"), text="0.4 mg/hr transdermal patch daily", timing=DAILY),
        set(),
    ),
    ("iv-infusion-rate", med("ntg", NTG_IN, None, route="iv", rate=q(10, "ug/min"), text="10 mcg/min IV"), set()),
    ("ia-rate-only", ia(None, rate=q(10, "ug/min")), set()),
    ("iv-bolus-is-not-ia", med("ntg", NTG_1MG_ML, q(100, "ug"), route="iv", text="100 mcg IV"), set()),
    ("free-text-ia-is-dq901", ia(None, "give 100 mcg intra-arterially"), {("DQ901", "warning")}),
    ("unknown-unit-is-dq902", ia(q(2, "puffs")), {("DQ902", "warning")}),
    ("mL-without-strength-is-dq902", ia(q(0.1, "mL"), route="ia", product=NTG_IN), {("DQ902", "warning")}),
]


@pytest.mark.parametrize(("order", "expected"), [c[1:] for c in VD301_CASES], ids=[c[0] for c in VD301_CASES])
def test_vd301_table(profile: Profile, order: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert codes(lint(profile, order)) == expected


def test_vd301_mg_mcg_confusion_is_critical_and_says_so(profile: Profile) -> None:
    f = one(lint(profile, ia(q(100, "mg"))), "VD301")
    assert f.summary == (
        "Nitroglycerin 100 mg IA = 100,000 mcg per dose; source range 100-200 mcg (likely mg/mcg mix-up)"
    )
    assert "100 mg = 100,000 mcg" in f.detail and "Q&A: below-knee angioplasty (2025-03-24), line 32" in f.detail
    assert f.values["dose_ug"] == 100_000


def test_vd301_suggests_100_mcg_ia(profile: Profile) -> None:
    f = one(lint(profile, ia(q(250, "ug"))), "VD301")
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction) and action.ref == NTG
    assert action.changes == (SetDose(0, 100, "ug", "mcg"),)
    g = one(lint(profile, ia(q(250, "ug"), "250 mcg intra-arterially", route=None, product=NTG_IN)), "VD301")
    assert g.suggestion is not None
    (action2,) = g.suggestion.actions
    assert isinstance(action2, UpdateAction)
    assert any(isinstance(c, SetRoute) and c.route.code == "58100008" for c in action2.changes)


def test_vd301_assumed_route_is_inferred(profile: Profile) -> None:
    f = one(lint(profile, ia(q(100, "mg"), "100 mg", route=None)), "VD301")
    assert f.confidence == "inferred" and "no route stated" in f.detail


def test_vd301_reports_the_worst_dosage_once(profile: Profile) -> None:
    order = ia(q(100, "ug"))
    order["dosageInstruction"].append(
        {
            "text": "then 100 mg intra-arterially",
            "sequence": 2,
            "route": order["dosageInstruction"][0]["route"],
            "doseAndRate": [{"doseQuantity": q(100, "mg")}],
        }
    )
    found = lint(profile, order)
    assert codes(found) == {("VD301", "critical")}


# ---------------------------------------------------------------------------------------------------------
# VD302 nitrate-with-pde5-inhibitor
# ---------------------------------------------------------------------------------------------------------

TADALAFIL = ("358263", "tadalafil")


def tadalafil(status: str = "draft", rtype: str = "MedicationRequest") -> dict[str, Any]:
    return med("tada", TADALAFIL, q(5, "mg"), route="po", text="5 mg daily", timing=DAILY, status=status, rtype=rtype)


SL_NTG = med("ntg", NTG_IN, q(0.4, "mg"), route="sl", text="0.4 mg SL prn chest pain")
IA_NTG = ia(q(100, "ug"))

VD302_CASES = [
    (
        "ia-ntg-with-active-tadalafil",
        [IA_NTG, tadalafil("active", "MedicationStatement")],
        {("VD302", "critical", NTG)},
    ),
    ("sl-ntg-with-tadalafil-both-ordered", [SL_NTG, tadalafil()], {("VD302", "critical", NTG)}),
    (
        "tadalafil-ordered-with-active-ntg",
        [tadalafil(), med("ntg", NTG_IN, q(0.4, "mg"), route="sl", status="active", rtype="MedicationStatement")],
        {("VD302", "critical", "MedicationRequest/tada")},
    ),
    (
        "sildenafil-by-name-with-isosorbide",
        [
            med("sild", "sildenafil 20 mg tablet", q(20, "mg"), route="po", timing=DAILY),
            med(
                "isdn",
                "isosorbide dinitrate 10 mg tablet",
                q(10, "mg"),
                route="po",
                timing=DAILY,
                status="active",
                rtype="MedicationStatement",
            ),
        ],
        {("VD302", "critical", "MedicationRequest/sild"), ("DQ903", "info", "MedicationRequest/sild")},
    ),
    (
        "vardenafil-avanafil-names",
        [
            IA_NTG,
            med("v", "vardenafil 10 mg", q(10, "mg"), status="active", rtype="MedicationStatement"),
            med("a", "avanafil 100 mg", q(100, "mg"), status="active", rtype="MedicationStatement"),
        ],
        {("VD302", "critical", NTG)},
    ),
    ("tadalafil-stopped", [IA_NTG, tadalafil("stopped", "MedicationStatement")], set()),
    ("tadalafil-completed", [IA_NTG, tadalafil("completed", "MedicationStatement")], set()),
    (
        "both-only-in-context",
        [
            med("ntg", NTG_IN, q(0.4, "mg"), route="sl", status="active", rtype="MedicationStatement"),
            tadalafil("active", "MedicationStatement"),
        ],
        set(),
    ),
    ("tadalafil-alone", [tadalafil()], set()),
    ("ntg-alone", [IA_NTG], set()),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in VD302_CASES], ids=[c[0] for c in VD302_CASES])
def test_vd302_table(profile: Profile, resources: list[dict[str, Any]], expected: set[tuple[str, str, str]]) -> None:
    found = lint(profile, *resources)
    assert {(f.code, f.indicator.value, f.primary_ref) for f in found if f.code in ("VD302", "DQ903")} == expected


def test_vd302_names_both_drugs(profile: Profile) -> None:
    f = one(lint(profile, IA_NTG, tadalafil("active", "MedicationStatement")), "VD302")
    assert f.refs == (NTG, "MedicationStatement/tada")
    assert "tadalafil" in f.summary and "active medication" in f.detail
    assert len(f.summary) < 140


def test_vd302_drugs_are_the_two_classes() -> None:
    assert RULES_BY_CODE["VD302"].META.drugs == drugs_in_class("nitrate") | drugs_in_class("pde5_inhibitor")


def test_issue_example_nitroglycerin_200_mg_ia(profile: Profile) -> None:
    """Issue 2 "Done when": nitroglycerin 200 mg IA is VD301 critical."""
    assert codes(lint(profile, ia(q(200, "mg"), "200 mg IA"))) == {("VD301", "critical")}
