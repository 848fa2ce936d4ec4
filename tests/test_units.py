"""Units are converted through UCUM, never compared raw."""

from __future__ import annotations

import pytest

from linter.model import Quantity, Strength
from linter.unit_display import display_unit
from linter.units import Converted, UnitProblem, convert, duration_days, per_day_factor


def _value(q: Quantity, target: str, **kw: object) -> float:
    result = convert(q, target, **kw)  # type: ignore[arg-type]
    assert isinstance(result, Converted), result
    return result.value


def test_nitroglycerin_milligrams_become_micrograms() -> None:
    assert _value(Quantity(0.1, code="mg"), "ug") == pytest.approx(100)
    assert _value(Quantity(100, code="mg"), "ug") == pytest.approx(100_000)  # the 1000x error is visible
    assert _value(Quantity(150, unit="mcg"), "ug") == pytest.approx(150)


@pytest.mark.parametrize("spelling", ["[iU]", "[IU]", "[USP'U]", "U", "units", "{units}", "IU", "unit"])
def test_heparin_unit_spellings_mean_heparin_units(spelling: str) -> None:
    assert _value(Quantity(5000, code=spelling), "[iU]", heparin=True) == 5000


def test_per_kg_heparin_needs_no_weight() -> None:
    assert _value(Quantity(80, code="[iU]/kg"), "[iU]/kg", heparin=True) == 80
    assert _value(Quantity(80, unit="units/kg"), "[iU]/kg", heparin=True) == 80


def test_arbitrary_units_never_convert_to_mass() -> None:
    assert isinstance(convert(Quantity(50, code="mg"), "[iU]", heparin=True), UnitProblem)
    assert isinstance(convert(Quantity(1, code="mg/kg"), "[iU]/kg", heparin=True), UnitProblem)
    assert isinstance(convert(Quantity(5000, code="[iU]"), "mg", heparin=True), UnitProblem)


def test_volume_converts_through_a_coded_concentration_only() -> None:
    strength = Strength(1000, "[iU]", 1, "mL")
    assert _value(Quantity(5, code="mL"), "[iU]", heparin=True, strength=strength) == 5000
    problem = convert(Quantity(5, code="mL"), "[iU]", heparin=True)
    assert isinstance(problem, UnitProblem) and problem.kind == "needs_strength"


def test_tablet_counts_convert_through_the_product_strength() -> None:
    assert _value(Quantity(2, code="{tbl}"), "mg", strength=Strength(81, "mg")) == 162
    assert isinstance(convert(Quantity(1, unit="tablet"), "mg"), UnitProblem)


def test_unknown_and_missing_units_are_reported() -> None:
    unknown = convert(Quantity(81, unit="bottles"), "mg")
    assert isinstance(unknown, UnitProblem) and unknown.kind == "unknown_unit"
    no_strength = convert(Quantity(81, unit="pills"), "mg")
    assert isinstance(no_strength, UnitProblem) and no_strength.kind == "needs_strength"
    missing = convert(Quantity(81), "mg")
    assert isinstance(missing, UnitProblem) and missing.kind == "missing_unit"


def test_weight_in_pounds_and_grams() -> None:
    assert _value(Quantity(176, code="[lb_av]"), "kg") == pytest.approx(79.83, abs=0.01)
    assert _value(Quantity(70000, code="g"), "kg") == pytest.approx(70)


def test_frequency_and_duration_helpers() -> None:
    assert per_day_factor(2, 1, "d") == 2
    assert per_day_factor(1, 8, "h") == 3
    assert per_day_factor(1, 1, "wk") == pytest.approx(1 / 7)
    assert per_day_factor(1, 1, "fortnight") is None
    assert duration_days(3, "mo") == 90
    assert duration_days(90, "days") == 90
    assert duration_days(6, "wk") == 42


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("[iU]", "units"),
        ("[IU]", "units"),
        ("[USP'U]", "USP units"),
        ("ug", "mcg"),
        ("[iU]/kg", "units/kg"),
        ("mg/d", "mg/day"),
        ("ug/kg/min", "mcg/kg/min"),
        ("[iU]/h", "units/hour"),
        ("mL", "mL"),
        ("mg", "mg"),
        ("{pill}", "pill"),
        ("{tbl}", "tablet"),
        ("[lb_av]", "lb"),
        ("mcg", "mcg"),
        ("units", "units"),
    ],
)
def test_units_are_shown_as_people_write_them(code: str, shown: str) -> None:
    assert display_unit(code) == shown
