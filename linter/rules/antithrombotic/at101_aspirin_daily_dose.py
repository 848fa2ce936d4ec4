"""AT101 aspirin-daily-dose: aspirin maintenance daily dose outside 75-325 mg/day in PAD context.

## What it checks
When an aspirin order is under review in PAD context, then each of its dosing phases is read as a daily
dose (dose x frequency, converted to mg; tablets through the coded product strength; a `doseRange` judged
by its high value against the upper limit and its low value against the lower limit):
- a single administration within the loading range (150-325 mg once) is a loading dose: silent;
- a single administration outside the loading range is judged as a daily dose (that dose, once a day);
- a daily dose below `min_mg_per_day` (75) or above `max_mg_per_day` (325) is a warning;
- a daily dose at or above `critical_at_or_above_mg_per_day` (1000) or below `critical_below_mg_per_day`
  (30) is critical (a likely unit or frequency error).
Then the suggestion is aspirin 81 mg once daily.

## Why it matters
Aspirin below 75 mg/day has no proven protection in PAD; above 325 mg/day it adds bleeding and gastric harm
without benefit. Values of 1 g/day or more, or under 30 mg/day, are usually a mg/g or frequency slip.

## Example
Fires: `fixtures/AT101/fail-325mg-twice-daily.json` (650 mg/day, warning),
`fixtures/AT101/fail-1000mg-per-day-critical.json`, `fixtures/AT101/fail-29mg-daily-critical.json`.
Silent: `fixtures/AT101/pass-100mg-daily-japanese-regimen.json` (100 mg/day, SEED-2),
`fixtures/AT101/pass-325mg-daily.json`, `fixtures/AT101/pass-loading-325mg-once.json`.

## Options
- `min_mg_per_day`, `max_mg_per_day`: the maintenance range (001:32).
- `critical_at_or_above_mg_per_day`, `critical_below_mg_per_day`: profile defaults (likely unit error).
- `loading_min_mg`, `loading_max_mg`: a single loading dose that is not judged.
- `suggest_mg`: the dose the suggestion proposes (81 mg, 000:31 and 001:31).

## Source
001_f5986088b79218a7.txt:32 (aspirin 75-325 mg daily); 000_db9ef64a206b36dc.txt:31 (aspirin 81mg daily);
002_6cec19d6dc2f6528.txt:62 (aspirin 100 mg/day). The critical bands are profile defaults.

## Limitations
Judges only aspirin orders under review (active aspirin in context was reviewed when it was ordered).
Readings taken: an order with no repeating timing is one administration (RULES.md); outside the loading
range it is judged as a daily dose rather than passed. The suggestion changes the dose and frequency of the
first dosage of the phase judged; a product coded at another strength (e.g. the 325 mg tablet) then needs
its code changed too (DQ905 says so).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from linter.model import (
    Citation,
    CouldNotVerify,
    Indicator,
    MedicationOrder,
    OrderSet,
    RuleMeta,
    Scope,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt, refs, regimen_lines
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import EPS, Daily, dose_suggestion, range_text, read_daily

META = RuleMeta(
    code="AT101",
    name="aspirin-daily-dose",
    family="antithrombotic",
    scope=Scope.PAD,
    default_indicator=Indicator.WARNING,
    summary="Aspirin maintenance daily dose outside {min_mg_per_day}-{max_mg_per_day} mg/day",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "If dual therapy is contraindicated, use single antiplatelet therapy "
            "(aspirin 75-325 mg daily or clopidogrel 75 mg daily).",
            "32",
        ),
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Post-procedure, dual antiplatelet therapy with aspirin 81mg daily "
            "indefinitely and clopidogrel 75mg daily for at least 1-3 months is recommended.",
            "31",
        ),
        Citation(
            "002_6cec19d6dc2f6528.txt",
            "The antiplatelet drug administered was aspirin (100 mg/day) with "
            "clopidogrel (75 mg/day) and/or cilostazol (100 or 200 mg/day)",
            "62",
        ),
    ),
    drugs=frozenset({"aspirin"}),
    applies_to=frozenset({"aspirin"}),
)


class Options(RuleOptions):
    min_mg_per_day: float
    max_mg_per_day: float
    critical_at_or_above_mg_per_day: float
    critical_below_mg_per_day: float
    loading_min_mg: float
    loading_max_mg: float
    suggest_mg: float


def _verdict(d: Daily, o: Options) -> tuple[Indicator, bool, float] | None:
    """(indicator, too_high, the daily dose shown) or None when the phase is within range or a loading dose."""
    if d.single and d.within(o.loading_min_mg, o.loading_max_mg):
        return None
    too_high = d.per_day_high > o.max_mg_per_day + EPS
    too_low = d.per_day_low < o.min_mg_per_day - EPS
    if not (too_high or too_low):
        return None
    critical = (
        d.per_day_high >= o.critical_at_or_above_mg_per_day - EPS or d.per_day_low < o.critical_below_mg_per_day - EPS
    )
    shown = d.per_day_high if too_high else d.per_day_low
    return (Indicator.CRITICAL if critical else Indicator.WARNING), too_high, shown


def _deviation(verdict: tuple[Indicator, bool, float], o: Options) -> float:
    _, too_high, shown = verdict
    return shown - o.max_mg_per_day if too_high else o.min_mg_per_day - shown


def _worst(
    judged: list[tuple[tuple[Indicator, bool, float], Daily]], o: Options
) -> tuple[tuple[Indicator, bool, float], Daily]:
    """The phase the finding judges: the most severe, then the furthest from the range."""
    if len(judged) == 1:  # most orders: one phase
        return judged[0]
    return max(judged, key=lambda x: (x[0][0].rank, _deviation(x[0], o)))


@lru_cache(maxsize=16)  # the option's number -> the same label in every finding of a profile
def _label(suggest_mg: float) -> str:
    return f"Change aspirin to {fmt(suggest_mg)} mg once daily"


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    for order in drug_index(order_set).reviewed.get("aspirin", ()):
        daily = read_daily(order, rule_code=META.code, what="the aspirin daily dose")
        if isinstance(daily, CouldNotVerify):
            yield daily
            continue
        judged = []  # a loop, not a comprehension: no function object and frame per order
        for d in daily:
            if (v := _verdict(d, o)) is not None:
                judged.append((v, d))
        if not judged:
            continue
        (indicator, too_high, shown), d = _worst(judged, o)
        label = _label(o.suggest_mg)
        suggestion = dose_suggestion(label, order.ref, d.dosage_index, o.suggest_mg, 1)
        yield finding_later(
            META,
            _texts,
            (order, d, indicator, too_high, shown, label, o),
            [order.ref],
            indicator=indicator,
            suggestion=suggestion,
            values={
                "mg_per_day": round(shown, 3),
                "per_administration_mg": round(d.per_admin_high, 3),
                "administrations_per_day": round(d.admins_high, 3),
                "single": d.single,
                "suggested_mg": o.suggest_mg,
            },
        )


@lru_cache(maxsize=1)  # the sources' titles are read once a process: the same words in every finding
def _cited() -> str:
    return refs(("000", "31"), ("001", "31"))


def _texts(
    order: MedicationOrder, d: Daily, indicator: Indicator, too_high: bool, shown: float, label: str, o: Options
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    per_day = range_text(d.per_day_low, d.per_day_high)
    rng = f"{fmt(o.min_mg_per_day)}-{fmt(o.max_mg_per_day)} mg/day"
    if d.single:
        summary = (
            f"Aspirin {fmt(shown)} mg as a single dose, outside the {fmt(o.loading_min_mg)}-"
            f"{fmt(o.loading_max_mg)} mg loading range; maintenance range {rng}"
        )
    else:
        summary = f"Aspirin {fmt(shown)} mg/day ({d.describe()}); maintenance range {rng}"
    if indicator is Indicator.CRITICAL and too_high:
        band = (
            f"at or above {fmt(o.critical_at_or_above_mg_per_day)} mg/day: far above the range, a likely "
            "unit (mg/g) or frequency error"
        )
    elif indicator is Indicator.CRITICAL:
        band = f"below {fmt(o.critical_below_mg_per_day)} mg/day: far below the range, a likely unit or frequency error"
    else:
        band = f"{'above' if too_high else 'below'} the maintenance range {rng}"
    lines = [
        f"**{order.name}** (`{order.ref}`): {d.describe()}.",
        d.how,
        f"Daily dose **{per_day} mg/day** is **{band}**.",
    ]
    if d.single:
        lines.append(
            f"A single administration is a loading dose only within {fmt(o.loading_min_mg)}-"
            f"{fmt(o.loading_max_mg)} mg; outside it, it is judged as a daily dose."
        )
    lines += ["Order judged:\n" + regimen_lines([order]), f"Suggested: {label} ({_cited()})."]
    return summary, lines
