"""Unit conversion through UCUM (the `ucumvert` library, which parses UCUM into `pint` units).

Doses are converted before any comparison, never compared raw: 0.1 mg nitroglycerin is 100 ug, and
100 mg is a 1000-fold error. Arbitrary units ([iU], [USP'U]) are dimensionless in pint, so they are
handled apart: a heparin dose in [iU] never converts to or from a mass, and "mg/kg" never becomes [iU].

Spellings that are not UCUM but are common in EHR data ("mcg", "units", "tab") are mapped by one explicit
alias table below; anything else must parse as UCUM or it is reported (DQ902), never guessed.

Building the pint registry costs about a second per process, so the units the rules and fixtures use come from
a precomputed table of the library's own answers (linter/ucum_table.py, scripts/gen_ucum_table.py); the library
is the fallback for any other unit. How units are shown to people: linter/unit_display.py.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any, Literal

from linter import ucum_table
from linter.model import Quantity, Strength
from linter.model_class import frozen_model
from linter.terminology import CountForm, terminology
from linter.unit_display import display_unit as shown_unit

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


@frozen_model
class UnitProblem:
    """Why a quantity could not be converted. `kind` drives which finding reports it."""

    kind: Literal["unknown_unit", "incompatible", "needs_strength", "missing_unit", "form_mismatch"]
    unit: str
    message: str


@frozen_model
class Converted:
    value: float
    unit: str  # the target UCUM unit
    how: str  # "0.1 mg = 100 ug"; "2 {tbl} x 81 mg"


_ARBITRARY = re.compile(r"\[(iU|IU|USP'U)\]")


@cache
def _registry() -> Any:
    # Imported here: building the pint registry costs about a second, and the table below makes it
    # unnecessary for every unit the rules and fixtures use.
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


@frozen_model
class TableUnit:
    """A UCUM code known from the precomputed table (linter/ucum_table.py): its dimensions, no pint object."""

    code: str
    dims: tuple[tuple[str, float], ...]


def warm_registry() -> None:
    """Build the pint registry now (the service does it before it reports ready), so that a unit outside
    the precomputed table costs a dictionary look-up, not a registry build, on a hook call."""
    _registry()
    _library_quantity("mg")


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


def count_form_of(q: Quantity) -> CountForm | None:
    """The dose-form count a dose is written in ("{pill}", "TAB", "ea", "tablet(s)"), if any."""
    return terminology().count_form(q.system, q.code, q.unit)


def is_heparin_unit(raw: str) -> bool:
    return canonical_unit(raw, heparin=True).startswith(HEPARIN_UNIT)


@lru_cache(maxsize=1024)
def _library_quantity(code: str) -> Any | None:
    """Parse a UCUM code into a pint quantity through ucumvert, or None when it is not UCUM."""
    try:
        q = _registry().from_ucum(code)
        _ = q.dimensionality  # annotations alone ({units}) parse to a token without units: not usable
        return q
    except Exception:  # ucumvert raises its own and lark errors; any failure means "not UCUM"
        return None


@lru_cache(maxsize=1024)
def _parse(code: str) -> Any | None:
    """A UCUM code as a unit (a TableUnit from the precomputed table, else a pint quantity from the
    library), or None when it is not UCUM."""
    dims = ucum_table.UNITS.get(code)
    if dims is not None:
        return TableUnit(code, dims)
    if code in ucum_table.NOT_UCUM:
        return None
    return _library_quantity(code)


@lru_cache(maxsize=1024)
def _factor(code: str, target: str) -> float | None:
    """Multiply a value in `code` by this to get `target`; None when they are not commensurable."""
    src_arb = sorted(m.replace("IU", "iU").replace("USP'U", "iU") for m in _ARBITRARY.findall(code))
    dst_arb = sorted(m.replace("IU", "iU").replace("USP'U", "iU") for m in _ARBITRARY.findall(target))
    if src_arb != dst_arb:
        return None
    src_plain = _ARBITRARY.sub("1", code) if src_arb else code
    dst_plain = _ARBITRARY.sub("1", target) if dst_arb else target
    found, factor = _table_factor(src_plain, dst_plain)
    return factor if found else _library_factor(src_plain, dst_plain)


def _table_factor(src: str, dst: str) -> tuple[bool, float | None]:
    """(True, the library's own factor) from the precomputed table (linter/ucum_table.py), or (False, None)
    when a code is not in it. Units of different dimensions never convert; the table holds the factor of
    every same-dimension pair of its units."""
    src_dims = ucum_table.UNITS.get(src)
    dst_dims = ucum_table.UNITS.get(dst)
    if src_dims is None or dst_dims is None:
        return (src in ucum_table.NOT_UCUM or dst in ucum_table.NOT_UCUM), None
    if src_dims != dst_dims:
        return True, None
    if (src, dst) in ucum_table.FACTORS:
        return True, ucum_table.FACTORS[(src, dst)]
    return False, None


def _library_factor(src_plain: str, dst_plain: str) -> float | None:
    """The conversion factor computed by pint (the fallback for units outside the table)."""
    src = _library_quantity(src_plain)
    dst = _library_quantity(dst_plain)
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

    A count of the dose form ("1 {pill}", "2 TAB", "1 ea", a bare value of a tablet) is count x the product's
    strength per unit; a volume ("5 mL") is volume x the product's concentration (1000 [iU] per mL).
    Without a strength, or when the count or volume does not fit the product (a pill of a solution, a volume
    of a tablet), the result is a UnitProblem that says what is missing, never a guess.
    """
    raw = unit_of(q)
    if not raw:
        return _bare_value(q, target, heparin, strength)
    count = count_form_of(q)
    if count is not None:
        return _from_count(q, count, target, heparin, strength)
    code = canonical_unit(raw, heparin=heparin)
    factor = _factor(code, target)
    if factor is not None:
        value = q.value * factor
        how = (
            f"{_fmt(q.value)} {shown_unit(raw)}"
            if code == target
            else f"{_fmt(q.value)} {shown_unit(raw)} = {_fmt(value)} {shown_unit(target)}"
        )
        return Converted(value, target, how)
    if _factor(code, "mL") is not None:
        return _from_volume(q, raw, code, target, heparin, strength)
    if _parse(code) is None and not (heparin and is_heparin_unit(raw)):
        return UnitProblem("unknown_unit", raw, f"'{raw}' is not a UCUM unit orderlint can read")
    return UnitProblem("incompatible", raw, f"'{shown_unit(raw)}' cannot be converted to {shown_unit(target)}")


def _strength_note(strength: Strength) -> str:
    if strength.source == "name":
        return f" (strength read from {strength.origin}: no coded strength, last resort)"
    if strength.source == "medication":
        return f" (strength from {strength.origin})" if strength.origin else " (strength from the Medication)"
    return ""  # a coded product we know: its code is named with the drug


def _product_family(strength: Strength) -> str | None:
    if strength.per_unit == "mL":
        return "liquid"
    return terminology().product_family(strength.form)


def _bare_value(q: Quantity, target: str, heparin: bool, strength: Strength | None) -> Converted | UnitProblem:
    """A value with no unit: a count of a solid dose form (Synthea writes `{"value": 1}`), else unknown."""
    family = _product_family(strength) if strength is not None else None
    if strength is not None and strength.per_unit is None and family in (None, "solid"):
        noun = (strength.form or "unit").lower()
        bare = CountForm("bare", f"{noun} (no unit given)", f"{noun}s (no unit given)", frozenset())
        return _from_count(q, bare, target, heparin, strength)
    what = (
        ""
        if strength is None
        else f" and the product ({strength.form or 'dose form unknown'}) is not a tablet or capsule"
    )
    return UnitProblem("missing_unit", "", f"the dose {_fmt(q.value)} has no unit{what}, so its amount is unknown")


def _from_count(
    q: Quantity, count: CountForm, target: str, heparin: bool, strength: Strength | None
) -> Converted | UnitProblem:
    shown = f"{_fmt(q.value)} {count.label(q.value)}"
    if strength is None or strength.value <= 0:
        return UnitProblem(
            "needs_strength",
            count.display,
            f"a dose of {shown} needs the product's strength per {count.display if count.key != 'each' else 'unit'}, "
            "and none was found (no Medication ingredient.strength, no known RxNorm product code, no strength "
            "in the product name)",
        )
    family = _product_family(strength)
    fits = count.fits or {"solid"}
    if strength.per_unit is not None or (family is not None and family not in fits):
        return UnitProblem(
            "form_mismatch",
            count.display,
            f"a dose of {shown} does not fit the product ({strength.form or strength.per_unit or 'its dose form'}): "
            + ("it is dosed by volume" if strength.per_unit == "mL" else "the count and the dose form differ"),
        )
    f2 = _factor(canonical_unit(strength.unit, heparin=heparin), target)
    if f2 is None:
        return UnitProblem(
            "incompatible",
            count.display,
            f"a strength in {shown_unit(strength.unit)} cannot be converted to {shown_unit(target)}",
        )
    value = q.value * strength.value / strength.per_value * f2
    per = (strength.form or "unit").lower() if count.key in ("each", "bare") else count.display
    how = (
        f"{shown} x {_fmt(strength.value)} {shown_unit(strength.unit)} per {per} = {_fmt(value)} {shown_unit(target)}"
        f"{_strength_note(strength)}"
    )
    return Converted(value, target, how)


def _from_volume(
    q: Quantity, raw: str, code: str, target: str, heparin: bool, strength: Strength | None
) -> Converted | UnitProblem:
    """A volume (mL) through the product's concentration per mL."""
    if strength is None or strength.value <= 0:
        return UnitProblem(
            "needs_strength",
            raw,
            f"a dose in '{shown_unit(raw)}' needs the product's concentration to convert to {shown_unit(target)},"
            " and none was found",
        )
    if strength.per_unit is None:
        return UnitProblem(
            "form_mismatch",
            raw,
            f"a volume ({_fmt(q.value)} {shown_unit(raw)}) does not fit the product"
            f" ({strength.form or 'a solid dose form'}), which is dosed by count",
        )
    to_per = _factor(code, strength.per_unit)
    per = strength.per_unit if strength.per_value == 1 else f"{_fmt(strength.per_value)} {strength.per_unit}"
    f2 = _factor(canonical_unit(strength.unit, heparin=heparin), target)
    if to_per is None or f2 is None:
        return UnitProblem("incompatible", raw, f"'{shown_unit(raw)}' cannot be converted to {shown_unit(target)}")
    value = q.value * to_per / strength.per_value * strength.value * f2
    how = (
        f"{_fmt(q.value)} {shown_unit(raw)} x {_fmt(strength.value)} {shown_unit(strength.unit)}/{per}"
        f" = {_fmt(value)} {shown_unit(target)}{_strength_note(strength)}"
    )
    return Converted(value, target, how)


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
