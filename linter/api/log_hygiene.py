"""Logs carry no request text (issue 10 item 3).

A log line names the route template, the rule code, the resource type, the error kind and a path made of
orderlint's own field names; never a value or a key name from a request, a prefetch, a FHIR server answer
or an upload. Two places need help to keep that promise:

- uvicorn's access log writes the raw request target (`/cds-services/<anything>?<anything>`) and method.
  `RouteScopeMiddleware` remembers the ASGI scope of the request being answered; `AccessLogFilter`, on the
  `uvicorn.access` logger, replaces the target with the matched route template and an unknown method with
  `OTHER`. uvicorn writes that line from inside the application's `send`, so the scope is still current.
- pydantic / fhir.resources validation errors quote the offending key (`Extra inputs are not permitted at
  subject.<a person's name>`) and sometimes the value: see `linter.fhir_io.InvalidFhir.log_text`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

_current_scope: ContextVar[Scope | None] = ContextVar("orderlint_request_scope", default=None)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(scope: Scope | None) -> str:
    """The route template that answered (`/cds-services/{service_id}`), never the requested path."""
    if scope is None:
        return "(no request)"
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "(no route)"


def method_of(scope: Scope | None) -> str:
    method = scope.get("method") if scope is not None else None
    return method if method in METHODS else "OTHER"


class RouteScopeMiddleware:
    """Outermost: makes the request's scope visible to the log filter while the request is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _current_scope.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_scope.reset(token)


class AccessLogFilter(logging.Filter):
    """uvicorn's access line: `%s - "%s %s HTTP/%s" %d` (client, method, target, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            scope = _current_scope.get()
            client, _method, _target, version, status = args
            record.args = (client, method_of(scope), route_of(scope), version, status)
        elif args:  # a shape we do not know: keep the event, drop its arguments
            record.msg, record.args = "access (details withheld)", ()
        return True


_ACCESS_FILTER = AccessLogFilter()


def install_access_log_filter() -> None:
    """Idempotent: every app (and every uvicorn worker) installs it once."""
    logger = logging.getLogger("uvicorn.access")
    if _ACCESS_FILTER not in logger.filters:
        logger.addFilter(_ACCESS_FILTER)
