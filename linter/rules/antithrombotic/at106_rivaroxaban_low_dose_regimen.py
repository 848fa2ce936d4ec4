"""AT106 rivaroxaban-low-dose-regimen: low-dose rivaroxaban in PAD not given as 2.5 mg twice daily.

## What it checks
When a rivaroxaban order is under review in PAD context, then each dosing phase is read as a daily dose in
mg (tablets through the coded product strength; a single administration is judged as a daily dose). A phase
below `full_dose_mg_per_day` (10 mg/day: the low end of a doseRange decides) is the vascular (low-dose)
regimen and must be `dpi_rivaroxaban_mg` (2.5 mg) per administration, exactly `dpi_per_day` (2)
administrations a day (timing.repeat 2 per 1 d, 1 per 12 h, or timing.code BID). Otherwise (2.5 mg once
daily, 5 mg once daily, 2.5 mg three times daily...) it is a warning.
Then the suggestion is rivaroxaban 2.5 mg twice daily.

## Why it matters
Dual pathway inhibition was studied as 2.5 mg twice daily; once daily halves the exposure with unproven
protection, three times daily raises bleeding, and 5 mg once daily is neither the vascular nor a
therapeutic regimen.

## Example
Fires: `fixtures/AT106/fail-2.5mg-once-daily.json`, `fixtures/AT106/fail-2.5mg-three-times-daily.json`.
Silent: `fixtures/AT106/pass-2.5mg-timing-code-bid.json`, `fixtures/AT106/pass-2.5mg-every-12-hours.json`,
`fixtures/AT106/pass-20mg-daily-full-dose.json` (full dose: AT108/AT109's business).

## Options
- `dpi_rivaroxaban_mg`, `dpi_per_day`: the DPI regimen (001:31).
- `full_dose_mg_per_day`: 10 mg/day, where full-dose oral anticoagulation starts (RULES.md Terms).

## Source
001_f5986088b79218a7.txt:31.

## Limitations
Judges only rivaroxaban orders under review. Reading taken: an order with no repeating timing is one
administration (RULES.md) and is judged as that dose once a day, so "2.5 mg" with no timing fires (its
frequency must be stated as twice daily). Full-dose rivaroxaban (>= 10 mg/day) is not judged here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from linter.model import (
    Citation,
    ContextEvidence,
    CouldNotVerify,
    Indicator,
    MedicationOrder,
    OrderSet,
    RuleMeta,
    Scope,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt, regimen_lines
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import (
    EPS,
    Daily,
    dose_suggestion,
    frequency_phrase,
    is_dpi_phase,
    range_text,
    read_daily,
)

META = RuleMeta(
    code="AT106",
    name="rivaroxaban-low-dose-regimen",
    family="antithrombotic",
    scope=Scope.PAD,
    default_indicator=Indicator.WARNING,
    summary=(
        "Rivaroxaban below {full_dose_mg_per_day} mg/day in PAD not given as {dpi_rivaroxaban_mg} mg "
        "{dpi_per_day:daily}"
    ),
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "use dual pathway inhibition: rivaroxaban 2.5 mg twice daily plus aspirin 81 mg daily",
            "31",
        ),
    ),
    drugs=frozenset({"rivaroxaban"}),
    applies_to=frozenset({"rivaroxaban"}),
)


class Options(RuleOptions):
    dpi_rivaroxaban_mg: float
    dpi_per_day: float
    full_dose_mg_per_day: float


@lru_cache(maxsize=64)  # the options' numbers -> the same words in every finding of a profile
def _words(dpi_mg: float, dpi_per_day: float) -> tuple[str, str]:
    """The DPI regimen in words, and the suggestion's label."""
    dpi = f"{fmt(dpi_mg)} mg {frequency_phrase(dpi_per_day, dpi_per_day)}"
    return dpi, f"Change rivaroxaban to {dpi}"


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    for order in drug_index(order_set).reviewed.get("rivaroxaban", ()):
        daily = read_daily(order, rule_code=META.code, what="the rivaroxaban dose and frequency")
        if isinstance(daily, CouldNotVerify):
            yield daily
            continue
        for d in daily:  # the first low-dose phase not given as DPI
            if d.per_day_low < o.full_dose_mg_per_day - EPS and not is_dpi_phase(
                order, d, o.dpi_rivaroxaban_mg, o.dpi_per_day
            ):
                break
        else:
            continue
        dpi, label = _words(o.dpi_rivaroxaban_mg, o.dpi_per_day)
        yield finding_later(
            META,
            _texts,
            (order, d, dpi, label, order_set.pad_context, o),
            [order.ref],
            suggestion=dose_suggestion(label, order.ref, d.dosage_index, o.dpi_rivaroxaban_mg, o.dpi_per_day),
            values={
                "mg_per_day": round(d.per_day_high, 3),
                "per_administration_mg": round(d.per_admin_high, 3),
                "administrations_per_day": round(d.admins_high, 3),
                "single": d.single,
            },
        )


def _texts(
    order: MedicationOrder, d: Daily, dpi: str, label: str, ctx: ContextEvidence | None, o: Options
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    per_day = range_text(d.per_day_low, d.per_day_high)
    described = d.describe()
    return f"Rivaroxaban {described} ({per_day} mg/day) in PAD; the vascular dose is {dpi}", [
        f"**{order.name}** (`{order.ref}`): {described}.",
        d.how,
        f"Below {fmt(o.full_dose_mg_per_day)} mg/day this is the vascular (dual pathway inhibition) "
        f"regimen, which is **{dpi}** ({fmt(o.dpi_rivaroxaban_mg * o.dpi_per_day)} mg/day in "
        f"{fmt(o.dpi_per_day)} doses); this order gives {per_day} mg/day.",
        f"PAD context: {ctx.how if ctx else 'forced'}.",
        "Order judged:\n" + regimen_lines([order]),
        f"Suggested: {label}.",
    ]
