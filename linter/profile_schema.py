"""The pydantic schema a profile TOML is validated by (unknown keys rejected). linter.profiles imports it only
to validate a profile that is not one of the shipped ones (linter/profiles_validated.py holds theirs), so a
lint of a shipped profile builds none of these models. The class names are the ones in the error messages
("Input should be a valid dictionary or instance of RuleConfig"): keep them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from linter.errors import ProfileError
from linter.model import Indicator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConfig(_Strict):
    enabled: bool = True
    # Map the indicator a rule produces to the one this institution wants (e.g. {"warning" = "info"}).
    indicator_overrides: dict[Indicator, Indicator] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    cite: dict[str, str] = Field(default_factory=dict)
    note: str = ""


class RegimenTemplate(_Strict):
    drug: str
    rxnorm: str
    display: str
    dose: float
    unit: str
    unit_display: str
    frequency: int
    period: float
    period_unit: Literal["h", "d", "wk"]
    route: Literal["oral", "intravenous", "intra_arterial", "subcutaneous"]
    duration_days: int | None = None
    text: str
    cite: str


class OrderTemplate(_Strict):
    text: str
    codings: list[dict[str, str]] = Field(default_factory=list)
    category_text: str = ""
    cite: str


class Profile(_Strict):
    id: str
    title: str
    description: str
    version: str
    status: Literal["draft", "active", "retired"]
    date: date
    publisher: str
    extends: str | None = None
    regimens: dict[str, RegimenTemplate] = Field(default_factory=dict)
    orders: dict[str, OrderTemplate] = Field(default_factory=dict)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)
    path: str = ""

    @field_validator("version")
    @classmethod
    def _calendar_version(cls, v: str) -> str:
        parts = v.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            raise ValueError("version must be a calendar version YYYY.MINOR.PATCH, e.g. 2026.1.0")
        return v


def validated(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """The resolved profile TOML validated, as the schema's dump (dates, enums and the TOML's values kept);
    ProfileError names the file and each key that does not validate."""
    try:
        return Profile.model_validate(raw).model_dump()
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ProfileError("\n".join(lines)) from exc
