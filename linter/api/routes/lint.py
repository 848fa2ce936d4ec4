"""POST /lint: the pharmacist upload API. Bundle, single resource, NDJSON or a CDS Hooks request in;
findings as JSON out, or FHIR OperationOutcome(s) with `Accept: application/fhir+json`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import ClientDep, ProfileDep
from linter.api.openapi import FHIR_LINT_RESPONSE, LINT_BODY, answers, json_body
from linter.api.problems import FHIR_JSON, ApiError, json_response
from linter.api.responses import LintResponse
from linter.engine import run as run_engine
from linter.fhir_io import order_sets_from_bytes
from linter.profiles import Profile
from linter.render.outcome import operation_outcome, outcome_document
from linter.render.report import findings_json

router = APIRouter(tags=["lint"])


def _lint(
    data: bytes,
    profile: Profile,
    mode: Literal["fast", "strict"],
    context: Literal["btk", "pad"] | None,
    fhir: bool,
) -> tuple[Any, str]:
    order_sets = order_sets_from_bytes(data, "upload", mode=mode, context=context)
    results = [(order_set, run_engine(order_set, profile)) for order_set in order_sets]
    if fhir:
        outcomes = [operation_outcome(findings, order_set) for order_set, findings in results]
        return outcome_document(outcomes), FHIR_JSON
    body = {
        "profile": profile.id,
        "orderSets": [
            {"source": order_set.source, "findings": findings_json(findings, order_set)}
            for order_set, findings in results
        ],
    }
    return body, "application/json"


@router.post(
    "/lint",
    summary="Lint an upload: Bundle, resource, CDS Hooks request or NDJSON",
    openapi_extra=json_body(LINT_BODY, "application/json", "application/fhir+json"),
    response_model=LintResponse,
    response_description="Findings per order set.",
    responses=answers(400, 401, 413, 500, ok={FHIR_JSON: FHIR_LINT_RESPONSE}),
)
async def lint(
    request: Request,
    _client: ClientDep,
    profile: ProfileDep,
    mode: Literal["fast", "strict"] = "strict",
    context: Literal["btk", "pad"] | None = None,
) -> Response:
    data = await request.body()
    if not data.strip():
        raise ApiError(400, "the request body is empty; expected a FHIR Bundle, resource or NDJSON", "$")
    fhir = FHIR_JSON in request.headers.get("accept", "")
    body, media_type = await run_in_threadpool(_lint, data, profile, mode, context, fhir)
    return json_response(body, media_type=media_type)  # pre-serialized: FastAPI does not re-validate it
