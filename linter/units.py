"""Unit conversion through UCUM (the `ucumvert` library, which parses UCUM into `pint` units).

Doses are converted before any comparison, never compared raw: 0.1 mg nitroglycerin is 100 ug, and
100 mg is a 1000-fold error. Arbitrary units ([iU], [USP'U]) are dimensionless in pint, so they are
handled apart: a heparin dose in [iU] never converts to or from a mass, and "mg/kg" never becomes [iU].

Spellings that are not UCUM but are common in EHR data ("mcg", "units", "tab") are mapped by one explicit
alias table below; anything else must parse as UCUM or it is reported (DQ902), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from linter.model import Quantity, Strength

UCUM_SYSTEM = "http://unitsofmeasure.org"

# Explicit spellings seen in EHR data that are not UCUM codes, mapped to the UCUM code they mean.
_ALIASES: dict[str, str] = {
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "microgram": "ug",
    "micrograms": "ug",
    "milligram": "mg",
    "milligrams": "mg",
    "mgs": "mg",
    "gram": "g",
    "grams": "g",
    "gm": "g",
    "ml": "mL",
    "milliliter": "mL",
    "milliliters": "mL",
    "millilitre": "mL",
    "cc": "mL",
    "kilogram": "kg",
    "kilograms": "kg",
    "kgs": "kg",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "pound": "[lb_av]",
    "pounds": "[lb_av]",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
}

# Heparin units: RULES.md "Heparin units": [iU], [IU], [USP'U] and the common U / units / {units} all mean
# heparin units (UCUM's U is the enzyme unit, but in a heparin order it is always meant as a heparin unit).
_HEPARIN_UNIT_SPELLINGS = {
    "[iu]",
    "[usp'u]",
    "u",
    "iu",
    "unit",
    "units",
    "{unit}",
    "{units}",
    "unt",
    "usp units",
    "usp unit",
    "international units",
    "international unit",
}
HEPARIN_UNIT = "[iU]"

# Dose-form counts: a dose of "1 tablet" needs the product strength to become a mass.
_COUNT_SPELLINGS = {
    "{tbl}",
    "{tablet}",
    "{tablets}",
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "{tab}",
    "{capsule}",
    "{capsules}",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "{cap}",
    "{puff}",
    "{spray}",
    "spray",
    "sprays",
    "{patch}",
    "patch",
    "1",
    "{dose}",
    "dose",
}


@dataclass(frozen=True, slots=True)
class UnitProblem:
    """Why a quantity could not be converted. `kind` drives which finding reports it."""

    kind: Literal["unknown_unit", "incompatible", "needs_strength", "missing_unit"]
    unit: str
    message: str


@dataclass(frozen=True, slots=True)
class Converted:
    value: float
    unit: str  # the target UCUM unit
    how: str  # "0.1 mg = 100 ug"; "2 {tbl} x 81 mg"


_ARBITRARY = re.compile(r"\[(iU|IU|USP'U)\]")


@cache
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def unit_of(q: Quantity) -> str:
    """The unit as sent: the UCUM code when present, else the free-text unit."""
    return (q.code or q.unit or "").strip()


def canonical_unit(raw: str, *, heparin: bool = False) -> str:
    """Map an explicit alias to its UCUM code; heparin unit spellings to [iU] in a heparin context."""
    text = raw.strip()
    lower = text.lower()
    if heparin:
        for sep in ("/",):
            if sep in lower:
                head, _, tail = lower.partition(sep)
                if head.strip() in _HEPARIN_UNIT_SPELLINGS:
                    return f"{HEPARIN_UNIT}/{_ALIASES.get(tail.strip(), tail.strip())}"
        if lower in _HEPARIN_UNIT_SPELLINGS:
            return HEPARIN_UNIT
    if lower in _ALIASES:
        return _ALIASES[lower]
    if "/" in text:
        head, _, tail = text.partition("/")
        h = _ALIASES.get(head.strip().lower(), head.strip())
        t = _ALIASES.get(tail.strip().lower(), tail.strip())
        return f"{h}/{t}"
    return text


def is_count_unit(raw: str) -> bool:
    return raw.strip().lower() in _COUNT_SPELLINGS


def is_heparin_unit(raw: str) -> bool:
    return canonical_unit(raw, heparin=True).startswith(HEPARIN_UNIT)


@lru_cache(maxsize=1024)
def _parse(code: str) -> Any | None:
    """Parse a UCUM code into a pint quantity, or None when it is not UCUM."""
    try:
        q = _registry().from_ucum(code)
        _ = q.dimensionality  # annotations alone ({units}) parse to a token without units: not usable
        return q
    except Exception:  # ucumvert raises its own and lark errors; any failure means "not UCUM"
        return None


@lru_cache(maxsize=1024)
def _factor(code: str, target: str) -> float | None:
    """Multiply a value in `code` by this to get `target`; None when they are not commensurable."""
    src_arb = sorted(m.replace("IU", "iU").replace("USP'U", "iU") for m in _ARBITRARY.findall(code))
    dst_arb = sorted(m.replace("IU", "iU").replace("USP'U", "iU") for m in _ARBITRARY.findall(target))
    if src_arb != dst_arb:
        return None
    src_plain = _ARBITRARY.sub("1", code) if src_arb else code
    dst_plain = _ARBITRARY.sub("1", target) if dst_arb else target
    src = _parse(src_plain)
    dst = _parse(dst_plain)
    if src is None or dst is None:
        return None
    if src.dimensionality != dst.dimensionality:
        return None
    try:
        return float(src.to(dst.units).magnitude / dst.magnitude)
    except Exception:  # pint DimensionalityError and friends
        return None


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.4g}"


def convert(
    q: Quantity,
    target: str,
    *,
    heparin: bool = False,
    strength: Strength | None = None,
) -> Converted | UnitProblem:
    """Convert `q` to the UCUM unit `target`.

    A count ("2 tablets") or a volume ("5 mL") is converted through the coded product's `strength` when
    it has one (81 mg per tablet; 1000 [iU] per mL). Without it, the result is a `needs_strength` problem.
    """
    raw = unit_of(q)
    if not raw and strength is not None and strength.value > 0 and not strength.per_unit:
        raw = "1"  # a unitless dose of a tablet/capsule product is a count of that dose form (e.g. Synthea)
    if not raw:
        return UnitProblem("missing_unit", "", f"the dose {_fmt(q.value)} has no unit")
    code = canonical_unit(raw, heparin=heparin)
    factor = _factor(code, target)
    if factor is not None:
        value = q.value * factor
        how = (
            f"{_fmt(q.value)} {raw}" if code == target else f"{_fmt(q.value)} {raw} = {_fmt(value)} {target}"
        )
        return Converted(value, target, how)
    # Through the product strength: counts (per tablet) and volumes (per mL).
    if strength is not None and strength.value > 0:
        per = strength.per_unit
        if per is None or per == "":
            if is_count_unit(raw):
                f2 = _factor(canonical_unit(strength.unit, heparin=heparin), target)
                if f2 is not None:
                    value = q.value * strength.value * f2
                    how = (
                        f"{_fmt(q.value)} {raw} x {_fmt(strength.value)} {strength.unit} per unit"
                        f" = {_fmt(value)} {target}"
                    )
                    return Converted(value, target, how)
        else:
            to_per = _factor(code, per)
            f2 = _factor(canonical_unit(strength.unit, heparin=heparin), target)
            if to_per is not None and f2 is not None:
                value = q.value * to_per / strength.per_value * strength.value * f2
                how = (
                    f"{_fmt(q.value)} {raw} x {_fmt(strength.value)} {strength.unit}/{_fmt(strength.per_value)}"
                    f" {per} = {_fmt(value)} {target}"
                )
                return Converted(value, target, how)
    if _parse(code) is None and not (heparin and is_heparin_unit(raw)) and not is_count_unit(raw):
        return UnitProblem("unknown_unit", raw, f"'{raw}' is not a UCUM unit orderlint can read")
    if is_count_unit(raw) or _factor(code, "mL") is not None:
        return UnitProblem(
            "needs_strength",
            raw,
            f"a dose in '{raw}' needs the product strength to convert to {target}, and the order has none",
        )
    return UnitProblem("incompatible", raw, f"'{raw}' cannot be converted to {target}")


def per_day_factor(frequency: float, period: float, period_unit: str) -> float | None:
    """Administrations per day for `frequency` per `period` `period_unit` (FHIR Timing units)."""
    days = _PERIOD_DAYS.get(period_unit)
    if days is None or period <= 0:
        return None
    return frequency / (period * days)


_PERIOD_DAYS: dict[str, float] = {
    "s": 1 / 86400,
    "min": 1 / 1440,
    "h": 1 / 24,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.0,
    "a": 365.0,
}


def duration_days(value: float, unit: str) -> float | None:
    """A FHIR Duration (UCUM time units, or their names) in days."""
    u = unit.strip()
    names = {
        "day": "d",
        "days": "d",
        "week": "wk",
        "weeks": "wk",
        "month": "mo",
        "months": "mo",
        "year": "a",
        "years": "a",
        "hour": "h",
        "hours": "h",
        "wks": "wk",
        "yr": "a",
    }
    u = names.get(u.lower(), u)
    if u in _PERIOD_DAYS:
        return value * _PERIOD_DAYS[u]
    f = _factor(u, "d")
    return value * f if f is not None else None
