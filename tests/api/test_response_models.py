"""The response models are the OpenAPI contract (linter.api.responses): real answers must fit them, field for
field (no undeclared field anywhere), and the document must name them. Also: the typed dependencies (one
profile choice, stores built at start-up) and the hook request validated once, at the boundary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from linter.api.responses import CardsResponse, LintResponse
from linter.api.routes import hooks
from linter.api.routes.rules import rule_url
from linter.api.schemas import FeedbackAck
from linter.engine import run
from linter.fhir_io import load_bytes
from linter.profiles import DEFAULT_PROFILE, load_profile
from linter.render.cards import cards_response
from tests.conftest import FIXTURES
from tests.workbench.web import use_csrf

from .conftest import PUBLIC_BASE, full_prefetch, hook_request


def undeclared(model: BaseModel, path: str = "$") -> list[str]:
    """Every field of the validated answer that its model does not declare (extra="allow" keeps them)."""
    found = [f"{path}.{key}" for key in model.model_extra or {}]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                found += undeclared(item, f"{path}.{name}" + (f"[{i}]" if isinstance(value, list) else ""))
    return found


def fits(model: type[BaseModel], answer: Any) -> None:
    validated = model.model_validate(answer)
    assert undeclared(validated) == []
    assert validated.model_dump(mode="json", exclude_unset=True) == answer  # nothing coerced or lost


def test_every_fixture_s_cards_fit_the_cards_model() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    with_suggestions = 0
    for path in sorted(FIXTURES.glob("*/*.json")):
        for read in load_bytes(path.read_bytes(), path.name, mode="fast").read:
            findings = run(read.order_set, profile)
            answer = cards_response(
                findings,
                read.order_set,
                profile,
                rule_url=lambda code: rule_url(PUBLIC_BASE, code, profile.id),
                originals=read.originals,
            )
            fits(CardsResponse, answer)
            with_suggestions += sum(1 for card in answer["cards"] if "suggestions" in card)
    assert with_suggestions > 10  # the suggestion and action models were exercised


def test_service_answers_fit_their_models(client: TestClient) -> None:
    answer = client.post("/cds-services/btk-angioplasty-order-sign", json=hook_request(prefetch=full_prefetch()))
    assert answer.status_code == 200
    fits(CardsResponse, answer.json())
    card = answer.json()["cards"][0]
    feedback = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:00:00Z"}
    feedback["overrideReason"] = {"userComment": "reviewed"}
    ack = client.post("/cds-services/btk-angioplasty-order-sign/feedback", json={"feedback": [feedback]})
    assert ack.status_code == 200
    fits(FeedbackAck, ack.json())
    for name in ("hooks/order-sign-heparin-overdose.json", "AT101/fail-1000mg-per-day-critical.json"):
        linted = client.post("/lint", content=(FIXTURES / name).read_bytes())
        assert linted.status_code == 200
        fits(LintResponse, linted.json())
        assert linted.json()["orderSets"][0]["findings"]


def test_the_openapi_document_names_the_response_models(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()

    def ok_schema(path: str) -> dict[str, Any]:
        schema: dict[str, Any] = doc["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
        return schema["schema"]

    assert ok_schema("/cds-services/{service_id}") == {"$ref": "#/components/schemas/CardsResponse"}
    assert ok_schema("/cds-services/{service_id}/feedback") == {"$ref": "#/components/schemas/FeedbackAck"}
    assert ok_schema("/lint") == {"$ref": "#/components/schemas/LintResponse"}
    lint_200 = doc["paths"]["/lint"]["post"]["responses"]["200"]["content"]
    assert "application/fhir+json" in lint_200  # the OperationOutcome answer is declared beside it
    card = doc["components"]["schemas"]["Card"]
    assert {"uuid", "summary", "indicator", "source", "suggestions", "overrideReasons"} <= set(card["properties"])
    assert set(card["required"]) == {"summary", "indicator", "source"}


# --- dependencies ---------------------------------------------------------------------------------------


def test_one_profile_choice_for_lint_and_workbench(client: TestClient) -> None:
    use_csrf(client)
    body = (FIXTURES / "AT101" / "fail-1000mg-per-day-critical.json").read_bytes()
    for answer in (
        client.post("/lint?profile=no-such-profile", content=body),
        client.post("/workbench/jobs", json={"profile": "no-such-profile", "files": [{"name": "a.json", "size": 2}]}),
    ):
        assert answer.status_code == 400
        issue = answer.json()["issue"][0]
        assert issue["diagnostics"].startswith("unknown profile 'no-such-profile'; loaded profiles: ")
        assert issue["expression"] == ["profile"]
    assert client.post("/lint?profile=btk-angioplasty-jp", content=body).json()["profile"] == "btk-angioplasty-jp"


def test_each_app_has_its_own_job_store_built_at_start_up(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    first = use_csrf(make_client(upload_dir=str(tmp_path / "one")))
    second = use_csrf(make_client(upload_dir=str(tmp_path / "two")))
    stores = [c.app.state.orderlint.jobs for c in (first, second)]  # type: ignore[attr-defined]
    assert [s.root for s in stores] == [tmp_path / "one", tmp_path / "two"]
    created = first.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 2}]})
    assert created.status_code == 201
    assert (tmp_path / "one" / created.json()["id"]).is_dir()
    assert second.get(f"/workbench/jobs/{created.json()['id']}").status_code == 404


# --- the hook request, validated once ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "path"),
    [
        ({"resourceType": "Parameters"}, "context.draftOrders"),
        ([{"resourceType": "MedicationRequest"}], "context.draftOrders"),
        ("Bundle", "context.draftOrders"),
    ],
)
def test_a_draft_orders_that_is_no_bundle_is_refused_by_the_request_model(
    client: TestClient, draft: Any, path: str
) -> None:
    body = hook_request()
    body["context"]["draftOrders"] = draft
    answer = client.post("/cds-services/btk-angioplasty-order-sign", json=body)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/fhir+json")
    assert answer.json()["issue"][0]["expression"] == [path]


def test_the_reader_gets_the_validated_request(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader is handed the objects the request model validated (not a second parse of the body), and
    unknown fields, tolerated by the spec, do not reach it."""
    seen: list[Any] = []
    real = hooks.order_set_from_hook

    def spy(request: Any, **kwargs: Any) -> Any:
        seen.append(request)
        return real(request, **kwargs)

    monkeypatch.setattr(hooks, "order_set_from_hook", spy)
    body = hook_request(extraTopLevel={"x": 1})
    body["context"]["somethingNew"] = True
    answer = client.post("/cds-services/btk-angioplasty-order-sign", json=body)
    assert answer.status_code == 200
    (given,) = seen
    assert set(given) == {"hook", "hookInstance", "context", "prefetch"}
    assert "somethingNew" not in given["context"]
    assert given["context"]["draftOrders"]["entry"] == body["context"]["draftOrders"]["entry"]
