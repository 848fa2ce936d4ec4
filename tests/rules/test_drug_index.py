"""The drug index (linter.rules._drug_index) answers as the scans of the orders it replaces: for every drug and
every drug class of the terminology, over the fixture catalog (in every context) and generated bench bundles
with active medications in context, inside an engine run (the index built once and shared) and outside one."""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson

from bench.lint_bench import NOW, make_bundle
from linter.fhir_io import load_bytes
from linter.model import MedicationOrder, OrderSet
from linter.rules._common import drugs_in_class, orders_of, regimen_in_class
from linter.rules._drug_index import (
    drug_index,
    regimen_drugs_among,
    regimen_has,
    regimen_orders,
    regimen_orders_with_any,
    reviewed_orders_with_any,
)
from linter.rules._memo import RunScope
from linter.terminology import terminology
from tests.conftest import FIXTURE_NOW, FIXTURES


def _with_active_medications(data: bytes) -> bytes:
    """The bench bundle with its clopidogrel and rivaroxaban also taken as active MedicationStatements."""
    bundle = orjson.loads(data)
    for entry in list(bundle["entry"]):
        r = entry["resource"]
        if r["resourceType"] == "MedicationRequest" and r["id"] in ("clop", "riva"):
            statement = {
                "resourceType": "MedicationStatement",
                "id": f"{r['id']}-taken",
                "status": "active",
                "medicationCodeableConcept": r["medicationCodeableConcept"],
                "subject": {"reference": "Patient/p"},
                "dosage": r["dosageInstruction"],
            }
            bundle["entry"].append({"fullUrl": f"MedicationStatement/{r['id']}-taken", "resource": statement})
    return orjson.dumps(bundle)


def _order_sets() -> Iterator[OrderSet]:
    for path in sorted(FIXTURES.rglob("*.json")):
        data = path.read_bytes()
        for context in (None, "btk"):
            yield from load_bytes(data, path.name, mode="fast", now=FIXTURE_NOW, context=context).order_sets
    rng = random.Random(5)
    for _ in range(10):
        data = make_bundle(rng, 20)
        for variant in (data, _with_active_medications(data)):
            yield from load_bytes(variant, "bench.json", mode="fast", now=NOW).order_sets


def _refs(orders: list[MedicationOrder]) -> list[str]:
    return [m.ref for m in orders]


def _same_as_the_scans(order_set: OrderSet) -> None:
    t = terminology()
    regimen = order_set.regimen
    for drug in t.drugs:
        assert _refs(orders_of(order_set, drug)) == _refs([m for m in order_set.medications if m.is_(drug)])
        assert _refs(regimen_orders(order_set, drug)) == _refs([m for m in regimen if m.is_(drug)])
        assert regimen_has(order_set, drug) == any(m.is_(drug) for m in regimen)
    classes = {cls for members in t.drug_classes.values() for cls in members}
    for cls in sorted(classes):
        members = drugs_in_class(cls)
        in_regimen = [m for m in regimen if members & m.drug.drugs]
        assert _refs(regimen_in_class(order_set, cls)) == _refs(in_regimen)
        assert _refs(regimen_orders_with_any(order_set, members)) == _refs(in_regimen)
        reviewed = [m for m in order_set.medications if members & m.drug.drugs]
        assert _refs(reviewed_orders_with_any(order_set, members)) == _refs(reviewed)
        assert regimen_drugs_among(order_set, members) == {d for m in regimen for d in m.drug.drugs & members}


def test_the_drug_index_answers_as_the_scans_it_replaces() -> None:
    seen_active = False
    for order_set in _order_sets():
        seen_active = seen_active or bool(order_set.patient.active_medications)
        _same_as_the_scans(order_set)  # outside a run: built for each question
        with RunScope():
            _same_as_the_scans(order_set)  # inside a run: built once, then shared
            assert drug_index(order_set) is drug_index(order_set)
            # The shared lists survive a caller that changes what it was given.
            for drug in drug_index(order_set).in_regimen:
                regimen_orders(order_set, drug).clear()
            _same_as_the_scans(order_set)
    assert seen_active
