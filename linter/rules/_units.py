"""Unit conversions for the rules, remembered: `linter.units` converts with care (UCUM parsing, counts of
the dose form, volumes through the product's concentration) and the rules ask it the same questions many
times (every dose rule reads the same orders; an order set repeats the units of the last one). Each answer
depends only on the question (a frozen Quantity, the target unit, the flags, a frozen Strength) and the
fixed unit tables, and is a frozen value, so it is computed once per process and shared. What is kept:
numbers and unit strings, never a patient's identifiers."""

from __future__ import annotations

import dataclasses
import operator
from functools import lru_cache
from typing import Any

from linter import unit_display, units
from linter.model import Quantity, Strength

__all__ = ["canonical_unit", "convert", "convert_fields", "display_unit", "strength_fields"]


@lru_cache(maxsize=8192)
def _convert(
    value: float,
    unit: str | None,
    system: str | None,
    code: str | None,
    target: str,
    heparin: bool,
    strength: tuple[Any, ...] | None,
) -> units.Converted | units.UnitProblem:
    return units.convert(
        Quantity(value, unit, system, code),
        target,
        heparin=heparin,
        strength=None if strength is None else Strength(*strength),
    )


# A Strength's fields in order, read in C: the question is keyed by them, not by the Strength, whose dataclass
# __hash__ is Python code (~0.7 us a call; most questions carry the order's product strength).
_STRENGTH_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Strength)))


def convert(
    q: Quantity, target: str, *, heparin: bool = False, strength: Strength | None = None
) -> units.Converted | units.UnitProblem:
    """`linter.units.convert`, computed once per distinct question. The question is keyed by the quantity's
    and the strength's fields, not the objects: equal keys either way, but hashing and comparing the fields is
    done in C, a Quantity's or Strength's __hash__ and __eq__ in Python (~0.6 us a call, ~15 calls per order
    set)."""
    return _convert(
        q.value, q.unit, q.system, q.code, target, heparin, None if strength is None else _STRENGTH_FIELDS(strength)
    )


# For hot callers that inline `convert`: the remembered question, and a strength's fields as it keys them.
convert_fields = _convert
strength_fields = _STRENGTH_FIELDS

canonical_unit = lru_cache(maxsize=4096)(units.canonical_unit)
display_unit = lru_cache(maxsize=4096)(unit_display.display_unit)
