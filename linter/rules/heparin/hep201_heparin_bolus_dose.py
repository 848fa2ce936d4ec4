"""HEP201 heparin-bolus-dose: procedural heparin bolus outside 70-100 units/kg.

## What it checks
When an order under review is a procedural heparin bolus (unfractionated heparin, IV or intra-arterial, one
administration, a dose and not a rate), then its dose per kg (given per kg, or the absolute dose divided by
the latest body weight, LOINC 29463-7) must lie within the profile range (70-100 units/kg). Below or above
is a warning; above `critical_above_units_per_kg` (200 units/kg, twice the upper bound) is critical.
For a `doseRange`, the high value is judged against the upper limit and the low value against the lower.

## Why it matters
Under-dosing risks thrombosis of the treated tibial vessel during the procedure; over-dosing risks bleeding.
Ten-fold heparin errors (vial strength read as total dose) are a known fatal pattern (ISMP).

## Example
Fires: `fixtures/HEP201/fail-15000-units-70kg.json` (15,000 units IV at 70 kg = 214 units/kg, critical).
Silent: `fixtures/HEP201/pass-80-units-per-kg.json` (80 [iU]/kg, no weight needed).

## Options
- `min_units_per_kg`, `max_units_per_kg`: the source range.
- `critical_above_units_per_kg`: profile default, twice the upper bound.
- `suggest_units_per_kg`, `round_to_units`: the corrected dose the suggestion proposes.

## Source
000_db9ef64a206b36dc.txt:24; ISMP heparin label alert (reference/clinical-kb.md §2.1) for the critical band.

## Limitations
Needs a body weight for absolute doses (HEP202 reports when there is none). Heparin in mg or mL without a
coded concentration is HEP205. Subcutaneous prophylaxis and rate-based infusions are not judged.
Readings taken (shared by the heparin bolus rules HEP201-HEP206): only the first bolus dosage of an order
is judged (a later single dose is a top-up); a timing code ONCE / STAT counts as one administration; an IV/IA
dose whose timing code is unknown is reported as DQ901 (could not tell whether it is the bolus) instead of
passing; a `doseRange` with one bound per kg and the other absolute is DQ902.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import (
    Citation,
    CouldNotVerify,
    Dosage,
    Indicator,
    OrderSet,
    RuleMeta,
    Scope,
    SetDose,
    Strength,
    Suggestion,
    UpdateAction,
    Weight,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt
from linter.rules._dose import unit_problem_to_dq
from linter.rules._units import convert
from linter.rules.heparin._bolus import (
    Bolus,
    bolus_dose,
    heparin_reading,
    is_per_kg,
    route_label,
)
from linter.units import Converted, UnitProblem

META = RuleMeta(
    code="HEP201",
    name="heparin-bolus-dose",
    family="heparin",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Procedural heparin bolus outside {min_units_per_kg}-{max_units_per_kg} units/kg",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "The procedure typically begins with administration of "
            "anticoagulation (unfractionated heparin 70-100 units/kg) to achieve an activated clotting time "
            "of 250-300 seconds.",
            "24",
        ),
        Citation(
            "reference/clinical-kb.md §2.1 (ISMP heparin label alert)",
            "fatal 10-fold errors from reading 1,000 units/mL × 10 mL vials as 1,000 units total",
        ),
    ),
    drugs=frozenset({"heparin"}),
    applies_to=frozenset({"class:heparin_ufh"}),  # heparin_orders: UFH under review
)


class Options(RuleOptions):
    min_units_per_kg: float
    max_units_per_kg: float
    critical_above_units_per_kg: float
    suggest_units_per_kg: float
    round_to_units: float


def _times(ratio: float) -> str:
    """How the critical bound relates to the upper bound, in words: 2 -> 'twice', 3 -> '3 times'."""
    return "twice" if abs(ratio - 2) < 1e-9 else f"{fmt(ratio)} times"


# How a bolus dosage reads under its product's strength, per process, by the identity of the dosage, checked with
# the strength's (frozen values the reader shares between orders): None when `bolus_dose` does not give two
# quantities (not machine-readable, or HEP205's), else (given per kg, the low and high doses converted, the first
# conversion that failed in the order the rule reports it). A pure function of the two for a dosage with no
# instruction (`extra_text`: a patientInstruction is written for one patient), the only dosages kept. Each entry
# holds both, so that their ids are not reused while it is there.
DoseReading = tuple[bool, Converted | UnitProblem, Converted | UnitProblem, UnitProblem | None]
_DOSES: dict[int, tuple[Dosage, Strength | None, DoseReading | None]] = {}


def _read_dose(bolus: Bolus, strength: Strength | None) -> tuple[Dosage, Strength | None, DoseReading | None]:
    d = bolus.dosage
    quantities = bolus_dose(bolus, META.code)
    reading: DoseReading | None = None
    if quantities is not None and not isinstance(quantities, CouldNotVerify):
        low_q, high_q = quantities
        per_kg = is_per_kg(high_q)
        target, of = ("[iU]/kg", None) if per_kg else ("[iU]", strength)
        lo = convert(low_q, target, heparin=True, strength=of)
        # a doseQuantity is both bounds: converted once (the remembered conversion is the same object anyway)
        hi = lo if high_q is low_q else convert(high_q, target, heparin=True, strength=of)
        # per kg, a doseRange with one bound per kg and the other not: never a silent pass
        first, second = (lo, hi) if per_kg else (hi, lo)
        problem = first if isinstance(first, UnitProblem) else second if isinstance(second, UnitProblem) else None
        reading = (per_kg, lo, hi, problem)
    known = (d, strength, reading)
    if not d.extra_text:
        if len(_DOSES) >= 4096:
            _DOSES.clear()
        _DOSES[id(d)] = known
    return known


# Per profile options: the texts made of them alone (the source range, the critical band, the rounding), written
# once per options object (the profile's, shared by every request). Each entry holds the options.
_OPTION_TEXTS: dict[int, tuple[Options, str, str, str]] = {}


def _option_texts(options: Options) -> tuple[Options, str, str, str]:
    rng = f"{fmt(options.min_units_per_kg)}-{fmt(options.max_units_per_kg)} units/kg"
    band = (
        f"more than {fmt(options.critical_above_units_per_kg)} units/kg ("
        f"{_times(options.critical_above_units_per_kg / options.max_units_per_kg)} the upper bound: a likely "
        "10-fold or unit error)"
    )
    rounding = f", rounded to {fmt(options.round_to_units)} units."
    if len(_OPTION_TEXTS) >= 64:
        _OPTION_TEXTS.clear()
    known = _OPTION_TEXTS[id(options)] = (options, rng, band, rounding)
    return known


_CRITICAL, _WARNING = Indicator.CRITICAL, Indicator.WARNING  # an Enum member read from its class is Python code


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    out: list[Emitted] = []
    weight = order_set.patient.weight
    _, found, unplaced = heparin_reading(order_set)
    for maybe in unplaced:
        t = maybe.dosage.timing
        timing = t.code or t.code_text or "no timing"
        out.append(
            CouldNotVerify(
                "DQ901",
                maybe.order.ref,
                META.code,
                "the heparin bolus dose",
                f"its timing ('{timing}') is not machine-readable, so it cannot be told whether this "
                f"{route_label(maybe.route)} dose is a single procedural bolus",
            )
        )
    for bolus in found:
        order, d = bolus.order, bolus.dosage
        strength = order.drug.strength
        known = _DOSES.get(id(d))
        if known is None or known[0] is not d or known[1] is not strength:
            known = _read_dose(bolus, strength)
        reading = known[2]
        if reading is None:
            quantities = bolus_dose(bolus, META.code)
            if isinstance(quantities, CouldNotVerify):
                out.append(quantities)
            continue  # None: HEP205
        per_kg, lo, hi, problem = reading
        if problem is not None:
            out.append(unit_problem_to_dq(problem, order, META.code, "the heparin bolus dose"))
            continue
        assert isinstance(lo, Converted) and isinstance(hi, Converted)  # noqa: S101 - no problem: both converted
        if per_kg:
            lo_kg, hi_kg = lo.value, hi.value
        else:
            if weight is None:
                continue  # HEP202 says "could not verify"
            lo_kg, hi_kg = lo.value / weight.kg, hi.value / weight.kg
        too_high = hi_kg > options.max_units_per_kg + 1e-9
        too_low = lo_kg < options.min_units_per_kg - 1e-9
        if not (too_high or too_low):
            continue
        critical = hi_kg > options.critical_above_units_per_kg
        shown = hi_kg if too_high else lo_kg
        if per_kg:
            new_value, new_unit, new_display = options.suggest_units_per_kg, "[iU]/kg", "units/kg"
            fix_label = f"Change heparin bolus to {fmt(new_value)} units/kg"
        else:
            assert weight is not None  # noqa: S101 - absolute doses are judged only with a weight
            step = options.round_to_units
            new_value = round(options.suggest_units_per_kg * weight.kg / step) * step
            new_unit, new_display = "[iU]", "units"
            fix_label = (
                f"Change heparin bolus to {fmt(new_value)} units "
                f"({fmt(options.suggest_units_per_kg)} units/kg x {fmt(weight.kg)} kg)"
            )
        suggestion = Suggestion(
            fix_label,
            (UpdateAction(order.ref, fix_label, (SetDose(d.index, new_value, new_unit, new_display),)),),
        )
        out.append(
            finding_later(
                META,
                _texts,
                (
                    bolus,
                    per_kg,
                    lo,
                    hi,
                    weight,
                    too_high,
                    critical,
                    shown,
                    fix_label,
                    options,
                ),
                [order.ref],
                indicator=_CRITICAL if critical else _WARNING,
                suggestion=suggestion,
                values={
                    "units_per_kg": round(shown, 1),
                    "weight_kg": weight.kg if weight and not per_kg else None,
                    "suggested_dose": new_value,
                    "suggested_unit": new_unit,
                },
            )
        )
    return out


def _texts(
    bolus: Bolus,
    per_kg: bool,
    lo: Converted,
    hi: Converted,
    weight: Weight | None,
    too_high: bool,
    critical: bool,
    shown: float,
    fix_label: str,
    options: Options,
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    order = bolus.order
    known = _OPTION_TEXTS.get(id(options))
    _, rng, critical_band, rounding = known if known is not None and known[0] is options else _option_texts(options)
    route = route_label(bolus.route)
    if per_kg:
        lo_kg, hi_kg = lo.value, hi.value
        dose_how = hi.how if lo is hi or lo.value == hi.value else f"{lo.how} to {hi.how}"
        per_kg_text = fmt(hi_kg) if lo_kg == hi_kg else f"{fmt(lo_kg)}-{fmt(hi_kg)}"
        dose_lines = f"- dose: {dose_how} = **{per_kg_text} units/kg** (given per kg; no weight needed)"
        summary = f"Heparin bolus {fmt(shown)} units/kg {route}; source range {rng}"
        suggested = f"Suggested: {fix_label}."
    else:
        assert weight is not None  # noqa: S101 - absolute doses are judged only with a weight
        kg = fmt(weight.kg)
        when = weight.effective.date().isoformat() if weight.effective else "date not stated"
        dose_lines = (
            f"- dose: {hi.how} / {kg} kg = **{fmt(hi.value / weight.kg)} units/kg**\n"
            f"- weight: {kg} kg (`{weight.ref}`, {weight.as_sent}, {when})"
        )
        total = (hi if too_high else lo).value  # the dose the summary names, in units (converted above)
        summary = f"Heparin {fmt(total)} units {route} = {fmt(shown)} units/kg at {kg} kg; source range {rng}"
        suggested = f"Suggested: {fix_label}{rounding}"
    band = critical_band if critical else f"{'above' if too_high else 'below'} the source range {rng}"
    lines = [
        f"**{order.name}** (`{order.ref}`): procedural bolus, {route}, one administration.",
        dose_lines,
        f"The dose is **{band}**.",
        suggested,
    ]
    return summary, lines
