"""OpenAPI declarations for routes that read their body themselves (to answer any malformed body with a
400 OperationOutcome instead of FastAPI's own error shape): the request body each one expects and the
answers it gives, errors included, so that /openapi.json describes the service as it really behaves."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

OPERATION_OUTCOME: dict[str, Any] = {
    "type": "object",
    "title": "OperationOutcome",
    "description": "FHIR R4 OperationOutcome: what was wrong and, where it applies, the JSON path.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

_ERRORS: dict[int, str] = {
    400: "The body is not what this endpoint reads (not JSON, not the expected shape): an OperationOutcome "
    "naming the path.",
    401: "No valid bearer JWT (when trusted issuers are configured). Bare answer with `WWW-Authenticate`, no "
    "body, as the CDS Hooks security guidance asks.",
    404: "No CDS service with this id.",
    413: "The body is larger than ORDERLINT_MAX_BODY_BYTES.",
    500: "An internal error: the request was not processed.",
}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined (the models are not recursive)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def json_body(schema: dict[str, Any], *media_types: str, description: str = "") -> dict[str, Any]:
    """`openapi_extra` for a route that reads `request.body()` itself."""
    types = media_types or ("application/json",)
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {t: {"schema": schema} for t in types},
        }
    }


def answers(*errors: int, ok: dict[str, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its error answers (OperationOutcome, 401 bare) and, in `ok`, 200 bodies of
    media types beside the route's `response_model` (which FastAPI documents as application/json)."""
    out: dict[int | str, dict[str, Any]] = {}
    if ok:
        out[200] = {"content": {media: {"schema": schema} for media, schema in ok.items()}}
    for status in errors:
        entry: dict[str, Any] = {"description": _ERRORS[status]}
        if status != 401:
            entry["content"] = {"application/fhir+json": {"schema": OPERATION_OUTCOME}}
        out[status] = entry
    return out


FHIR_LINT_RESPONSE: dict[str, Any] = {
    "description": "With `Accept: application/fhir+json`: an OperationOutcome (one order set) or a Bundle of "
    "them (type collection, one entry per order set).",
    "oneOf": [
        OPERATION_OUTCOME,
        {
            "type": "object",
            "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]}, "entry": {"type": "array"}},
        },
    ],
}

LINT_BODY: dict[str, Any] = {
    "description": "A FHIR R4 Bundle, a single resource, a CDS Hooks request, or NDJSON (one resource per line).",
    "oneOf": [
        {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string"}}},
        {"type": "object", "required": ["hook", "context"]},
    ],
}
