"""Whatever shape a resource has, linting never raises and no rule crashes: a bad field is DQ904 (or is
ignored when no rule reads it). Hypothesis builds order sets from valid pieces and wrong-typed values."""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.profiles import load_profile
from tests.conftest import FIXTURE_NOW

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
CODES = [
    "243670",
    "309362",
    "2059015",
    "1114198",
    "5224",
    "1361226",
    "245276",
    "259255",
    "21107",
    "613391",
    "1116632",
    "11289",
    "358263",
    "4917",
    "999999",
]
UNITS = ["mg", "ug", "mcg", "[iU]", "units", "U", "mL", "{tbl}", "g", "[iU]/kg", "mg/kg", "puffs", "", "kg"]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.integers(-9, 9), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(-9, 9), max_size=2),
)


def strategies(with_junk: bool) -> tuple[Any, Any]:
    """(medication request, context) strategies; with_junk mixes wrong-typed values into every field."""

    def maybe(s: Any) -> Any:
        return st.one_of(s, junk) if with_junk else s

    quantity = st.fixed_dictionaries(
        {"value": maybe(st.floats(0, 100000, allow_nan=False)), "code": maybe(st.sampled_from(UNITS))},
        optional={"unit": maybe(st.sampled_from(UNITS)), "system": st.just("http://unitsofmeasure.org")},
    )
    timing = st.fixed_dictionaries(
        {},
        optional={
            "repeat": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "frequency": maybe(st.integers(0, 6)),
                        "period": maybe(st.floats(0, 48, allow_nan=False)),
                        "periodUnit": maybe(st.sampled_from(["h", "d", "wk", "mo", "x"])),
                        "count": maybe(st.integers(0, 3)),
                        "boundsDuration": maybe(
                            st.fixed_dictionaries({"value": st.integers(0, 400), "code": st.just("d")})
                        ),
                    },
                )
            ),
            "code": maybe(
                st.fixed_dictionaries(
                    {
                        "coding": st.lists(
                            st.fixed_dictionaries(
                                {"code": st.sampled_from(["BID", "QD", "TID", "Q8H", "ONCE", "XYZ"])}
                            ),
                            max_size=1,
                        )
                    }
                )
            ),
        },
    )
    dosage = st.fixed_dictionaries(
        {},
        optional={
            "text": maybe(st.text(max_size=30)),
            "timing": maybe(timing),
            "route": maybe(
                st.fixed_dictionaries(
                    {
                        "coding": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "system": st.just("http://snomed.info/sct"),
                                    "code": st.sampled_from(
                                        ["58100008", "47625008", "26643006", "34206005", "37839007"]
                                    ),
                                }
                            ),
                            max_size=1,
                        )
                    }
                )
            ),
            "doseAndRate": maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "doseQuantity": maybe(quantity),
                            "doseRange": maybe(st.fixed_dictionaries({}, optional={"low": quantity, "high": quantity})),
                            "rateQuantity": maybe(quantity),
                        },
                    ),
                    max_size=2,
                )
            ),
            "doseQuantity": maybe(quantity),
            "asNeededBoolean": maybe(st.booleans()),
        },
    )
    medication_request = st.fixed_dictionaries(
        {
            "resourceType": st.just("MedicationRequest"),
            "id": st.sampled_from(["a", "b", "c", "d"]),
            "status": maybe(st.sampled_from(["draft", "active", "completed", "on-hold"])),
            "intent": st.just("order"),
            "medicationCodeableConcept": maybe(
                st.fixed_dictionaries(
                    {
                        "coding": maybe(
                            st.lists(
                                st.fixed_dictionaries({"system": st.just(RX), "code": st.sampled_from(CODES)}),
                                max_size=2,
                            )
                        )
                    },
                    optional={"text": maybe(st.text(max_size=20))},
                )
            ),
            "dosageInstruction": maybe(st.lists(maybe(dosage), max_size=3)),
        },
        optional={
            "note": maybe(st.lists(st.fixed_dictionaries({"text": maybe(st.text(max_size=20))}), max_size=1)),
            "dispenseRequest": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "expectedSupplyDuration": maybe(
                            st.fixed_dictionaries({"value": st.integers(0, 400), "code": st.just("d")})
                        )
                    },
                )
            ),
        },
    )
    context = st.sampled_from(
        [
            {
                "resourceType": "ServiceRequest",
                "id": "sr",
                "status": "draft",
                "intent": "order",
                "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "37228"}]},
            },
            {
                "resourceType": "Observation",
                "id": "w",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "kg"},
            },
            {
                "resourceType": "Condition",
                "id": "c",
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I70.221"}]},
            },
            {
                "resourceType": "Observation",
                "id": "w2",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "valueQuantity": {"value": "x"},
            },
        ]
    )

    return medication_request, context


PROFILE = load_profile("btk-angioplasty")


JUNK_MR, JUNK_CTX = strategies(with_junk=True)
VALID_MR, VALID_CTX = strategies(with_junk=False)
EXAMPLES = int(os.environ.get("ORDERLINT_FUZZ_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JUNK_MR, min_size=1, max_size=4), st.lists(JUNK_CTX, max_size=4), st.sampled_from(["strict", "fast"]))
def test_wrong_types_never_raise_and_no_rule_crashes(
    meds: list[dict[str, Any]], ctx: list[dict[str, Any]], mode: str
) -> None:
    _lint_checks(meds, ctx, mode)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALID_MR, min_size=1, max_size=4), st.lists(VALID_CTX, max_size=4), st.sampled_from(["strict", "fast"]))
def test_well_formed_orders_never_crash_a_rule(
    meds: list[dict[str, Any]], ctx: list[dict[str, Any]], mode: str
) -> None:
    _lint_checks(meds, ctx, mode)


def _lint_checks(meds: list[dict[str, Any]], ctx: list[dict[str, Any]], mode: str) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in meds + ctx]}
    result = load_bytes(orjson.dumps(bundle), "fuzz.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    for order_set in result.order_sets:
        for finding in run(order_set, PROFILE):
            assert "internal error" not in finding.summary, (finding.code, finding.summary)
            assert len(finding.summary) < 140
