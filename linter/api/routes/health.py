"""Liveness and readiness (no authentication: they reveal nothing)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from linter.api.deps import StoreDep
from linter.api.problems import json_response, outcome_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(store: StoreDep) -> Response:
    try:
        await run_in_threadpool(store.ping)
    except Exception as exc:  # any driver error means "not ready"
        return outcome_response(503, f"database unreachable ({type(exc).__name__})", None, "transient")
    return json_response({"status": "ready"})
