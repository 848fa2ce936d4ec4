"""The service end to end through FastAPI's TestClient: discovery, hook calls, errors, prefetch fallback,
feedback, authentication, CORS, body limits, POST /lint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from linter.api.services import PREFETCH_TEMPLATES
from linter.render.cards import ORDERS_EXTENSION, RULE_CODE_SYSTEM
from linter.rules import RULES_BY_CODE
from linter.store.models import CardFeedback, IssuedCard
from linter.store.repository import hash_patient_id

from .conftest import (
    PATIENT_ID,
    PUBLIC_BASE,
    FakeFhirServer,
    FhirRoute,
    Signer,
    angioplasty_order,
    bearer,
    fhir_routes_for_full_prefetch,
    full_prefetch,
    heparin_order,
    hook_request,
    spec_example,
)
from .test_cards import assert_spec_card

SIGN = "/cds-services/btk-angioplasty-order-sign"
SELECT = "/cds-services/btk-angioplasty-order-select"
FHIR_TOKEN = "opaque-fhir-token-4f9d"


def cards_of(client: TestClient, body: dict[str, Any], path: str = SIGN) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    for card in cards:
        assert_spec_card(card)
    return cards


def codes(cards: list[dict[str, Any]]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]


def card_for(cards: list[dict[str, Any]], code: str) -> dict[str, Any]:
    matches = [c for c in cards if c["source"]["topic"]["code"] == code]
    assert matches, f"no {code} card in {codes(cards)}"
    return matches[0]


def assert_outcome(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome: dict[str, Any] = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    text = str(outcome).lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {outcome}"
    return outcome


# --- health and discovery ------------------------------------------------------------------------------


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_discovery_lists_both_services_with_the_prefetch_templates(client: TestClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    spec_fields = {"hook", "title", "description", "id", "prefetch", "usageRequirements", "extension"}
    by_id = {s["id"]: s for s in services}
    # by default the default profile only: a client that enables every listed service shows each card once
    assert set(by_id) == {"btk-angioplasty-order-select", "btk-angioplasty-order-sign"}
    for service in services:
        assert set(service) <= spec_fields
        assert {"hook", "description", "id"} <= set(service)
        assert service["prefetch"] == PREFETCH_TEMPLATES
        assert service["title"] and service["description"]
        # 2.0 tokens only, and only primitive context fields
        for template in service["prefetch"].values():
            assert "{{context.patientId}}" in template and "%" not in template
    assert by_id["btk-angioplasty-order-select"]["hook"] == "order-select"
    assert by_id["btk-angioplasty-order-sign"]["hook"] == "order-sign"
    # the spec's discovery example has the same shape
    example = spec_example("cds-hooks__docs__current.md-block02-Discovery-Example.json")
    for service in example["services"]:
        assert set(service) <= spec_fields


def test_other_profiles_are_listed_and_served_only_when_named(make_client: Callable[..., TestClient]) -> None:
    jp_sign = "btk-angioplasty-jp-order-sign"
    default = make_client()
    assert default.post(f"/cds-services/{jp_sign}", json=hook_request()).status_code == 404
    assert "btk-angioplasty-jp" in default.app.state.orderlint.profiles  # type: ignore[attr-defined] # workbench
    both = make_client(profiles=["btk-angioplasty", "btk-angioplasty-jp"])
    ids = [s["id"] for s in both.get("/cds-services").json()["services"]]
    assert ids == [
        "btk-angioplasty-order-select",
        "btk-angioplasty-order-sign",
        "btk-angioplasty-jp-order-select",
        jp_sign,
    ]
    cards = cards_of(both, hook_request(prefetch=full_prefetch()), path=f"/cds-services/{jp_sign}")
    jp_title = both.app.state.orderlint.profiles["btk-angioplasty-jp"].title  # type: ignore[attr-defined]
    assert card_for(cards, "HEP201")["source"]["label"] == f"orderlint - {jp_title}"
    only_jp = make_client(profiles="btk-angioplasty-jp")
    assert [s["id"] for s in only_jp.get("/cds-services").json()["services"]] == [
        "btk-angioplasty-jp-order-select",
        jp_sign,
    ]


# --- hook calls ----------------------------------------------------------------------------------------


def test_heparin_overdose_gives_a_critical_card_with_the_corrected_dose(client: TestClient) -> None:
    cards = cards_of(client, hook_request(prefetch=full_prefetch()))
    card = card_for(cards, "HEP201")
    assert cards[0]["indicator"] == "critical" and card["indicator"] == "critical"
    assert "heparin" in card["summary"].lower()
    assert "214" in card["summary"] + card.get("detail", "")
    assert card["source"]["topic"]["system"] == RULE_CODE_SYSTEM
    assert card["extension"][ORDERS_EXTENSION] == ["MedicationRequest/hep-1"]
    assert card["selectionBehavior"] == "at-most-one"
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["resourceType"] == "MedicationRequest" and resource["id"] == "hep-1"
    dose = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert dose["value"] == 5600 and dose["code"] == "[iU]" and dose["system"] == "http://unitsofmeasure.org"


def test_right_heparin_dose_gives_no_heparin_card(client: TestClient) -> None:
    body = hook_request(orders=[heparin_order(5600), angioplasty_order()], prefetch=full_prefetch())
    assert "HEP201" not in codes(cards_of(client, body))


def test_order_select_lints_only_the_selections(client: TestClient) -> None:
    body = hook_request("order-select", prefetch=full_prefetch())
    assert body["context"]["selections"] == ["MedicationRequest/hep-1"]
    assert "HEP201" in codes(cards_of(client, body, SELECT))
    body["context"]["selections"] = ["ServiceRequest/sr-1"]
    assert "HEP201" not in codes(cards_of(client, body, SELECT))


def test_issued_cards_are_recorded_with_a_patient_hash(client: TestClient) -> None:
    body = hook_request(prefetch=full_prefetch())
    cards = cards_of(client, body)
    store = client.app.state.orderlint.store  # type: ignore[attr-defined]
    assert store.flush_cards()  # cards are queued for the batch writer
    with store.sessions() as session:
        rows = {r.card_uuid: r for r in session.scalars(select(IssuedCard))}
    assert set(rows) == {c["uuid"] for c in cards}
    row = rows[card_for(cards, "HEP201")["uuid"]]
    assert row.service_id == "btk-angioplasty-order-sign" and row.hook_instance == body["hookInstance"]
    assert row.rule_code == "HEP201" and row.indicator == "critical"
    assert row.patient_hash == hash_patient_id(store.salt(), PATIENT_ID) != PATIENT_ID


def test_hook_mismatch_is_a_400_that_says_so(client: TestClient) -> None:
    response = client.post(SIGN, json=hook_request("order-select", prefetch=full_prefetch()))
    assert_outcome(response, 400, "order-sign", "order-select")
    response = client.post(SELECT, json=hook_request("patient-view"))
    assert_outcome(response, 400, "hook")


def test_missing_draft_orders_is_a_400_that_says_so(client: TestClient) -> None:
    body = hook_request()
    del body["context"]["draftOrders"]
    assert_outcome(client.post(SIGN, json=body), 400, "draftOrders")


def test_draft_orders_that_are_not_a_bundle_is_a_400(client: TestClient) -> None:
    body = hook_request()
    body["context"]["draftOrders"] = {"resourceType": "MedicationRequest", "id": "x"}
    assert_outcome(client.post(SIGN, json=body), 400, "draftOrders")


def test_order_select_without_selections_is_a_400(client: TestClient) -> None:
    body = hook_request("order-select")
    del body["context"]["selections"]
    assert_outcome(client.post(SELECT, json=body), 400, "selections")


@pytest.mark.parametrize(
    ("payload", "word"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2, 3]", "JSON object"),
        (b'"order-sign"', "JSON object"),
        (b'{"hook": "order-sign"}', "hookInstance"),
        (b'{"hook": "order-sign", "hookInstance": "x", "context": []}', "context"),
        (b'{"hook": 5, "hookInstance": "x", "context": {}}', "hook"),
    ],
)
def test_malformed_requests_are_400_operation_outcomes(client: TestClient, payload: bytes, word: str) -> None:
    response = client.post(SIGN, content=payload, headers={"Content-Type": "application/json"})
    assert_outcome(response, 400, word)


def test_unknown_service_is_404(client: TestClient) -> None:
    assert_outcome(client.post("/cds-services/nope", json=hook_request()), 404, "nope")


def test_unknown_fields_are_tolerated(client: TestClient) -> None:
    body = hook_request(prefetch=full_prefetch())
    body["extension"] = {"com.example.timestamp": "2017-11-27T22:13:25Z"}
    body["somethingNew"] = {"a": 1}
    body["context"]["unknownContext"] = [1, 2]
    body["fhirAuthorization"] = None
    assert "HEP201" in codes(cards_of(client, body))


def test_draft_bundle_without_type_is_accepted(client: TestClient) -> None:
    body = hook_request(prefetch=full_prefetch())
    del body["context"]["draftOrders"]["type"]
    assert "HEP201" in codes(cards_of(client, body))


@pytest.mark.parametrize(
    "name",
    [
        "HL7__cds-hooks-library__order-sign.md-block00-Example-R4.json",
        "HL7__cds-hooks-library__order-sign.md-block01-Example-STU3.json",
        "HL7__cds-hooks-library__order-sign.md-block02-Example-DSTU2.json",
        "cds-hooks__docs__order-sign.md-block00-Example-R4.json",
        "cds-hooks__docs__order-sign.md-block01-Example-STU3.json",
        "cds-hooks__docs__order-sign.md-block02-Example-DSTU2.json",
        "cds-hooks__docs__current.md-block10-Example-prefetch-token.json",
    ],
)
def test_spec_order_sign_examples_get_cards_or_a_clear_400(client: TestClient, name: str) -> None:
    body = {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        **spec_example(name),
    }
    response = client.post(SIGN, json=body)
    if response.status_code == 400:
        assert_outcome(response, 400)
    else:
        assert response.status_code == 200, response.text
        for card in response.json()["cards"]:
            assert_spec_card(card)


@pytest.mark.parametrize(
    "name",
    [
        "HL7__cds-hooks-library__order-select.md-block00-Example-R4.json",
        "HL7__cds-hooks-library__order-select.md-block01-Example-STU3.json",
        "HL7__cds-hooks-library__order-select.md-block02-Example-DSTU2.json",
        "cds-hooks__docs__order-select.md-block00-Example-R4.json",
    ],
)
def test_spec_order_select_examples_get_cards_or_a_clear_400(client: TestClient, name: str) -> None:
    body = {
        "hook": "order-select",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        **spec_example(name),
    }
    response = client.post(SELECT, json=body)
    if response.status_code == 400:
        assert_outcome(response, 400)
    else:
        assert response.status_code == 200, response.text
        for card in response.json()["cards"]:
            assert_spec_card(card)


def test_r4_library_example_with_stu3_dose_shape_is_linted(client: TestClient) -> None:
    # The library's "R4" order-sign example puts doseQuantity directly under dosageInstruction (STU3 shape).
    body = {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        **spec_example("HL7__cds-hooks-library__order-sign.md-block00-Example-R4.json"),
    }
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.text


# --- prefetch: complete, partial, absent, null, refused -------------------------------------------------


def fhir_fields(server: FakeFhirServer) -> dict[str, Any]:
    return {
        "fhirServer": server.base_url,
        "fhirAuthorization": {
            "access_token": FHIR_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "orderlint",
        },
    }


def gap_card_text(cards: list[dict[str, Any]]) -> str:
    dq = [c for c in cards if c["source"]["topic"]["code"] == "DQ906"]
    assert dq, f"no DQ906 card in {codes(cards)}"
    return " ".join(c["summary"] + " " + c.get("detail", "") for c in dq)


def test_absent_prefetch_is_fetched_from_the_allowed_fhir_server(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    cards = cards_of(client, hook_request(**fhir_fields(fhir_server)))
    assert card_for(cards, "HEP201")["indicator"] == "critical"
    assert "DQ906" not in codes(cards)
    assert len(fhir_server.requests) == 6


def test_partial_prefetch_fetches_only_the_missing_keys(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    prefetch = full_prefetch()
    del prefetch["conditions"], prefetch["goals"]
    cards = cards_of(client, hook_request(prefetch=prefetch, **fhir_fields(fhir_server)))
    assert "HEP201" in codes(cards)
    assert sorted(p.split("?")[0] for p, _ in fhir_server.requests) == ["/fhir/Condition", "/fhir/Goal"]


def test_non_allowed_fhir_server_is_refused_and_the_card_says_what_was_not_checked(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    client = make_client(allowed_fhir_servers=["https://ehr.allowed.example/fhir"])
    cards = cards_of(client, hook_request(**fhir_fields(fhir_server)))
    assert fhir_server.requests == []
    assert "weight" in gap_card_text(cards).lower()
    assert "HEP201" not in codes(cards) or card_for(cards, "HEP201")["indicator"] != "critical"


def test_fhir_server_down_or_slow_is_not_a_500(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer
) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    fhir_server.routes["Observation"] = FhirRoute(200, full_prefetch()["weight"], delay_s=1.0)
    fhir_server.routes["Condition"] = FhirRoute(503, None)
    fhir_server.routes["Goal"] = FhirRoute(
        200, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
    )
    client = make_client(allowed_fhir_servers=[fhir_server.base_url], fhir_timeout_s=0.3)
    cards = cards_of(client, hook_request(**fhir_fields(fhir_server)))
    text = gap_card_text(cards).lower()
    assert "weight" in text and "condition" in text and "goal" in text


@pytest.mark.skipif("HEP202" not in RULES_BY_CODE, reason="HEP202 is not in the rule registry yet")
def test_null_weight_is_no_data_and_the_dose_cannot_be_verified(client: TestClient) -> None:
    prefetch = full_prefetch()
    prefetch["weight"] = None
    cards = cards_of(client, hook_request(prefetch=prefetch))
    assert "HEP201" not in codes(cards)
    # RULES.md HEP202: an absolute heparin dose with no body weight is a "could not verify" warning
    assert card_for(cards, "HEP202")["indicator"] == "warning"


def test_operation_outcome_weight_is_reported(client: TestClient) -> None:
    prefetch = full_prefetch()
    prefetch["weight"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "weight query timed out"}],
    }
    cards = cards_of(client, hook_request(prefetch=prefetch))
    assert "weight" in gap_card_text(cards).lower()


def test_tokens_and_patient_ids_are_never_logged(
    make_client: Callable[..., TestClient], fhir_server: FakeFhirServer, caplog: pytest.LogCaptureFixture
) -> None:
    fhir_routes_for_full_prefetch(fhir_server)
    fhir_server.routes["Condition"] = FhirRoute(500, None)
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    with caplog.at_level(logging.DEBUG):
        cards_of(client, hook_request(**fhir_fields(fhir_server)))
        client.post(SIGN, content=b"{bad json " + PATIENT_ID.encode(), headers={"Content-Type": "application/json"})
    assert FHIR_TOKEN not in caplog.text
    assert PATIENT_ID not in caplog.text


# --- feedback ------------------------------------------------------------------------------------------


def test_feedback_spec_examples_are_stored_and_unknown_cards_flagged(client: TestClient) -> None:
    cards = cards_of(client, hook_request(prefetch=full_prefetch()))
    card = card_for(cards, "HEP201")
    accepted = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2021-12-11T10:05:31Z",
            }
        ]
    }
    overridden = {  # the spec's override example, for a card we never issued, and a sandbox-style Coding
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "d7ecf885",
                        "system": "https://example.com/cds-hooks/override-reason-system",
                    },
                    "userComment": "A comment entered by the clinician.",
                },
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            }
        ]
    }
    response = client.post(SIGN + "/feedback", json=accepted)
    assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0, "unknownCards": []}
    response = client.post(SIGN + "/feedback", json=overridden)
    assert response.json() == {
        "stored": 1,
        "duplicates": 0,
        "unknownCards": ["9368d37b-283f-44a0-93ea-547cebab93ed"],
    }
    store = client.app.state.orderlint.store  # type: ignore[attr-defined]
    with store.sessions() as session:
        rows = {r.card_uuid: r for r in session.scalars(select(CardFeedback))}
    assert rows[card["uuid"]].known_card and rows[card["uuid"]].outcome == "accepted"
    unknown = rows["9368d37b-283f-44a0-93ea-547cebab93ed"]
    assert not unknown.known_card and unknown.override_code == "d7ecf885"
    assert unknown.user_comment == "A comment entered by the clinician."


@pytest.mark.parametrize(
    "item",
    [
        {"card": "c", "outcome": "ignored", "outcomeTimestamp": "2021-12-11T10:05:31Z"},
        {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2021-12-11T10:05:31Z"},
        {
            "card": "c",
            "outcome": "overridden",
            "overrideReason": {},
            "outcomeTimestamp": "2021-12-11T10:05:31Z",
        },
        {"card": "c", "outcome": "overridden"},
        {"outcome": "overridden", "outcomeTimestamp": "2021-12-11T10:05:31Z"},
    ],
)
def test_invalid_feedback_is_a_400(client: TestClient, item: dict[str, Any]) -> None:
    assert_outcome(client.post(SIGN + "/feedback", json={"feedback": [item]}), 400, "feedback[0]")


def test_feedback_for_an_unknown_service_is_404(client: TestClient) -> None:
    assert client.post("/cds-services/nope/feedback", json={"feedback": []}).status_code == 404


# --- body limit and CORS -------------------------------------------------------------------------------


def test_bodies_over_the_limit_get_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2000)
    big = hook_request(prefetch=full_prefetch())
    big["padding"] = "x" * 3000
    assert_outcome(client.post(SIGN, json=big), 413, "2000")

    def chunks() -> Any:  # no Content-Length: counted while reading
        for _ in range(10):
            yield b" " * 500

    assert client.post(SIGN, content=chunks(), headers={"Content-Type": "application/json"}).status_code == 413
    assert client.post(SIGN, json=hook_request(prefetch={})).status_code == 200


def test_cors_is_off_by_default(client: TestClient) -> None:
    response = client.options(
        "/cds-services", headers={"Origin": "https://ehr.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in client.get("/cds-services", headers={"Origin": "https://x"}).headers


def test_cors_allows_only_configured_origins(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=["https://ehr.example"])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = client.options(SIGN, headers={"Origin": "https://ehr.example", **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://ehr.example"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    other = client.options(SIGN, headers={"Origin": "https://evil.example", **preflight})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"


# --- authentication through the app --------------------------------------------------------------------


@pytest.fixture
def auth_client(make_client: Callable[..., TestClient], signer: Signer) -> TestClient:
    return make_client(trusted_issuers={signer.issuer: str(signer.jwks_path)})


def test_every_cds_endpoint_needs_a_token_when_auth_is_on(auth_client: TestClient) -> None:
    for response in (
        auth_client.get("/cds-services"),
        auth_client.post(SIGN, json=hook_request(prefetch=full_prefetch())),
        auth_client.post(SIGN + "/feedback", json={"feedback": []}),
        auth_client.post("/lint", content=b"{}"),
        auth_client.get("/cds-services", headers={"Authorization": "Basic abc"}),
    ):
        assert response.status_code == 401
        assert response.content == b""  # bare: no reason given
    assert auth_client.get("/healthz").status_code == 200


def test_valid_tokens_open_each_endpoint_for_its_own_url_once(auth_client: TestClient, signer: Signer) -> None:
    token = signer.token(f"{PUBLIC_BASE}/cds-services")
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 401  # replayed jti
    body = hook_request(prefetch=full_prefetch())
    wrong_aud = signer.token(f"{PUBLIC_BASE}/cds-services")
    assert auth_client.post(SIGN, json=body, headers=bearer(wrong_aud)).status_code == 401
    good = signer.token(f"{PUBLIC_BASE}{SIGN}", alg="RS384")
    assert auth_client.post(SIGN, json=body, headers=bearer(good)).status_code == 200
    feedback = {"feedback": [{"card": "c", "outcome": "overridden", "overrideReason": {"userComment": "no"},
                              "outcomeTimestamp": "2021-12-11T10:05:31Z"}]}  # fmt: skip
    fb_token = signer.token(f"{PUBLIC_BASE}{SIGN}/feedback")
    assert auth_client.post(SIGN + "/feedback", json=feedback, headers=bearer(fb_token)).status_code == 200


def test_expired_and_unknown_kid_tokens_are_401(auth_client: TestClient, signer: Signer) -> None:
    aud = f"{PUBLIC_BASE}/cds-services"
    assert auth_client.get("/cds-services", headers=bearer(signer.token(aud, exp_in=-300))).status_code == 401
    assert auth_client.get("/cds-services", headers=bearer(signer.token(aud, kid="nope"))).status_code == 401


# --- POST /lint ----------------------------------------------------------------------------------------


def draft_bundle() -> dict[str, Any]:
    entries = [heparin_order(), angioplasty_order()]
    weight = full_prefetch()["weight"]["entry"][0]["resource"]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in [*entries, weight]],
    }


def test_lint_returns_findings_json(client: TestClient) -> None:
    response = client.post("/lint", json=draft_bundle())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile"] == "btk-angioplasty"
    [order_set] = body["orderSets"]
    assert any("HEP201" in str(f) for f in order_set["findings"])


def test_lint_returns_an_operation_outcome_for_fhir_json(client: TestClient) -> None:
    response = client.post("/lint", json=draft_bundle(), headers={"Accept": "application/fhir+json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and "HEP201" in str(outcome)


def test_lint_rejects_unknown_profiles_and_garbage(client: TestClient) -> None:
    assert_outcome(client.post("/lint?profile=../../etc/passwd", json=draft_bundle()), 400, "profile")
    assert_outcome(client.post("/lint", content=b"\x00\x01 not fhir"), 400)
    assert_outcome(client.post("/lint", content=b""), 400, "empty")
    assert_outcome(client.post("/lint?mode=turbo", json=draft_bundle()), 400, "mode")
