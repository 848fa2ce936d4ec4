"""The CDS Hooks call without FastAPI's router: innermost middleware, so every middleware of linter.api.main
still wraps it (route scope, CORS, security headers, session, body limit, the 500 OperationOutcome).

`POST /cds-services/{service_id}` goes straight to linter.api.routes.hooks.answer_hook, as the route would
call it: the same `scope["route"]` and path parameter, the app's exception handlers (ApiError, 401 ...) looked
up as Starlette's ExceptionMiddleware does, the same Response. Anything else (another path or method, a
root path to strip, FastAPI's telemetry switched on) takes the normal way. The router's matching, dependency
solving and per-route wrappers cost about as much CPU as the rest of a request outside the lint.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from linter.api.routes import hooks

# Starlette's pattern for "/cds-services/{service_id}" (a `str` parameter: no slash, not empty)
_HOOK_PATH = re.compile(r"/cds-services/([^/]+)")
_HOOK_ROUTE = next(r for r in hooks.router.routes if getattr(r, "path", None) == "/cds-services/{service_id}")


def _handler_for(app: Any, exc: Exception) -> Any:
    """The handler Starlette's ExceptionMiddleware would pick: by status code for an HTTPException, else by
    the exception's class (nearest first); 500 and Exception handlers belong to ServerErrorMiddleware."""
    handlers = app.exception_handlers
    if isinstance(exc, HTTPException) and exc.status_code in handlers and exc.status_code != 500:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception:
            break
        if cls in handlers:
            return handlers[cls]
    return None


class HookFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope.get("root_path")
            and scope.get("fastapi.telemetry") is None
        ):
            match = _HOOK_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        service_id = match[1]
        scope["route"] = _HOOK_ROUTE  # what the router sets: the access log names the route template
        scope["endpoint"] = hooks.call_service
        scope["path_params"] = {"service_id": service_id}
        request = Request(scope, receive)
        try:
            response = await hooks.answer_hook(request, service_id)
        except Exception as exc:
            handler = _handler_for(scope["app"], exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)
