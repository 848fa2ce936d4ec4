"""The type substitutions of tests/test_reader_robustness.py through the hook endpoint: zero 5xx, and every
refusal is a 400 OperationOutcome (issue 10 item 1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tests.test_reader_robustness import _name, cases

from .conftest import FhirRoute, hook_request


def test_every_substitution_through_the_hook_endpoint_answers_without_5xx(
    make_client: Callable[..., Any],
) -> None:
    fast = make_client(lint_mode="fast")
    strict = make_client(lint_mode="strict")
    failures: list[str] = []
    every = 5 if os.environ.get("CI") else 25  # a deterministic sample: each case is a real HTTP call
    for n, (hook, path, value, request) in enumerate(cases(("order-sign", "order-select"))):
        if n % every:
            continue
        client = strict if n % 2 else fast
        response = client.post(f"/cds-services/btk-angioplasty-{hook}", json=request)
        if response.status_code >= 500 or response.status_code not in (200, 400):
            failures.append(f"{hook} {_name(path)} = {value!r}: {response.status_code} {response.text[:200]}")
        elif response.status_code == 400:
            assert response.json()["resourceType"] == "OperationOutcome"
    assert not failures, "\n".join(failures[:40])


WRONG_ANSWERS: list[Any] = [
    {"resourceType": "Bundle", "type": "searchset", "entry": 7},
    {"resourceType": "Bundle", "type": "searchset", "entry": "abc"},
    {"resourceType": "Bundle", "type": "searchset", "entry": [7, None, {"resource": []}]},
    {"resourceType": "Bundle", "link": "next", "entry": []},
    {"resourceType": "Bundle", "link": [{"relation": "next", "url": 7}], "entry": {}},
    {"resourceType": "OperationOutcome", "issue": 5},
    {"resourceType": "OperationOutcome", "issue": [{"details": "x", "diagnostics": ["y"], "code": {}}]},
    {"resourceType": ["Observation"]},
    {"resourceType": "Observation", "code": {"coding": [{"system": "http://loinc.org", "code": ["29463-7"]}]}},
]


def test_wrong_shapes_from_the_fhir_server_are_gaps_or_dq904_never_5xx(
    make_client: Callable[..., Any], fhir_server: Any
) -> None:
    """The prefetch the service fetches itself (FHIR server answers, paging included) goes through the
    same readers: every answer above, for every prefetch key at once, is a 200."""
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    statuses = []
    for answer in WRONG_ANSWERS:
        fhir_server.routes.clear()
        for rtype in ("Patient", "Observation", "Condition", "MedicationRequest", "Procedure", "Goal"):
            fhir_server.routes[rtype] = FhirRoute(body=answer)
        second_page = {"resourceType": "Bundle", "link": [{"relation": "next", "url": 7}], "entry": 9}
        fhir_server.routes["page2"] = FhirRoute(body=second_page)
        body = hook_request(fhirServer=fhir_server.base_url, fhirAuthorization={"access_token": "t0k"})
        if isinstance(answer.get("link"), list):  # a first page sent in the request, its next page fetched
            body["prefetch"] = {
                "weight": {
                    "resourceType": "Bundle",
                    "entry": [],
                    "link": [{"relation": "next", "url": f"{fhir_server.base_url}/page2"}],
                }
            }
        response = client.post("/cds-services/btk-angioplasty-order-sign", json=body)
        statuses.append((answer, response.status_code, response.text[:200]))
    assert all(status == 200 for _, status, _ in statuses), [s for s in statuses if s[1] != 200]
