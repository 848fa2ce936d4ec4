"""The feedback endpoint through TestClient on SQLite and PostgreSQL: a plain retry is stored once and
acknowledged twice, unknown fields are dropped, the sandbox's reason without display gets the card's display,
patient ids appear in no table, and the OpenAPI document says what is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select

from linter.settings import Settings
from linter.store.models import CardFeedback, IssuedCard
from linter.store.repository import Store, hash_patient_id
from tests.api.conftest import PATIENT_ID, full_prefetch, hook_request

SIGN = "/cds-services/btk-angioplasty-order-sign"
MARKER = "Patient/zz-marker-8812"
SALT = "feedback-test-salt"


@pytest.fixture
def client(database_url: str, tmp_path: Any) -> Iterator[TestClient]:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, patient_id_salt=SALT, upload_dir=str(tmp_path / "up")
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def store_of(client: TestClient) -> Store:
    store: Store = client.app.state.orderlint.store  # type: ignore[attr-defined]
    return store


def issued_cards(client: TestClient, patient_id: str = PATIENT_ID) -> list[dict[str, Any]]:
    """A hook call whose patient id is `patient_id` everywhere: context, order subjects, prefetch, token."""
    body = hook_request(prefetch=full_prefetch())
    body["fhirAuthorization"] = {"access_token": "t0k", "token_type": "Bearer", "patient": PATIENT_ID}
    body = json.loads(json.dumps(body).replace(PATIENT_ID, patient_id))
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    assert cards and all("overrideReasons" in c for c in cards)
    return cards


def with_suggestion(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in cards if c.get("suggestions"))


def every_stored_value(engine: Engine) -> str:
    """Every row of every table in the database (whatever tables exist, ours or added later), as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(f"{t.name}: {conn.execute(select(t)).all()}" for t in metadata.sorted_tables)


def test_a_retried_batch_is_stored_once_and_acknowledged_both_times(client: TestClient) -> None:
    card = with_suggestion(issued_cards(client))
    batch = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-11-21T10:05:31Z",
            },
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"userComment": "changed my mind"},
                "outcomeTimestamp": "2026-11-21T10:07:00Z",
            },
        ]
    }
    first = client.post(SIGN + "/feedback", json=batch)
    retry = client.post(SIGN + "/feedback", json=batch)
    assert first.status_code == retry.status_code == 200
    assert first.json() == {"stored": 2, "duplicates": 0, "unknownCards": []}
    assert retry.json() == {"stored": 2, "duplicates": 2, "unknownCards": []}
    history = store_of(client).card_history(card["uuid"])
    assert [e.outcome for e in history] == ["accepted", "overridden"]  # append-only: both events, once each


def test_unknown_fields_are_dropped_at_every_level_and_no_table_holds_a_patient_id(client: TestClient) -> None:
    card = issued_cards(client, patient_id=MARKER)[0]
    offered = card["overrideReasons"][0]
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"system": offered["system"], "code": offered["code"], "patient": MARKER},
            "userComment": "override",
            "patient": MARKER,
        },
        "outcomeTimestamp": "2026-11-21T10:05:31Z",
        "patient": MARKER,
        "extension": {"subject": {"reference": MARKER}},
        MARKER: "a key named after the patient",
    }
    response = client.post(SIGN + "/feedback", json={"feedback": [item], "patient": MARKER})
    assert response.status_code == 200, response.text
    store = store_of(client)
    dump = every_stored_value(store.engine)
    assert "zz-marker-8812" not in dump
    assert hash_patient_id(SALT, MARKER) in dump  # the cards carry the salted HMAC, and only that
    with store.sessions() as session:
        row = session.scalars(select(CardFeedback)).one()
        issued = session.scalars(select(IssuedCard).where(IssuedCard.card_uuid == card["uuid"])).one()
    assert issued.patient_hash == hash_patient_id(SALT, MARKER)
    assert (row.override_code, row.override_display) == (offered["code"], offered["display"])
    assert {c.name for c in CardFeedback.__table__.columns} == {
        "id",
        "service_id",
        "card_uuid",
        "known_card",
        "outcome",
        "accepted_suggestions",
        "override_system",
        "override_code",
        "override_display",
        "user_comment",
        "outcome_timestamp",
        "received_at",
    }


def test_the_sandbox_override_is_stored_with_the_display_the_card_offered(client: TestClient) -> None:
    card = issued_cards(client)[0]
    offered = card["overrideReasons"][-1]
    sandbox_item = {  # card-list.jsx: reason with code and system only
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": offered["code"], "system": offered["system"]}},
        "outcomeTimestamp": "2026-11-21T10:05:31.123Z",
    }
    assert client.post(SIGN + "/feedback", json={"feedback": [sandbox_item]}).status_code == 200
    (event,) = store_of(client).card_history(card["uuid"])
    assert event.override_display == offered["display"] and event.override_display
    page = client.get("/dashboard")
    assert page.status_code == 200 and offered["display"] in page.text


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"card": "x" * 201}, "card"),
        ({"card": "nul\u0000card"}, "nul"),
        ({"overrideReason": {"userComment": "a\u0000b"}}, "nul"),
        ({"outcomeTimestamp": "9999-12-31T23:59:59-05:00"}, "range"),
    ],
)
def test_values_the_database_cannot_hold_are_a_400_not_a_500(
    client: TestClient, change: dict[str, Any], word: str
) -> None:
    item = {"card": "c", "outcome": "overridden", "overrideReason": {"userComment": "no"}}
    item |= {"outcomeTimestamp": "2026-11-21T10:05:31Z", **change}
    response = client.post(SIGN + "/feedback", json={"feedback": [item]})
    assert response.status_code == 400, response.text
    assert word in response.text.lower() and "feedback[0]" in response.text


def test_openapi_describes_the_feedback_body_and_says_unknown_fields_are_dropped(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    operation = doc["paths"]["/cds-services/{service_id}/feedback"]["post"]
    assert "dropped, never stored" in operation["description"]
    assert "ORDERLINT_FEEDBACK_COMMENT_DAYS" in operation["description"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    item = body["properties"]["feedback"]["items"]
    assert set(item["properties"]) == {"card", "outcome", "acceptedSuggestions", "overrideReason", "outcomeTimestamp"}
    assert "$ref" not in str(body)
    assert {"200", "400", "401", "404", "413"} <= set(operation["responses"])
    ack_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]  # response_model
    ack = doc["components"]["schemas"][ack_ref.removeprefix("#/components/schemas/")]
    assert set(ack["required"]) == {"stored", "duplicates", "unknownCards"}
