"""Prefetch completion: sent, null, OperationOutcome, missing and fetched, refused, slow, failing, paged."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from linter.api.prefetch import PrefetchResolver, PrefetchResult, expand_template
from linter.api.schemas import HookRequest
from linter.api.services import PREFETCH_TEMPLATES

from .conftest import (
    PATIENT_ID,
    FakeFhirServer,
    FhirRoute,
    fhir_routes_for_full_prefetch,
    full_prefetch,
    hook_request,
    searchset,
    weight_observation,
)

TOKEN = "secret-fhir-access-token"


def resolve(body: dict[str, Any], allowed: list[str], timeout_s: float = 2.0, max_pages: int = 5) -> PrefetchResult:
    async def go() -> PrefetchResult:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            resolver = PrefetchResolver(client, allowed_servers=allowed, timeout_s=timeout_s, max_pages=max_pages)
            return await resolver.resolve(HookRequest.model_validate(body), PREFETCH_TEMPLATES)

    return asyncio.run(go())


def with_server(server: FakeFhirServer, prefetch: dict[str, Any] | None = None) -> dict[str, Any]:
    return hook_request(
        prefetch=prefetch,
        fhirServer=server.base_url,
        fhirAuthorization={
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "orderlint",
        },
    )


def gap_keys(result: PrefetchResult) -> set[str]:
    return {g.key for g in result.gaps}


def test_template_tokens_are_filled_and_escaped() -> None:
    request = HookRequest.model_validate(hook_request())
    assert expand_template(PREFETCH_TEMPLATES["patient"], request) == f"Patient/{PATIENT_ID}"
    request.context.patientId = "a b&c"
    assert expand_template("Observation?patient={{context.patientId}}", request) == ("Observation?patient=a%20b%26c")
    assert expand_template("{{userPractitionerId}}", request) == "example"


def test_complete_prefetch_is_used_without_any_fetch(fhir_server: FakeFhirServer) -> None:
    result = resolve(with_server(fhir_server, full_prefetch()), [fhir_server.base_url])
    assert result.gaps == []
    assert result.data["weight"]["entry"][0]["resource"]["valueQuantity"]["value"] == 70
    assert fhir_server.requests == []


def test_null_means_no_data_not_a_gap() -> None:
    prefetch = full_prefetch()
    prefetch["conditions"] = None
    result = resolve(hook_request(prefetch=prefetch), [])
    assert result.data["conditions"] is None
    assert "conditions" not in gap_keys(result)


def test_operation_outcome_in_prefetch_is_no_data_with_the_reason_kept() -> None:
    prefetch = full_prefetch()
    prefetch["weight"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "weight search timed out"}],
    }
    result = resolve(hook_request(prefetch=prefetch), [])
    assert result.data["weight"] is None
    [gap] = result.gaps
    assert gap.key == "weight" and "weight search timed out" in gap.reason


def test_missing_keys_are_fetched_with_the_bearer_token(fhir_server: FakeFhirServer) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    partial = {"patient": full_prefetch()["patient"]}
    result = resolve(with_server(fhir_server, partial), [fhir_server.base_url])
    assert result.gaps == []
    assert result.data["weight"]["entry"][0]["resource"]["id"] == "wt-1"
    paths = sorted(path for path, _ in fhir_server.requests)
    assert len(paths) == 5  # every key but the prefetched patient
    assert not any(path.startswith("/fhir/Patient") for path in paths)
    weight_path = next(p for p in paths if p.startswith("/fhir/Observation"))
    assert f"patient={PATIENT_ID}" in weight_path and "29463-7" in weight_path
    assert {auth for _, auth in fhir_server.requests} == {f"Bearer {TOKEN}"}


def test_absent_prefetch_is_fetched_concurrently(fhir_server: FakeFhirServer) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    fhir_server.default_delay_s = 0.3
    start = time.perf_counter()
    result = resolve(with_server(fhir_server), [fhir_server.base_url])
    elapsed = time.perf_counter() - start
    assert result.gaps == []
    assert len(fhir_server.requests) == 6
    assert elapsed < 1.0, f"six 0.3 s searches took {elapsed:.2f} s: not concurrent"


def test_server_not_on_the_allowlist_is_never_contacted(fhir_server: FakeFhirServer) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    result = resolve(with_server(fhir_server), ["https://some-other-ehr.example/fhir"])
    assert fhir_server.requests == []
    assert gap_keys(result) == set(PREFETCH_TEMPLATES)
    assert all("allowlist" in g.reason for g in result.gaps)


def test_no_server_or_no_token_gives_gaps() -> None:
    result = resolve(hook_request(), [])
    assert gap_keys(result) == set(PREFETCH_TEMPLATES)
    assert all("no FHIR server" in g.reason for g in result.gaps)
    body = hook_request(fhirServer="http://127.0.0.1:9/fhir")
    result = resolve(body, ["http://127.0.0.1:9/fhir"])
    assert all("no FHIR access token" in g.reason for g in result.gaps)


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (FhirRoute(503, {"resourceType": "Bundle"}), "HTTP 503"),
        (
            FhirRoute(
                500,
                {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "x", "diagnostics": "db down"}],
                },
            ),
            "db down",
        ),
        (
            FhirRoute(
                200,
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]},
            ),
            "forbidden",
        ),
        (FhirRoute(200, ["not", "a", "resource"]), "not a FHIR resource"),
        (FhirRoute(200, searchset(), delay_s=1.5), "did not answer within 0.5 s"),
    ],
)
def test_fhir_failures_become_gaps_never_errors(fhir_server: FakeFhirServer, route: FhirRoute, reason: str) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    fhir_server.routes["Observation"] = route
    result = resolve(with_server(fhir_server), [fhir_server.base_url], timeout_s=0.5)
    [gap] = result.gaps
    assert gap.key == "weight" and reason in gap.reason
    assert result.data["weight"] is None
    assert result.data["patient"]["id"] == PATIENT_ID


def test_unreachable_server_is_a_gap() -> None:
    body = hook_request(fhirServer="http://127.0.0.1:9/fhir", fhirAuthorization={"access_token": TOKEN})
    result = resolve(body, ["http://127.0.0.1:9/fhir"], timeout_s=1.0)
    assert gap_keys(result) == set(PREFETCH_TEMPLATES)
    assert all("could not be reached" in g.reason or "did not answer" in g.reason for g in result.gaps)


def test_searchset_paging_is_followed_on_the_same_server(fhir_server: FakeFhirServer) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    page2 = searchset({"resourceType": "MedicationRequest", "id": "m2", "status": "active", "intent": "order"})
    fhir_server.routes["/fhir/MedicationRequest?page=2"] = FhirRoute(body=page2)
    first = searchset({"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order"})
    first["link"] = [{"relation": "next", "url": f"{fhir_server.base_url}/MedicationRequest?page=2"}]
    fhir_server.routes["MedicationRequest"] = FhirRoute(body=first)
    result = resolve(with_server(fhir_server), [fhir_server.base_url])
    ids = [e["resource"]["id"] for e in result.data["medications"]["entry"]]
    assert ids == ["m1", "m2"]
    assert result.gaps == []


def test_paging_never_leaves_the_allowed_server(fhir_server: FakeFhirServer) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    first = searchset({"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order"})
    first["link"] = [{"relation": "next", "url": "http://169.254.169.254/latest/meta-data"}]
    fhir_server.routes["MedicationRequest"] = FhirRoute(body=first)
    result = resolve(with_server(fhir_server), [fhir_server.base_url])
    assert [e["resource"]["id"] for e in result.data["medications"]["entry"]] == ["m1"]
    assert gap_keys(result) == {"medications"}


def test_prefetched_first_page_is_completed_from_the_server(fhir_server: FakeFhirServer) -> None:
    condition = {"resourceType": "Condition", "id": "c1", "code": {"text": "claudication"}}
    fhir_server.routes["/fhir/Condition?page=2"] = FhirRoute(body=searchset(dict(condition, id="c2")))
    prefetch = full_prefetch()
    prefetch["conditions"] = searchset(condition)
    prefetch["conditions"]["link"] = [{"relation": "next", "url": f"{fhir_server.base_url}/Condition?page=2"}]
    result = resolve(with_server(fhir_server, prefetch), [fhir_server.base_url])
    assert [e["resource"]["id"] for e in result.data["conditions"]["entry"]] == ["c1", "c2"]
    assert "link" not in result.data["conditions"]
    assert result.gaps == []


def test_latest_weight_query_is_answered_by_its_first_page(fhir_server: FakeFhirServer) -> None:
    """`_sort=-date&_count=1` asks for the latest weight: a first page with a `next` link is the whole answer,
    sent or fetched; `_count` alone (conditions) is only a page size, and its pages are followed."""
    fhir_routes_for_full_prefetch(fhir_server)
    first = searchset(weight_observation(80))
    first["link"] = [{"relation": "next", "url": f"{fhir_server.base_url}/Observation?page=2"}]
    fhir_server.routes["Observation"] = FhirRoute(body=first)
    fhir_server.routes["/fhir/Observation?page=2"] = FhirRoute(body=searchset(weight_observation(60)))
    sent = full_prefetch()
    sent["weight"] = first
    result = resolve(hook_request(prefetch=sent), [])  # no server: nothing could be completed anyway
    assert result.gaps == [] and len(result.data["weight"]["entry"]) == 1

    result = resolve(with_server(fhir_server), [fhir_server.base_url])
    assert result.gaps == []
    assert [e["resource"]["valueQuantity"]["value"] for e in result.data["weight"]["entry"]] == [80]
    assert not any("page=2" in path for path, _ in fhir_server.requests)

    sent = full_prefetch()
    sent["conditions"] = dict(first, entry=[])
    assert gap_keys(resolve(hook_request(prefetch=sent), [])) == {"conditions"}


def test_condition_template_asks_for_history() -> None:
    """AT115 and HEP206 read resolved and inactive Conditions: the template must not filter by status."""
    template = PREFETCH_TEMPLATES["conditions"]
    assert template.startswith("Condition?patient={{context.patientId}}")
    assert "clinical-status" not in template and "verification-status" not in template
