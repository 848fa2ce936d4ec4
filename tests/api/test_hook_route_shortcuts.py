"""The hook route's shortcuts (issue 11 §3) give what the general code gives: the base URL Starlette would
build, the card records `CardRecord.from_card` would make, and an OpenAPI document that still names the
path parameter the handler now reads itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from linter.api.routes.hooks import base_url_of, card_record
from linter.store.repository import CardRecord

from .conftest import Signer, full_prefetch, hook_request


def _scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/cds-services/x",
        "query_string": b"a=b",
        "root_path": "",
        "headers": [(b"host", b"cds.example:8080")],
        "server": ("10.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"scheme": "https", "headers": [(b"host", b"cds.example")]},
        {"headers": []},
        {"headers": [], "server": ("::1", 8000)},
        {"headers": [], "server": ("10.0.0.1", 80)},
        {"headers": [], "server": None},
        {"headers": [(b"x-other", b"1"), (b"host", b"first:1"), (b"host", b"second:2")]},
        {"headers": [(b"host", b"not a host!")]},
        {"root_path": "/api"},
        {"root_path": "/api/", "app_root_path": "/outer"},
        {"server": ["10.0.0.2", 9000], "headers": []},
    ],
)
def test_base_url_is_starlette_s(overrides: dict[str, Any]) -> None:
    scope = _scope(**overrides)
    assert base_url_of(scope) == str(Request(scope).base_url)
    assert base_url_of(scope) == str(Request(scope).base_url)  # remembered: the same answer


def test_card_records_are_from_card_s_with_shared_reason_tuples(client: TestClient) -> None:
    answer = client.post("/cds-services/btk-angioplasty-order-sign", json=hook_request(prefetch=full_prefetch()))
    cards = answer.json()["cards"]
    assert len(cards) >= 2
    records = [card_record(c) for c in cards]
    assert records == [CardRecord.from_card(c) for c in cards]
    by_reasons: dict[tuple[Any, ...], int] = {}
    for again in (card_record(c) for c in cards):
        # equal reasons are one tuple: the card writer encodes each tuple once per batch
        assert by_reasons.setdefault(again.override_reasons, id(again.override_reasons)) == id(again.override_reasons)
    card = {**cards[0], "overrideReasons": [{"system": "s", "code": "c"}]}
    assert card_record(card) == CardRecord.from_card(card)  # no display: the code, as from_card writes it
    assert card_record({**cards[0], "overrideReasons": []}).override_reasons == ()
    no_reasons = {k: v for k, v in cards[0].items() if k != "overrideReasons"}
    assert card_record(no_reasons) == CardRecord.from_card(no_reasons)


def test_the_document_still_names_the_service_id_parameter(client: TestClient) -> None:
    post = client.get("/openapi.json").json()["paths"]["/cds-services/{service_id}"]["post"]
    assert post["parameters"] == [
        {"name": "service_id", "in": "path", "required": True, "schema": {"type": "string", "title": "Service Id"}}
    ]
    assert post["operationId"] == "call_service_cds_services__service_id__post"


def test_the_token_is_checked_before_the_service_and_the_body(
    make_client: Callable[..., TestClient], signer: Signer
) -> None:
    guarded = make_client(trusted_issuers={signer.issuer: str(signer.jwks_path)})
    for path, body in (("/cds-services/nope", b"{}"), ("/cds-services/btk-angioplasty-order-sign", b"not json")):
        answer = guarded.post(path, content=body)
        assert answer.status_code == 401 and answer.content == b""
