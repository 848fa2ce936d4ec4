"""POST /cds-services/{id}/feedback: what the clinician did with our cards (CDS Hooks 2.0 §Feedback).

Exactly once: the same item sent again (a client retrying after a lost answer) is acknowledged and not
stored twice; a new outcome for a card is a new event of its history. Only the spec's fields are stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import ClientDep, ServiceDep, StoreDep
from linter.api.openapi import answers, inline_schema, json_body
from linter.api.problems import json_response
from linter.api.routes._body import json_object, validated
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
    response_description="every item stored once (now, or by an earlier identical call); cards this service "
    "never issued",
    responses=answers(400, 401, 404, 413, 500),
    openapi_extra=json_body(inline_schema(FeedbackRequest), description="CDS Hooks 2.0 feedback."),
)
async def feedback(request: Request, _client: ClientDep, service: ServiceDep, store: StoreDep) -> Response:
    body = validated(FeedbackRequest, json_object(await request.body(), "a CDS Hooks feedback body"))
    records = [_record(item) for item in body.feedback]
    result = await run_in_threadpool(store.record_feedback, service.id, records)
    # The spec defines no response body; we say what was stored and which cards we never issued.
    ack = FeedbackAck(stored=len(records), duplicates=result.duplicates, unknownCards=result.unknown_cards)
    return json_response(ack.model_dump())
