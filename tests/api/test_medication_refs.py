"""medicationReference resolves anywhere in the request, or on the request's (allowlisted) FHIR server.

A heparin bolus written as 15 mL of `Medication/hep-1000` (1,000 units/mL): the strength is in the Medication,
which the draft orders do not carry. The service reads it from the FHIR server and judges 15,000 units; when
the Medication cannot be had, the card says it could not verify, it never passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from linter.api.medication_refs import missing_medication_ids

from .conftest import FakeFhirServer, FhirRoute, fhir_routes_for_full_prefetch, full_prefetch, hook_request

TOKEN = "secret-fhir-access-token"
UCUM = "http://unitsofmeasure.org"

HEPARIN_MEDICATION: dict[str, Any] = {
    "resourceType": "Medication",
    "id": "hep-1000",
    "code": {"text": "heparin sodium 1,000 units/mL vial"},
    "form": {"text": "Injectable Solution"},
    "ingredient": [
        {
            "itemCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5224"}]
            },
            "strength": {
                "numerator": {"value": 1000, "system": UCUM, "code": "[iU]", "unit": "units"},
                "denominator": {"value": 1, "system": UCUM, "code": "mL", "unit": "mL"},
            },
        }
    ],
}


def heparin_by_reference(ml: float, reference: str = "Medication/hep-1000") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "hep-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": reference},
        "note": [{"text": "Procedural bolus. Target ACT 250-300 seconds."}],
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": "http://snomed.info/sct", "code": "47625008"}]},
                "doseAndRate": [{"doseQuantity": {"value": ml, "system": UCUM, "code": "mL", "unit": "mL"}}],
            }
        ],
    }


def request_with(
    server: FakeFhirServer, order: dict[str, Any], prefetch: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = hook_request(
        prefetch=prefetch if prefetch is not None else full_prefetch(),
        fhirServer=server.base_url,
        fhirAuthorization={
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "orderlint",
        },
    )
    body["context"]["draftOrders"]["entry"] = [{"resource": order}]
    return body


def codes(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in response.json()["cards"]]


def test_referenced_medication_is_fetched_from_the_allowed_server(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_server.routes["Medication/hep-1000"] = FhirRoute(body=HEPARIN_MEDICATION)
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    response = client.post(
        "/cds-services/btk-angioplasty-order-sign", json=request_with(fhir_server, heparin_by_reference(15))
    )
    assert ("HEP201", "critical") in codes(response)
    card = next(c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "HEP201")
    assert "15 mL x 1,000" in card["detail"] and "214" in card["detail"]
    assert [p for p, _ in fhir_server.requests] == ["/fhir/Medication/hep-1000"]
    assert fhir_server.requests[0][1] == f"Bearer {TOKEN}"


def test_near_miss_volume_is_silent(make_client: Callable[..., TestClient], fhir_server: FakeFhirServer) -> None:
    fhir_server.routes["Medication/hep-1000"] = FhirRoute(body=HEPARIN_MEDICATION)
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    response = client.post(
        "/cds-services/btk-angioplasty-order-sign", json=request_with(fhir_server, heparin_by_reference(5.6))
    )
    assert not [c for c, _ in codes(response) if c.startswith("HEP")]


def test_medication_in_the_prefetch_needs_no_fetch(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    prefetch = full_prefetch()
    prefetch["medications"]["entry"].append({"resource": HEPARIN_MEDICATION})
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    response = client.post(
        "/cds-services/btk-angioplasty-order-sign", json=request_with(fhir_server, heparin_by_reference(15), prefetch)
    )
    assert ("HEP201", "critical") in codes(response)
    assert fhir_server.requests == []


def test_unreachable_medication_is_could_not_verify_never_a_pass(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])  # the server answers 404
    found = codes(
        client.post(
            "/cds-services/btk-angioplasty-order-sign", json=request_with(fhir_server, heparin_by_reference(15))
        )
    )
    assert ("HEP201", "critical") not in found
    assert any(code in ("HEP205", "DQ902", "DQ906") for code, _ in found), found


def test_server_not_on_the_allowlist_is_never_asked(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_server.routes["Medication/hep-1000"] = FhirRoute(body=HEPARIN_MEDICATION)
    fhir_routes_for_full_prefetch(fhir_server)
    client = make_client(allowed_fhir_servers=[])
    codes(
        client.post(
            "/cds-services/btk-angioplasty-order-sign", json=request_with(fhir_server, heparin_by_reference(15))
        )
    )
    assert fhir_server.requests == []


def test_references_to_other_hosts_or_odd_ids_are_never_followed() -> None:
    server = "https://ehr.example.org/fhir"
    draft = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": heparin_by_reference(1, "https://evil.example.com/fhir/Medication/x")},
            {"resource": heparin_by_reference(1, "Medication/../../admin")},
            {"resource": heparin_by_reference(1, "#contained")},
            {"resource": heparin_by_reference(1, f"{server}/Medication/ok-1")},
            {"resource": heparin_by_reference(1, "Medication/ok-2")},
        ],
    }
    assert missing_medication_ids(draft, {}, server) == ["ok-1", "ok-2"]
