"""Strict validation with fhir.resources: the only module that imports `fhir.resources.R4B`.

We use its `R4B` models: R4B (4.3) is wire-compatible with R4 (4.0.1) for every element orderlint reads
(MedicationRequest, Medication, ServiceRequest, Procedure, Observation, Condition, Goal, Patient, Bundle).
Limits of that choice: R4B validates a few R4-only shapes differently (e.g. R4B has no `MedicinalProduct*`
resources and renames some evidence resources); none of them carry order data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from linter.errors import InputError

# Strict mode validates the resource types orderlint reads; a Claim or an Encounter it never reads is not
# reported (it was not going to be checked anyway).
READ_TYPES = frozenset(
    {
        "MedicationRequest",
        "MedicationStatement",
        "Medication",
        "ServiceRequest",
        "Procedure",
        "Observation",
        "Condition",
        "Goal",
        "Patient",
        "Device",
    }
)


class InvalidFhir(InputError):
    """A resource orderlint generated is not valid FHIR. `log_text` is safe to log: the error kind and the
    path with any key the model does not define replaced (the message itself may quote request text)."""

    def __init__(self, message: str, path: str, kind: str, safe_path: str) -> None:
        super().__init__(message, path)
        self.log_text = f"{kind} at {safe_path}"


def _loc_path(loc: Iterable[Any], extra_last: bool = False) -> str:
    items = list(loc)
    parts: list[str] = []
    for n, item in enumerate(items):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            name = "<extra key>" if extra_last and n == len(items) - 1 else str(item)
            parts.append(("." if parts else "") + name)
    return "".join(parts)


def _first_error(resource: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """Validate one resource with fhir.resources R4B: (path, reason, error kind, log-safe path) of the
    first error. pydantic reports a location by the model's field names, except for an extra key (the last
    item of an `extra_forbidden` location), which the log-safe path replaces."""
    # Imported on first use: loading the R4B models costs about 0.35 s, which fast mode (the service) never needs.
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError  # with the models: a fast-mode start imports no pydantic (issue 11)

    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return ("resourceType", "missing resourceType", "missing", "resourceType")
    try:
        cls = get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return ("resourceType", f"'{rtype}' is not a FHIR R4 resource type", "unknown_type", "resourceType")
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = str(err.get("type", "invalid"))
        loc = err.get("loc", ())
        return (
            _loc_path(loc),
            str(err.get("msg", "invalid"))[:200],
            kind,
            _loc_path(loc, extra_last=kind == "extra_forbidden"),
        )
    except Exception as exc:  # fhir.resources raises its own errors for some shapes
        return ("", str(exc)[:200], type(exc).__name__, "")
    return None


def strict_error(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path, reason) of the first error (DQ904: the clinician's report names the field as sent)."""
    err = _first_error(resource)
    return None if err is None else (err[0], err[1])


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Raise InvalidFhir when `resource` is not valid FHIR R4 (used for suggestions we generate)."""
    err = _first_error(resource)
    if err is not None:
        raise InvalidFhir(f"generated resource is not valid FHIR: {err[1]}", err[0], err[2], err[3] or "$")
