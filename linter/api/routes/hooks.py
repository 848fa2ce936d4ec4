"""POST /cds-services/{id}: order-select and order-sign calls, answered with cards.

A thin adapter: validate the request, complete the prefetch (linter.api.prefetch), build the order set
(linter.fhir_io), run the engine, render cards (linter.render.cards), record the cards issued.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import ClientDep, ServiceState, StateDep
from linter.api.medication_refs import fetch_referenced_medications
from linter.api.openapi import CARDS_RESPONSE, answers, inline_schema, json_body
from linter.api.prefetch import PrefetchResult
from linter.api.problems import ApiError, json_response
from linter.api.routes._body import json_object, validated
from linter.api.routes.rules import rule_url
from linter.api.schemas import HookRequest
from linter.api.services import PREFETCH_TEMPLATES, CdsService
from linter.engine import run as run_engine
from linter.fhir_io import order_set_from_hook
from linter.render.cards import cards_response
from linter.store.repository import CardRecord

log = logging.getLogger("orderlint.api.hooks")

router = APIRouter(tags=["cds-hooks"])


def find_service(state: ServiceState, service_id: str) -> CdsService:
    service = state.services.get(service_id)
    if service is None:
        raise ApiError(404, f"there is no CDS service '{service_id[:100]}'", None, "not-found")
    return service


def check_hook_request(service: CdsService, hook_request: HookRequest) -> None:
    if hook_request.hook != service.hook:
        raise ApiError(
            400,
            f"service '{service.id}' answers the '{service.hook}' hook, "
            f"but the request's hook is '{hook_request.hook[:60]}'",
            "hook",
        )
    if hook_request.context.draftOrders is None:
        raise ApiError(400, f"context.draftOrders is required by the {service.hook} hook", "context.draftOrders")
    if service.hook == "order-select" and not hook_request.context.selections:
        raise ApiError(400, "context.selections is required by the order-select hook", "context.selections")


def lint(
    state: ServiceState,
    service: CdsService,
    body: dict[str, Any],
    prefetch: PrefetchResult,
    base_url: str,
) -> dict[str, Any]:
    read = order_set_from_hook(
        body, prefetch=prefetch.data, gaps=tuple(prefetch.gaps), mode=state.settings.lint_mode
    )
    findings = run_engine(read.order_set, service.profile)
    profile_id = service.profile.id
    return cards_response(
        findings,
        read.order_set,
        service.profile,
        rule_url=lambda code: rule_url(base_url, code, profile_id),
        originals=read.originals,
    )


def record(state: ServiceState, service: CdsService, hook_request: HookRequest, response: dict[str, Any]) -> None:
    """Record the cards issued. Runs after the response is sent: the clinician does not wait for the
    database, and a database failure is logged, never turned into a missing card."""
    records = [CardRecord.from_card(c) for c in response["cards"]]
    if not records:
        return
    try:
        state.store.record_cards(service.id, hook_request.hookInstance, hook_request.context.patientId, records)
    except Exception as exc:
        log.error("could not record %d cards for %s: %s", len(records), service.id, type(exc).__name__)


@router.post(
    "/cds-services/{service_id}",
    summary="Call a CDS service (order-select or order-sign)",
    openapi_extra=json_body(inline_schema(HookRequest), description="A CDS Hooks 2.0 request."),
    responses=answers(CARDS_RESPONSE, "CDS Hooks cards.", 400, 401, 404, 413, 500),
)
async def call_service(service_id: str, request: Request, state: StateDep, _client: ClientDep) -> Response:
    service = find_service(state, service_id)
    body = json_object(await request.body(), "a CDS Hooks request")
    hook_request = validated(HookRequest, body)
    check_hook_request(service, hook_request)
    prefetch = await state.resolver.resolve(hook_request, PREFETCH_TEMPLATES)
    await fetch_referenced_medications(state.resolver, hook_request, body, prefetch)
    base_url = state.settings.public_base_url or str(request.base_url)
    response = await run_in_threadpool(lint, state, service, body, prefetch, base_url)
    reply = json_response(response)
    reply.background = BackgroundTask(record, state, service, hook_request, response)
    return reply
