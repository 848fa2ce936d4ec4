"""POST /cds-services/{id}: order-select and order-sign calls, answered with cards.

A thin adapter: validate the request, complete the prefetch (linter.api.prefetch), build the order set
(linter.fhir_io), run the engine, render cards (linter.render.cards), record the cards issued.

The lint is CPU work of a few milliseconds for a usual order set (20 drafts: ~2-3 ms): it runs on the event
loop, where a hop to the thread pool and back cost more than it saved (issue 11 §3; the GIL gives the thread
no parallelism). A request over INLINE_MAX_BYTES still gets one hop, so a huge order set cannot stall the
loop. The cards issued are queued for the store's batch writer (linter.store.repository.CardWriter).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.responses import Response
from starlette.types import Scope

from linter.api.deps import hook_call
from linter.api.medication_refs import fetch_referenced_medications
from linter.api.openapi import answers, inline_schema, json_body
from linter.api.prefetch import PrefetchResult
from linter.api.problems import ApiError, json_response
from linter.api.responses import CardsResponse
from linter.api.routes._body import json_object, validated
from linter.api.routes.rules import rule_urls
from linter.api.schemas import HookRequest
from linter.api.services import PREFETCH_TEMPLATES, CdsService
from linter.engine import run as run_engine
from linter.fhir_io import Mode, order_set_from_hook
from linter.fixes import suggestion_actions
from linter.render.cards import RuleUrl, cards_response
from linter.store.repository import CardRecord, OfferedReason, Store

router = APIRouter(tags=["cds-hooks"])

INLINE_MAX_BYTES = 64 * 1024  # ~5x the 20-draft order-sign of bench/service_load.py (13 KB, ~2-3 ms of lint)
# FastAPI documents the path parameter of a route whose handler declares it; this one reads it from the
# request (see call_service), so the document names it here, as FastAPI did.
SERVICE_ID_PARAMETER = {
    "name": "service_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "title": "Service Id"},
}


@lru_cache(maxsize=64)
def _base_url(scheme: str, server: tuple[Any, ...] | None, host: bytes | None, root_path: str) -> str:
    # exactly what Starlette's `request.base_url` reads from the scope, nothing else
    scope = {
        "scheme": scheme,
        "server": server,
        "path": root_path if root_path.endswith("/") else root_path + "/",
        "query_string": b"",
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(URL(scope=scope))


def base_url_of(scope: Scope) -> str:
    """`str(request.base_url)`, remembered per scheme, server, Host header and root path (a few per
    deployment): Starlette builds it from a copy of the scope on every request (~10 us)."""
    host = None
    for key, value in scope["headers"]:
        if key == b"host":
            host = value
            break
    server = scope.get("server")
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return _base_url(scope.get("scheme", "http"), tuple(server) if server else None, host, root_path)


@lru_cache(maxsize=64)
def _rule_links(base_url: str, profile_id: str) -> RuleUrl:
    return rule_urls(base_url, profile_id)


def check_hook_request(service: CdsService, hook_request: HookRequest) -> None:
    """What the service's hook requires beyond the request's shape (HookRequest checked that)."""
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
    service: CdsService,
    hook_request: HookRequest,
    prefetch: PrefetchResult,
    mode: Mode,
    rule_url: RuleUrl,
) -> dict[str, Any]:
    read = order_set_from_hook(hook_request.reader_view(), prefetch=prefetch.data, gaps=tuple(prefetch.gaps), mode=mode)
    findings = run_engine(read.order_set, service.profile)
    return cards_response(
        findings,
        read.order_set,
        service.profile,
        actions_for=suggestion_actions,
        rule_url=rule_url,
        originals=read.originals,
    )


@lru_cache(maxsize=256)
def _offered(reasons: tuple[tuple[Any, Any, Any], ...]) -> tuple[OfferedReason, ...]:
    return tuple(OfferedReason(str(system), str(code), str(display or code)) for system, code, display in reasons)


OFFERED_CACHE_SIZE = 256
_offered_by_list: dict[int, tuple[list[Any], tuple[OfferedReason, ...]]] = {}


def _offered_for(listed: list[Any]) -> tuple[OfferedReason, ...]:
    """The records of a card's `overrideReasons` list. linter.render.cards shares one read-only list among the
    cards that offer the same reasons: it is read once, then found by identity (the list kept alive here)."""
    hit = _offered_by_list.get(id(listed))
    if hit is not None and hit[0] is listed:
        return hit[1]
    reasons = _offered(tuple([(r["system"], r["code"], r.get("display")) for r in listed]))
    if len(_offered_by_list) >= OFFERED_CACHE_SIZE:
        _offered_by_list.clear()
    _offered_by_list[id(listed)] = (listed, reasons)
    return reasons


def card_record(card: dict[str, Any]) -> CardRecord:
    """`CardRecord.from_card`, with one tuple of override reasons per distinct list: a rule offers the same
    reasons on every card, and the card writer encodes each tuple (JSON) once per batch, by identity."""
    listed = card.get("overrideReasons")
    reasons = _offered_for(listed) if listed else ()
    return CardRecord(card["uuid"], card["source"]["topic"]["code"], card["indicator"], reasons)


def record(store: Store, service: CdsService, hook_request: HookRequest, response: dict[str, Any]) -> None:
    """Queue the cards issued for the batch writer: the clinician does not wait for the database, and a
    database failure is logged by the writer, never turned into a missing card."""
    cards = response["cards"]
    if cards:
        records = [card_record(c) for c in cards]
        store.queue_cards(service.id, hook_request.hookInstance, hook_request.context.patientId, records)


@router.post(
    "/cds-services/{service_id}",
    summary="Call a CDS service (order-select or order-sign)",
    openapi_extra={
        "parameters": [SERVICE_ID_PARAMETER],
        **json_body(inline_schema(HookRequest), description="A CDS Hooks 2.0 request."),
    },
    response_model=CardsResponse,
    response_description="CDS Hooks cards.",
    responses=answers(400, 401, 404, 413, 500),
)
async def call_service(request: Request) -> Response:
    # No FastAPI dependency and no declared path parameter: FastAPI would solve and validate them on every
    # call (issue 11 §3). A POST normally reaches answer_hook through HookFastPath, without the router.
    return await answer_hook(request, request.path_params["service_id"])


async def answer_hook(request: Request, service_id: str) -> Response:
    # hook_call makes the checks a dependency would, in the same order (401, then 404).
    call = await hook_call(service_id, request)
    service, settings, store, resolver = call.service, call.settings, call.store, call.resolver
    raw = await request.body()
    hook_request = validated(HookRequest, json_object(raw, "a CDS Hooks request"))  # the one validation
    check_hook_request(service, hook_request)
    prefetch = await resolver.resolve(hook_request, PREFETCH_TEMPLATES)
    await fetch_referenced_medications(resolver, hook_request, prefetch)
    links = _rule_links(settings.public_base_url or base_url_of(request.scope), service.profile.id)
    if len(raw) <= INLINE_MAX_BYTES:
        response = lint(service, hook_request, prefetch, settings.lint_mode, links)
    else:
        response = await run_in_threadpool(lint, service, hook_request, prefetch, settings.lint_mode, links)
    record(store, service, hook_request, response)
    return json_response(response)  # pre-serialized: FastAPI does not re-validate a returned Response
