"""AT111 cilostazol-daily-dose: cilostazol above 200 mg/day.

## What it checks
When a cilostazol order is under review (any indication), then each dosing phase is read as a daily dose in
mg (dose x frequency; a single administration is judged as a daily dose; the high end of a doseRange
decides). Above `max_mg_per_day` (200 mg/day) it is a warning.
Then the suggestion is cilostazol `suggest_dose_mg` (100 mg) `suggest_per_day` (2) times a day.

## Why it matters
Cilostazol is labelled 100 mg twice daily (50 mg twice daily with strong CYP3A4/CYP2C19 inhibitors); the
SEED-2 regimen used 100 or 200 mg/day. More adds headache, palpitations and tachyarrhythmia without benefit.

## Example
Fires: `fixtures/AT111/fail-250mg-per-day.json`.
Silent: `fixtures/AT111/pass-200mg-per-day.json` (100 mg twice daily), `fixtures/AT111/pass-50mg-twice-daily.json`.

## Options
- `max_mg_per_day`: 200 mg/day (002:62; FDA label).
- `suggest_dose_mg`, `suggest_per_day`: 100 mg twice daily (FDA label).

## Source
002_6cec19d6dc2f6528.txt:62; FDA label Pletal (reference/clinical-kb.md §2.3).

## Limitations
Judges only cilostazol orders under review. No cilostazol tablet SCD is verified, so a dose in tablets
without a coded strength cannot be converted (DQ902). The CYP3A4/CYP2C19 interaction (50 mg twice daily)
is not checked.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import (
    Citation,
    CouldNotVerify,
    Indicator,
    OrderSet,
    RuleMeta,
    Scope,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import fmt, make_finding, orders_of, regimen_lines
from linter.rules.antithrombotic._regimen import EPS, dose_suggestion, frequency_phrase, range_text, read_daily

META = RuleMeta(
    code="AT111",
    name="cilostazol-daily-dose",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Cilostazol daily dose above {max_mg_per_day} mg/day",
    citations=(
        Citation(
            "002_6cec19d6dc2f6528.txt",
            "The antiplatelet drug administered was aspirin (100 mg/day) with "
            "clopidogrel (75 mg/day) and/or cilostazol (100 or 200 mg/day)",
            "62",
        ),
        Citation(
            "FDA label: Pletal (cilostazol) dosing (reference/clinical-kb.md §2.3)",
            "100 mg q12h PO … 50 mg "
            "q12h PO should be considered during co-administration of such inhibitors of CYP3A4 … and … "
            "CYP2C19",
        ),
    ),
    drugs=frozenset({"cilostazol"}),
    applies_to=frozenset({"cilostazol"}),
)


class Options(RuleOptions):
    max_mg_per_day: float
    suggest_dose_mg: float
    suggest_per_day: int


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    for order in orders_of(order_set, "cilostazol"):
        daily = read_daily(order, rule_code=META.code, what="the cilostazol daily dose")
        if isinstance(daily, CouldNotVerify):
            yield daily
            continue
        over = [d for d in daily if d.per_day_high > o.max_mg_per_day + EPS]
        if not over:
            continue
        d = max(over, key=lambda x: x.per_day_high)
        per_day = range_text(d.per_day_low, d.per_day_high)
        target = f"{fmt(o.suggest_dose_mg)} mg {frequency_phrase(o.suggest_per_day, o.suggest_per_day)}"
        label = f"Change cilostazol to {target}"
        yield make_finding(
            META,
            f"Cilostazol {fmt(d.per_day_high)} mg/day ({d.describe()}); maximum {fmt(o.max_mg_per_day)} mg/day "
            f"({target})",
            [
                f"**{order.name}** (`{order.ref}`): {d.describe()}.",
                d.how,
                f"Daily dose **{per_day} mg/day** is above {fmt(o.max_mg_per_day)} mg/day.",
                "Order judged:\n" + regimen_lines([order]),
                f"Suggested: {label} (50 mg twice daily with strong CYP3A4 or CYP2C19 inhibitors).",
            ],
            [order.ref],
            suggestion=dose_suggestion(label, order.ref, d.dosage_index, o.suggest_dose_mg, o.suggest_per_day),
            values={
                "mg_per_day": round(d.per_day_high, 3),
                "per_administration_mg": round(d.per_admin_high, 3),
                "administrations_per_day": round(d.admins_high, 3),
            },
        )
