"""Small FHIR builders shared by the rule tests."""

from __future__ import annotations

from typing import Any

UCUM = "http://unitsofmeasure.org"


def q(value: float, code: str | None = None, unit: str | None = None) -> dict[str, Any]:
    """A Quantity: UCUM `code` (with system) and/or a free-text `unit` (the code when none is given)."""
    out: dict[str, Any] = {"value": value}
    if unit or code:
        out["unit"] = unit or code
    if code:
        out["system"], out["code"] = UCUM, code
    return out
