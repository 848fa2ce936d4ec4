"""Pure ASGI middleware: reject bodies over the configured size with 413 before any parsing; answer an
unexpected exception with a 500 OperationOutcome without dropping the connection."""

from __future__ import annotations

import logging
import traceback

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linter.render.outcome import error_outcome

log = logging.getLogger("orderlint.api")


def _too_large_body(limit: int) -> bytes:
    return orjson.dumps(error_outcome(f"the request body is larger than {limit} bytes", None, "too-long"))


class BodyLimitMiddleware:
    """Reads the whole body (bounded) and replays it downstream; answers 413 when over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        body = _too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/fhir+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class ErrorOutcomeMiddleware:
    """The last word on an unexpected exception: a 500 OperationOutcome, and the exception goes no further.

    Starlette's own handler for `Exception` sends its answer and then re-raises (so that servers can log
    it); uvicorn, seeing an application raise after its response started, closes the socket. A client
    that reuses the keep-alive connection then loses its next, valid request to a reset. Here the
    exception stops: the connection stays usable. Logged: the exception type, the route template and the
    stack (file, line, function): never the message, which may quote request text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "(no route)")
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("internal error %s on %s %s\n%s", type(exc).__name__, scope.get("method"), route, frames)
            if finished:
                return  # e.g. a background task after the answer: the client has what it asked for
            if started:
                raise  # half an answer went out: only closing the connection ends it cleanly
            body = orjson.dumps(error_outcome("internal error; the request was not processed", None, "exception"))
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/fhir+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
