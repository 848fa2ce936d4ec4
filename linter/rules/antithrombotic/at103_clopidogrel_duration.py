"""AT103 clopidogrel-duration: maintenance clopidogrel after BTK revascularization for less than 30 days.

## What it checks
When a clopidogrel order with a maintenance (repeating) dosage is under review in BTK revascularization
context, then its stated treatment duration (timing.repeat.boundsDuration / boundsPeriod,
dispenseRequest.expectedSupplyDuration or validityPeriod of the maintenance dosages; the shortest stated
one) must be at least `min_duration_days` (30 days):
- shorter: warning;
- no duration stated: info, "duration not stated (1-3 months recommended)".
Then the suggestion sets the duration to `suggest_duration_days` (90 days).

## Why it matters
After tibial angioplasty the source recommends clopidogrel with aspirin for at least 1-3 months; stopping
the second agent after days leaves the fresh lesion unprotected. An order with no duration is easy to stop
too early or to continue without review.

## Example
Fires: `fixtures/AT103/fail-29-days.json` (warning), `fixtures/AT103/fail-no-duration-info.json` (info).
Silent: `fixtures/AT103/pass-30-days.json`, `fixtures/AT103/pass-loading-dose-only.json`.

## Options
- `min_duration_days`: 30 days (000:31, "at least 1-3 months").
- `suggest_duration_days`: 90 days (profile default within 1-3 months).

## Source
000_db9ef64a206b36dc.txt:31.

## Limitations
Judges only clopidogrel orders under review. Reading taken: a single administration (a loading dose, or any
order with no repeating timing) has no treatment duration and is not judged by AT103 (AT102 judges its
dose); in a sequenced order only the maintenance dosages' bounds count, so a one-day loading phase does not
make the order "1 day long". expectedSupplyDuration is read as a stated duration (one dispense), like
the timing bounds and the validity period; the shortest stated duration counts, as in AT114.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from linter.model import (
    Citation,
    ContextEvidence,
    Indicator,
    MedicationOrder,
    OrderSet,
    RuleMeta,
    Scope,
    SetDuration,
    Suggestion,
    UpdateAction,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt, regimen_lines
from linter.rules._dose import stated_duration_days
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import EPS, maintenance_dosages

META = RuleMeta(
    code="AT103",
    name="clopidogrel-duration",
    family="antithrombotic",
    scope=Scope.BTK,
    default_indicator=Indicator.WARNING,
    summary="Maintenance clopidogrel after BTK revascularization with a stated duration under {min_duration_days} days",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Post-procedure, dual antiplatelet therapy with aspirin 81mg daily "
            "indefinitely and clopidogrel 75mg daily for at least 1-3 months is recommended.",
            "31",
        ),
    ),
    drugs=frozenset({"clopidogrel"}),
    applies_to=frozenset({"clopidogrel"}),
)


class Options(RuleOptions):
    min_duration_days: float
    suggest_duration_days: int


def _where(ctx: ContextEvidence | None) -> str:
    return f"BTK revascularization context: {ctx.how}" if ctx else "BTK revascularization context"


def _no_duration_texts(order: MedicationOrder, ctx: ContextEvidence | None, label: str) -> tuple[str, list[str]]:
    return (
        "Clopidogrel after BTK revascularization: duration not stated (1-3 months recommended)",
        [
            f"**{order.name}** (`{order.ref}`): no boundsDuration, boundsPeriod, expectedSupplyDuration or "
            "validityPeriod on the maintenance dosage.",
            _where(ctx),
            "Order judged:\n" + regimen_lines([order]),
            f"Suggested: {label} (within the source's 1-3 months).",
        ],
    )


def _short_texts(
    order: MedicationOrder, ctx: ContextEvidence | None, label: str, days: float, o: Options
) -> tuple[str, list[str]]:
    return (
        f"Clopidogrel for {fmt(days)} days after BTK revascularization; at least {fmt(o.min_duration_days)} "
        "days (1-3 months) recommended",
        [
            f"**{order.name}** (`{order.ref}`): stated duration **{fmt(days)} days** (the shortest of "
            "boundsDuration, boundsPeriod, expectedSupplyDuration and validityPeriod), under "
            f"{fmt(o.min_duration_days)} days.",
            _where(ctx),
            "Order judged:\n" + regimen_lines([order]),
            f"Suggested: {label}.",
        ],
    )


@lru_cache(maxsize=16)  # the option's number -> the same label and change in every finding of a profile
def _set_duration(days: int) -> tuple[str, tuple[SetDuration]]:
    return f"Set the clopidogrel duration to {days} days", (SetDuration(days),)


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    ctx = order_set.btk_context
    for order in drug_index(order_set).reviewed.get("clopidogrel", ()):
        maintenance = maintenance_dosages(order)
        if order.dosages and not maintenance:
            continue  # a loading dose (or another single administration): no treatment duration
        days = stated_duration_days(order, maintenance)
        if days is not None and days >= o.min_duration_days - EPS:
            continue
        label, changes = _set_duration(o.suggest_duration_days)
        suggestion = Suggestion(label, (UpdateAction(order.ref, label, changes),))
        if days is None:
            yield finding_later(
                META,
                _no_duration_texts,
                (order, ctx, label),
                [order.ref],
                indicator=Indicator.INFO,
                suggestion=suggestion,
                values={"duration_days": None, "min_duration_days": o.min_duration_days},
            )
            continue
        yield finding_later(
            META,
            _short_texts,
            (order, ctx, label, days, o),
            [order.ref],
            indicator=Indicator.WARNING,
            suggestion=suggestion,
            values={"duration_days": round(days, 2), "min_duration_days": o.min_duration_days},
        )
