"""LL402 statin-not-high-intensity: the statin in the regimen is not a high-intensity statin.

## What it checks
When the order set is in PAD context and the regimen holds a statin, then it must be high intensity:
atorvastatin at least `atorvastatin_high_intensity_min_mg` (40 mg) per day, or rosuvastatin at least
`rosuvastatin_high_intensity_min_mg` (20 mg) per day. Any other statin (simvastatin, pravastatin, lovastatin,
fluvastatin, pitavastatin) is not the profile's high-intensity statin. Otherwise: info.
- Orders under review are judged by their daily dose (dose x frequency, units converted; a `doseRange` is
  judged by its low value). A dose that cannot be read is DQ901/DQ902.
- An active statin in context is judged by the strength of its coded product (RxNorm SCD), if it has one; an
  active atorvastatin or rosuvastatin coded by ingredient only is not judged. When a high-intensity statin is
  among the orders under review, active statins in context are not judged (the new order replaces them).
The suggestion raises an atorvastatin order to `suggest_atorvastatin_mg` once daily, or replaces another
statin with the profile's `suggest_template` (delete + create).

## Why it matters
The source target (LDL-C below 55 mg/dL and at least 50% lower) needs high-intensity statin therapy:
atorvastatin 80 mg daily or equivalent.

## Example
Fires: `fixtures/LL402/fail-atorvastatin-20mg.json` (atorvastatin 20 mg daily, below 40 mg).
Silent: `fixtures/LL402/pass-atorvastatin-40mg.json` (atorvastatin 40 mg daily, the boundary).

## Options
- `atorvastatin_high_intensity_min_mg`, `rosuvastatin_high_intensity_min_mg`: the high-intensity floors.
- `suggest_atorvastatin_mg`: the dose the update suggestion sets.
- `suggest_template`: the `[regimens.*]` template that replaces another statin.

## Source
001_f5986088b79218a7.txt:26; VSAC High Intensity Statin Therapy 2.16.840.1.113883.3.526.3.1572
(reference/clinical-kb.md §2.4) for the 40 mg and 20 mg floors.

## Limitations
Simvastatin 80 mg is in the VSAC high-intensity set but its initiation is restricted by the FDA; RULES.md
lists it among "other statins" and the rule reports it (info). Documented statin intolerance (a reason for a
lower dose) is not read: override with the reason. A single (one-time) statin dose is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import (
    Citation,
    CreateAction,
    DeleteAction,
    Indicator,
    MedicationOrder,
    OrderSet,
    Quantity,
    RuleMeta,
    Scope,
    Suggestion,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import daily_dose_suggestion, drug_display, finding_later, fmt, regimen_in_class
from linter.rules._dose import Phase, read_phases
from linter.rules._units import convert
from linter.units import Converted

# Terminology drug keys of class "statin" (tests/rules/test_lipid.py checks this equals the class).
STATINS = frozenset(
    {"atorvastatin", "rosuvastatin", "simvastatin", "pravastatin", "lovastatin", "fluvastatin", "pitavastatin"}
)

META = RuleMeta(
    code="LL402",
    name="statin-not-high-intensity",
    family="lipid",
    scope=Scope.PAD,
    default_indicator=Indicator.INFO,
    summary=(
        "Statin in the regimen is not high intensity (atorvastatin < {atorvastatin_high_intensity_min_mg} mg, "
        "rosuvastatin < {rosuvastatin_high_intensity_min_mg} mg, other statins)"
    ),
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Reduce LDL-C by ≥50% from baseline to <55 mg/dL (<1.4 mmol/L) using "
            "high-intensity statin therapy (atorvastatin 80 mg daily or equivalent).",
            "26",
        ),
        Citation(
            "reference/clinical-kb.md §2.4 (VSAC High Intensity Statin Therapy 2.16.840.1.113883.3.526.3.1572)",
            "membership in VSAC High Intensity Statin Therapy 2.16.840.1.113883.3.526.3.1572 (atorva 40/80, "
            "rosuva 20/40, simva 80, ezetimibe combos thereof)",
        ),
    ),
    drugs=STATINS,
    applies_to=frozenset({"class:statin"}),
    applies_to_regimen=True,
)


class Options(RuleOptions):
    atorvastatin_high_intensity_min_mg: float
    rosuvastatin_high_intensity_min_mg: float
    suggest_atorvastatin_mg: float
    suggest_template: str


def _statin(order: MedicationOrder) -> str:
    statins = order.drug.drugs & STATINS
    return min(statins) if statins else "statin"  # the first by name, as sorted: no list built


def _floor(statin: str, options: Options) -> float | None:
    if statin == "atorvastatin":
        return options.atorvastatin_high_intensity_min_mg
    if statin == "rosuvastatin":
        return options.rosuvastatin_high_intensity_min_mg
    return None


def _daily_mg(order: MedicationOrder) -> tuple[float, str] | None:
    """The coded product strength of an active medication in context, in mg (per tablet)."""
    s = order.drug.strength
    if s is None or s.per_unit:
        return None
    conv = convert(Quantity(s.value, s.unit, "http://unitsofmeasure.org", s.unit), "mg")
    if not isinstance(conv, Converted):
        return None
    return conv.value, f"coded product {order.drug.product_code} ({order.drug.product_display}): {fmt(conv.value)} mg"


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    statin_orders = regimen_in_class(order_set, "statin")
    under_review_ok = False
    judged: list[tuple[MedicationOrder, float | None, Phase | str, int]] = []
    for order in statin_orders:
        if not order.under_review:
            continue
        statin = _statin(order)
        phases = read_phases(order, "mg", rule_code=META.code, what=f"the {statin} dose")
        if not isinstance(phases, list):
            yield phases
            continue
        repeating = [ph for ph in phases if not ph.single and ph.per_day_low is not None]
        if not repeating:
            continue
        # The phase with the lowest daily dose (most orders: one phase, no comparison to make).
        ph = repeating[0] if len(repeating) == 1 else min(repeating, key=lambda x: x.per_day_low or 0.0)
        daily = ph.per_day_low
        floor = _floor(statin, options)
        if floor is not None and daily is not None and daily >= floor - 1e-9:
            under_review_ok = True
            continue
        judged.append((order, daily, ph, ph.dosage_index))  # the phase's `how`, worded when read
    if not under_review_ok:
        for order in statin_orders:
            if order.under_review:
                continue
            statin = _statin(order)
            floor = _floor(statin, options)
            strength = _daily_mg(order)
            if floor is not None:
                if strength is None or strength[0] >= floor - 1e-9:
                    continue
                judged.append(
                    (order, strength[0], f"- {strength[1]} (active medication: judged by its product strength)", 0)
                )
            else:
                judged.append(
                    (
                        order,
                        strength[0] if strength else None,
                        f"- {strength[1]}" if strength else "- (strength not coded)",
                        0,
                    )
                )
    for order, daily, how, dosage_index in judged:
        yield _finding(order, daily, how, dosage_index, options)


def _finding(
    order: MedicationOrder, daily: float | None, how: Phase | str, dosage_index: int, options: Options
) -> Emitted:
    statin = _statin(order)
    floor = _floor(statin, options)
    target = options.suggest_atorvastatin_mg
    if statin == "atorvastatin" and order.under_review:
        label = f"Change atorvastatin to {fmt(target)} mg once daily"
        suggestion = daily_dose_suggestion(label, order.ref, dosage_index, target, 1)
    else:
        label = f"Replace {order.name} with atorvastatin {fmt(target)} mg once daily"
        suggestion = Suggestion(
            label,
            (
                DeleteAction(order.ref, f"Stop {order.name}"),
                CreateAction(options.suggest_template, f"Start atorvastatin {fmt(target)} mg once daily"),
            ),
        )
    return finding_later(
        META,
        _texts,
        (order, statin, floor, daily, how, label, options),
        [order.ref],
        suggestion=suggestion,
        values={"statin": statin, "mg_per_day": daily, "floor_mg_per_day": floor},
    )


def _texts(
    order: MedicationOrder,
    statin: str,
    floor: float | None,
    daily: float | None,
    how: Phase | str,
    label: str,
    options: Options,
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    target = options.suggest_atorvastatin_mg
    where = "order under review" if order.under_review else f"{order.resource_type} in context, status {order.status}"
    display = drug_display(statin)  # read once, written up to three times
    if floor is not None and daily is not None:
        amount = f"{fmt(daily)} mg/day" if order.under_review else f"{fmt(daily)} mg"
        floor_mg = fmt(floor)
        summary = (
            f"{display.capitalize()} {amount} is not high intensity "
            f"(at least {floor_mg} mg/day); source: atorvastatin {fmt(target)} mg daily"
        )
        verdict = f"below the high-intensity floor of **{floor_mg} mg/day** for {display}"
    else:
        amount = f" {fmt(daily)} mg" if daily is not None else ""
        summary = (
            f"{display.capitalize()}{amount} is not the profile's high-intensity statin; "
            f"source: atorvastatin {fmt(target)} mg daily"
        )
        verdict = (
            f"{display} is not atorvastatin >= "
            f"{fmt(options.atorvastatin_high_intensity_min_mg)} mg or rosuvastatin >= "
            f"{fmt(options.rosuvastatin_high_intensity_min_mg)} mg"
        )
    lines = [
        f"**{order.name}** (`{order.ref}`, {where}):\n{how if isinstance(how, str) else how.how}",
        f"This is {verdict}.",
        f"Suggested: {label}, unless a higher dose is not tolerated.",
    ]
    return summary, lines
