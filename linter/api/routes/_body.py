"""Reading a JSON object body with a 400 OperationOutcome for anything else."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from linter.api.problems import ApiError, validation_message

ModelT = TypeVar("ModelT", bound=BaseModel)


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    if not raw.strip():
        raise ApiError(400, f"the request body is empty; expected {what}", "$")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc.msg}, char {exc.pos})", "$") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object: {what}", "$")
    return body


def validated(model: type[ModelT], body: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        message, path = validation_message(exc)
        raise ApiError(400, message, path) from None
