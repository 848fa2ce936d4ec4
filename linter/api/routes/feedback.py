"""POST /cds-services/{id}/feedback: what the clinician did with our cards (CDS Hooks 2.0 §Feedback).

Exactly once: the same item sent again (a client retrying after a lost answer) is acknowledged and not
stored twice; a new outcome for a card is a new event of its history. Only the spec's fields are stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import ClientDep, StateDep
from linter.api.problems import json_response
from linter.api.routes._body import json_object, validated
from linter.api.routes.hooks import find_service
from linter.api.schemas import FeedbackAck, FeedbackItem, FeedbackRequest
from linter.store.repository import FeedbackRecord

router = APIRouter(tags=["cds-hooks"])

DESCRIPTION = """\
Feedback on the cards this service issued, as the CDS Hooks 2.0 Feedback endpoint defines it
(`{"feedback": [...]}`, batched).

**Stored fields.** Only the spec's fields are kept: `card`, `outcome`, `acceptedSuggestions[].id`,
`overrideReason.reason` (`system`, `code`, `display`), `overrideReason.userComment` and `outcomeTimestamp`.
Any other field, at any level (a `patient` id, for instance), is accepted and **dropped, never stored**.
A reason given by `code` and `system` without `display` is stored with the display of the reason the card
offered. Override comments are kept for `ORDERLINT_FEEDBACK_COMMENT_DAYS` days (default 365).

**Exactly once.** An item identical in `card`, `outcome` and `outcomeTimestamp` to one already stored (a
client retry) is acknowledged and not stored again (`duplicates`). A later outcome for the same card (accepted,
then overridden) is a new event: the card's history is append-only, and statistics count its latest outcome.
Items for cards this service never issued are stored and listed in `unknownCards`.
"""


def _outcome_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "FHIR OperationOutcome",
        "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
        "required": ["resourceType", "issue"],
    }


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The model's JSON schema with its `$defs` references inlined (the request body lives in openapi_extra,
    which cannot add components; the feedback models are not recursive)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _request_schema() -> dict[str, Any]:
    schema = FeedbackRequest.model_json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/fhir+json": {"schema": _outcome_schema()}}}


OPENAPI_EXTRA = {
    # The body is read and validated by the route (a 400 OperationOutcome for anything else), so it is
    # described here rather than declared as a parameter.
    "requestBody": {"required": True, "content": {"application/json": {"schema": _request_schema()}}},
}

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "every item stored once (now, or by an earlier identical call)"},
    400: _error("not JSON, not a feedback body, or an item that breaks the spec (cds-fb-1..3)"),
    401: {"description": "authentication is on and the Bearer JWT is missing or invalid (no body)"},
    404: _error("no such CDS service"),
    413: _error("the body is larger than ORDERLINT_MAX_BODY_BYTES"),
}


def _record(item: FeedbackItem) -> FeedbackRecord:
    override = item.overrideReason
    reason = override.reason if override else None
    return FeedbackRecord(
        card_uuid=item.card,
        outcome=item.outcome,
        outcome_timestamp=item.outcomeTimestamp,
        accepted_suggestions=[s.id for s in item.acceptedSuggestions] if item.acceptedSuggestions else None,
        override_system=reason.system if reason else None,
        override_code=reason.code if reason else None,
        override_display=reason.display if reason else None,
        user_comment=override.userComment if override else None,
    )


@router.post(
    "/cds-services/{service_id}/feedback",
    summary="Record feedback on issued cards",
    description=DESCRIPTION,
    response_model=FeedbackAck,
    responses=RESPONSES,
    openapi_extra=OPENAPI_EXTRA,
)
async def feedback(service_id: str, request: Request, state: StateDep, _client: ClientDep) -> Response:
    service = find_service(state, service_id)
    body = validated(FeedbackRequest, json_object(await request.body(), "a CDS Hooks feedback body"))
    records = [_record(item) for item in body.feedback]
    result = await run_in_threadpool(state.store.record_feedback, service.id, records)
    # The spec defines no response body; we say what was stored and which cards we never issued.
    ack = FeedbackAck(stored=len(records), duplicates=result.duplicates, unknownCards=result.unknown_cards)
    return json_response(ack.model_dump())
