"""The fast reader's plain paths (`plain_order`, `plain_dosage`, `plain_concept`, `plain_quantity`) read exactly
what the checked readers read: whenever a plain path answers, its answer is the checked reader's, compared by repr (so
that an int read where the checked reader reads a float differs too); when it does not (None), the checked reader is
the one that reads the field (and names the first bad one). The plain readers share the values they build (per-process
caches): values that are one key but read differently (0.0 and -0.0, 1 and True) are read after one another too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linter.fhir_io import dosage as dosage_module
from linter.fhir_io import fields, medications
from linter.fhir_io.dosage import dosage, plain_dosage
from linter.fhir_io.entries import ResourceIndex
from linter.fhir_io.fields import FieldError, concept, plain_concept, plain_quantity, quantity
from linter.fhir_io.medications import checked_order, plain_order

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**60),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.lists(st.integers(-9, 9), max_size=2),
    st.dictionaries(st.sampled_from(["a", "code"]), st.integers(-9, 9), max_size=2),
)


# Fields only the checked readers read: left out of the "plain" shapes, so that most of them take the plain path.
CHECKED_ONLY = {"doseQuantity", "doseRange", "rateQuantity", "rateRatio", "additionalInstruction", "boundsDuration"}
CHECKED_ONLY |= {"when", "boundsPeriod"}


def shapes(with_junk: bool, plain: bool = False) -> tuple[Any, Any, Any]:
    """(dosage, concept, quantity) strategies; with_junk puts a wrong-typed value in any field, plain leaves out the
    fields only the checked readers read."""

    def optional(fields: dict[str, Any]) -> Any:
        kept = {k: v for k, v in fields.items() if not (plain and k in CHECKED_ONLY)}
        return st.fixed_dictionaries({}, optional={k: st.one_of(v, junk) if with_junk else v for k, v in kept.items()})

    coding = optional(
        {"system": st.sampled_from(["http://snomed.info/sct", "x"]), "code": st.text(max_size=8), "display": st.text()}
    )
    concept_ = optional({"coding": st.lists(st.one_of(coding, st.none()), max_size=3), "text": st.text(max_size=8)})
    quantity_ = optional(
        {
            "value": st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=False)),
            "unit": st.sampled_from(["mg", "[iU]", "mL"]),
            "system": st.just("http://unitsofmeasure.org"),
            "code": st.sampled_from(["mg", "[iU]", "mL"]),
        }
    )
    repeat = optional(
        {
            "frequency": st.one_of(st.integers(0, 4), st.just(2.0)),
            "frequencyMax": st.integers(0, 4),
            "period": st.one_of(st.integers(0, 24), st.floats(0, 24)),
            "periodMax": st.floats(0, 24),
            "periodUnit": st.sampled_from(["d", "h", "wk", "x"]),
            "count": st.integers(0, 3),
            "boundsDuration": optional({"value": st.integers(1, 30), "code": st.just("d")}),
            "when": st.lists(st.text(max_size=3), max_size=2),
            "boundsPeriod": optional({"start": st.just("2026-01-01"), "end": st.just("2026-02-01")}),
        }
    )
    timing_code = optional(
        {"coding": st.lists(optional({"code": st.sampled_from(["BID", "QD", "ONCE", "zz"])}), max_size=2)}
    )
    timing = optional({"repeat": repeat, "code": timing_code, "event": st.just(["2026-01-01"])})
    dose_and_rate = optional(
        {
            "doseQuantity": quantity_,
            "type": concept_,
            "doseRange": optional({"low": quantity_, "high": quantity_}),
            "rateQuantity": quantity_,
            "rateRatio": st.just({}),
        }
    )
    dosage_ = optional(
        {
            "text": st.text(max_size=8),
            "sequence": st.one_of(st.integers(-2, 2**60), st.just(1.0)),
            "patientInstruction": st.text(max_size=4),
            "asNeededBoolean": st.booleans(),
            "route": concept_,
            "method": concept_,
            "timing": timing,
            "doseAndRate": st.one_of(st.lists(dose_and_rate, max_size=2), dose_and_rate),
            "doseQuantity": quantity_,
            "additionalInstruction": st.lists(concept_, max_size=1),
        }
    )
    return dosage_, concept_, quantity_


CLEAN, JUNK, PLAIN = shapes(with_junk=False), shapes(with_junk=True), shapes(with_junk=False, plain=True)


# The values the readers share (per process): emptied before each checked read, so that the checked reader builds
# every value from what was sent (it takes the same plain paths for its parts), while the plain read under test
# may find them kept from earlier reads.
SHARED = [
    fields._DATES,
    fields._ONE_CODING,
    fields._CODINGS,
    fields._QUANTITIES,
    dosage_module._TIMINGS,
    dosage_module._DOSAGES,
    medications._PLAIN_MEDICATIONS,
    medications._PLAIN_PRODUCTS,
    medications._PLAIN_IDENTITIES,
]


def _checked(read: Any, *args: Any) -> Any:
    for cache in SHARED:
        cache.clear()
    try:
        return read(*args)
    except FieldError as exc:
        return ("error", exc.path, exc.reason)


@pytest.mark.parametrize("strategies", [CLEAN, JUNK, PLAIN], ids=["clean", "junk", "plain"])
def test_a_plain_dosage_reads_as_the_checked_reader_does(strategies: tuple[Any, Any, Any]) -> None:
    @settings(max_examples=500, deadline=None)
    @given(strategies[0], st.integers(0, 3))
    def check(raw: dict[str, Any], index: int) -> None:
        fast = plain_dosage(raw, index)
        if fast is not None:
            assert repr(fast) == repr(_checked(dosage, raw, "MedicationRequest.dosageInstruction[0]", index))

    check()


@pytest.mark.parametrize("strategies", [CLEAN, JUNK], ids=["clean", "junk"])
def test_plain_concepts_and_quantities_read_as_the_checked_readers_do(strategies: tuple[Any, Any, Any]) -> None:
    @settings(max_examples=300, deadline=None)
    @given(strategies[1], strategies[2])
    def check(c: dict[str, Any], q: dict[str, Any]) -> None:
        fast_c = plain_concept(c)
        if fast_c is not None:
            assert repr(fast_c) == repr(_checked(concept, c, "x"))
        fast_q = plain_quantity(q)
        if fast_q is not None:
            assert repr(fast_q) == repr(_checked(quantity, q, "x"))

    check()


def _dosages(doc: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        for key in ("dosageInstruction", "dosage"):
            if isinstance(doc.get(key), list):
                found.extend(d for d in doc[key] if isinstance(d, dict))
        for value in doc.values():
            found.extend(_dosages(value))
    elif isinstance(doc, list):
        for value in doc:
            found.extend(_dosages(value))
    return found


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.json")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_dosage_reads_alike_both_ways(path: Path) -> None:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        pytest.skip("not one JSON document")
    for i, raw in enumerate(_dosages(doc)):
        fast = plain_dosage(raw, i)
        if fast is not None:
            assert repr(fast) == repr(_checked(dosage, raw, "Dosage", i))


def medication_requests(with_junk: bool) -> Any:
    """MedicationRequest / MedicationStatement shapes: the plain one (`plain_order`) and others, with junk in any
    field when asked."""
    dosage_, concept_, _ = shapes(with_junk, plain=not with_junk)
    fields = {
        "resourceType": st.sampled_from(["MedicationRequest", "MedicationStatement"]),
        "id": st.text(max_size=3),
        "status": st.sampled_from(["draft", "active"]),
        "intent": st.just("order"),
        "medicationCodeableConcept": concept_,
        "medicationReference": st.just({"reference": "Medication/m"}),
        "dosageInstruction": st.lists(dosage_, max_size=2),
        "dosage": st.lists(dosage_, max_size=1),
        "authoredOn": st.sampled_from(["2026-11-20", "2026-11-20T09:00:00Z", "2026-11", "2026-13-01", ""]),
        "note": st.lists(st.fixed_dictionaries({}, optional={"text": st.text(max_size=4)}), max_size=2),
        "dispenseRequest": st.just({"expectedSupplyDuration": {"value": 30, "code": "d"}}),
    }
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, junk) if with_junk else v for k, v in fields.items()})


@pytest.mark.parametrize("with_junk", [False, True], ids=["clean", "junk"])
def test_a_plain_medication_order_reads_as_the_checked_reader_does(with_junk: bool) -> None:
    @settings(max_examples=400, deadline=None)
    @given(medication_requests(with_junk), st.booleans())
    def check(raw: dict[str, Any], under: bool) -> None:
        fast = plain_order(raw, "MedicationRequest/x", under)
        if fast is not None:
            checked = _checked(checked_order, raw, "MedicationRequest", "MedicationRequest/x", ResourceIndex(), under)
            assert repr(fast) == repr(checked)

    check()


def _medication_requests(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        found = [doc] if doc.get("resourceType") in ("MedicationRequest", "MedicationStatement") else []
        return found + [r for value in doc.values() for r in _medication_requests(value)]
    if isinstance(doc, list):
        return [r for value in doc for r in _medication_requests(value)]
    return []


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.json")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_medication_order_reads_alike_both_ways(path: Path) -> None:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        pytest.skip("not one JSON document")
    for raw in _medication_requests(doc):
        fast = plain_order(raw, "ref", True)
        if fast is not None:
            assert repr(fast) == repr(_checked(checked_order, raw, "MedicationRequest", "ref", ResourceIndex(), True))


# Values that are one key of the shared-value caches (fields, dosage) but read differently, or not at all by the
# plain readers: all read one after the other (each may find what the one before left), then compared.
ALIKE_KEYS = [0, 0.0, -0.0, 1, 1.0, True, False, 2**53 + 1, float(2**53), None, "1"]


def _alike_inputs() -> list[tuple[Any, Any, Any]]:
    """(plain reader, checked reader, input) for each value of ALIKE_KEYS, forwards then backwards."""
    inputs: list[tuple[Any, Any, Any]] = []
    for value in ALIKE_KEYS + ALIKE_KEYS[::-1]:
        q = {"value": value, "unit": "mg", "code": "mg"}
        inputs.append((plain_quantity, lambda raw: quantity(raw, "x"), q))
        for field in ("frequency", "period", "periodMax", "count", "sequence"):
            raw: dict[str, Any] = {
                "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]},
                "doseAndRate": [{"doseQuantity": q}],
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            }
            if field == "sequence":
                raw["sequence"] = value
            else:
                raw["timing"]["repeat"][field] = value
            inputs.append((lambda d: plain_dosage(d, 0), lambda d: dosage(d, "Dosage", 0), raw))
            product = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "243670"}]}
            order = {"resourceType": "MedicationRequest", "medicationCodeableConcept": product}
            order["dosageInstruction"] = [raw]
            inputs.append((lambda r: plain_order(r, "R/1", True), lambda r: _order(r), order))
        for text in (value, str(value)):
            c = {"coding": [{"system": "s", "code": "c"}, {"code": "d"}], "text": text}
            inputs.append((plain_concept, lambda raw: concept(raw, "x"), c))
    return inputs


def _order(raw: dict[str, Any]) -> Any:
    return checked_order(raw, "MedicationRequest", "R/1", ResourceIndex(), True)


def test_shared_values_are_read_as_sent_whatever_was_read_before() -> None:
    inputs = _alike_inputs()
    fast = [plain(raw) for plain, _, raw in inputs]  # one after the other: the caches stay filled
    for (_, checked, raw), read in zip(inputs, fast, strict=True):
        if read is not None:
            assert repr(read) == repr(_checked(checked, raw)), raw
