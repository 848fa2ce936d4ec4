"""Every error answer is a FHIR OperationOutcome: one exception type, one place that renders it."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from linter.errors import InputError
from linter.render.outcome import error_outcome

FHIR_JSON = "application/fhir+json"


class ApiError(Exception):
    def __init__(self, status: int, message: str, path: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.path = path
        self.code = code


def outcome_response(status: int, message: str, path: str | None = None, code: str = "invalid") -> Response:
    body = orjson.dumps(error_outcome(message, path, code))
    return Response(body, status_code=status, media_type=FHIR_JSON)


def json_response(body: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def validation_message(exc: ValidationError | RequestValidationError, prefix: str = "") -> tuple[str, str]:
    """First error as (message, JSON path). The offending value is not echoed (it may be patient data)."""
    errors = exc.errors()
    if not errors:
        return "the request is not valid", prefix or "$"
    first = errors[0]
    parts: list[str] = []
    for item in first.get("loc", ()):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    path = (prefix + ("." if prefix and parts and not parts[0].startswith("[") else "") + "".join(parts)) or "$"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{path}: {first.get('msg', 'invalid')}{more}", path


_STATUS_CODES = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 413: "too-long"}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return outcome_response(exc.status, exc.message, exc.path, exc.code)

    @app.exception_handler(InputError)
    async def _input_error(_request: Request, exc: InputError) -> Response:
        return outcome_response(400, exc.message, exc.path)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_request: Request, exc: RequestValidationError) -> Response:
        message, path = validation_message(exc)
        return outcome_response(400, message, path)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401:  # bare 401: no reason given (CDS Hooks best practices)
            challenge = (exc.headers or {}).get("WWW-Authenticate", "Bearer")  # Basic for the workbench
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        code = _STATUS_CODES.get(exc.status_code, "processing")
        response = outcome_response(exc.status_code, str(exc.detail), None, code)
        response.headers.update(exc.headers or {})  # Allow on 405, Location on the workbench's login redirect
        return response

    # Any other exception: linter.api.middleware.ErrorOutcomeMiddleware (a 500 that keeps the connection).
