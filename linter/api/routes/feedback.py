"""POST /cds-services/{id}/feedback: what the clinician did with our cards (CDS Hooks 2.0 §Feedback)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import ClientDep, StateDep
from linter.api.openapi import FEEDBACK_RESPONSE, answers, inline_schema, json_body
from linter.api.problems import json_response
from linter.api.routes._body import json_object, validated
from linter.api.routes.hooks import find_service
from linter.api.schemas import FeedbackItem, FeedbackRequest
from linter.store.repository import FeedbackRecord

router = APIRouter(tags=["cds-hooks"])


def _record(item: FeedbackItem) -> FeedbackRecord:
    reason = item.overrideReason.reason if item.overrideReason else None
    extra = item.model_extra or None
    return FeedbackRecord(
        card_uuid=item.card,
        outcome=item.outcome,
        outcome_timestamp=item.outcomeTimestamp,
        accepted_suggestions=[s.id for s in item.acceptedSuggestions] if item.acceptedSuggestions else None,
        override_system=reason.system if reason else None,
        override_code=reason.code if reason else None,
        override_display=reason.display if reason else None,
        user_comment=item.overrideReason.userComment if item.overrideReason else None,
        extra=extra,
    )


@router.post(
    "/cds-services/{service_id}/feedback",
    openapi_extra=json_body(inline_schema(FeedbackRequest), description="CDS Hooks 2.0 feedback."),
    responses=answers(FEEDBACK_RESPONSE, "What was stored; cards this service never issued.", 400, 401, 404, 413, 500),
)
async def feedback(service_id: str, request: Request, state: StateDep, _client: ClientDep) -> Response:
    service = find_service(state, service_id)
    body = validated(FeedbackRequest, json_object(await request.body(), "a CDS Hooks feedback body"))
    records = [_record(item) for item in body.feedback]
    unknown = await run_in_threadpool(state.store.record_feedback, service.id, records)
    # The spec defines no response body; we say what was stored and which cards we never issued.
    return json_response({"stored": len(records), "unknownCards": unknown})
