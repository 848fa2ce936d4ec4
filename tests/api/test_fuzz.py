"""Hypothesis: no JSON (or non-JSON) body makes the service answer 500.

TestClient re-raises server exceptions, so an unhandled bug fails the example even before the status check.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.settings import Settings

from .conftest import full_prefetch, hook_request

SIGN = "/cds-services/btk-angioplasty-order-sign"
SELECT = "/cds-services/btk-angioplasty-order-select"
OK_STATUSES = {200, 400, 404}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

# Values that look like FHIR / CDS Hooks pieces, to get past the first checks more often.
fhir_like = st.one_of(
    json_values,
    st.sampled_from(["order-sign", "order-select", "Bundle", "MedicationRequest", "[iU]", "", "Patient/x"]),
    st.fixed_dictionaries({"resourceType": st.sampled_from(["Bundle", "OperationOutcome", "Observation", "X"])}),
    st.builds(lambda: full_prefetch()["weight"]),
)

PATHS = [
    ("hook",),
    ("hookInstance",),
    ("fhirServer",),
    ("fhirAuthorization",),
    ("context",),
    ("context", "patientId"),
    ("context", "selections"),
    ("context", "draftOrders"),
    ("context", "draftOrders", "entry"),
    ("context", "draftOrders", "entry", 0),
    ("context", "draftOrders", "entry", 0, "resource"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction", 0, "doseAndRate"),
    (
        "context",
        "draftOrders",
        "entry",
        0,
        "resource",
        "dosageInstruction",
        0,
        "doseAndRate",
        0,
        "doseQuantity",
    ),
    ("context", "draftOrders", "entry", 0, "resource", "medicationCodeableConcept"),
    ("context", "draftOrders", "entry", 0, "resource", "id"),
    ("context", "draftOrders", "entry", 1, "resource", "code"),
    ("prefetch",),
    ("prefetch", "weight"),
    ("prefetch", "weight", "entry", 0, "resource", "valueQuantity"),
    ("prefetch", "patient"),
    ("prefetch", "conditions"),
    ("prefetch", "medications"),
]


def mutate(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = body
    for step in path[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return body
    with contextlib.suppress(IndexError, TypeError):
        target[path[-1]] = value
    return body


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}"))
    with TestClient(app) as client:
        yield client


def check(client: TestClient, path: str, payload: bytes) -> None:
    response = client.post(path, content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code in OK_STATUSES, (response.status_code, response.text[:500])


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(value=json_values)
def test_any_json_document(fuzz_client: TestClient, value: Any) -> None:
    check(fuzz_client, SIGN, json.dumps(value).encode())


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes(fuzz_client: TestClient, raw: bytes) -> None:
    check(fuzz_client, SIGN, raw)


@FUZZ
@given(
    hook=st.sampled_from(["order-sign", "order-select"]),
    edits=st.lists(st.tuples(st.sampled_from(PATHS), fhir_like), min_size=1, max_size=4),
)
def test_mutated_hook_requests(fuzz_client: TestClient, hook: str, edits: list[tuple[Any, Any]]) -> None:
    body = hook_request(hook, prefetch=full_prefetch())
    for path, value in edits:
        body = mutate(body, path, value)
    check(fuzz_client, SIGN if hook == "order-sign" else SELECT, json.dumps(body).encode())


@FUZZ
@given(value=json_values)
def test_any_feedback_and_lint_body(fuzz_client: TestClient, value: Any) -> None:
    payload = json.dumps(value).encode()
    check(fuzz_client, SIGN + "/feedback", payload)
    check(fuzz_client, "/lint", payload)
    check(fuzz_client, "/lint", json.dumps({"resourceType": "Bundle", "entry": value}).encode())
