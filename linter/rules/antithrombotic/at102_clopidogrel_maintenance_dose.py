"""AT102 clopidogrel-maintenance-dose: clopidogrel maintenance not 75 mg once daily.

## What it checks
When a clopidogrel order is under review (any indication), then each of its dosing phases is read in mg
(tablets through the coded product strength):
- a single administration within the loading range (300-600 mg once) is a loading dose: silent;
- any other phase must be `maintenance_mg_per_day` (75) mg given `maintenance_per_day` (1) time a day;
  otherwise it is a warning. A single administration outside the loading range is judged as a daily dose
  (that dose, once a day).
- A repeating order (not a single administration) at or above `critical_repeating_at_or_above_mg_per_day`
  (300 mg/day) is critical: the loading dose (or the 300 mg loading tablet, RxNorm 749196) given every day.
Then the suggestion is clopidogrel 75 mg once daily.

## Why it matters
Clopidogrel is dosed 75 mg once a day; the 300 mg tablet is a loading product. A loading dose repeated
daily quadruples the exposure and the bleeding risk; 75 mg twice daily doubles it.

## Example
Fires: `fixtures/AT102/fail-300mg-tablet-daily.json` (critical), `fixtures/AT102/fail-75mg-twice-daily.json`.
Silent: `fixtures/AT102/pass-600mg-loading-once.json`, `fixtures/AT102/pass-loading-then-maintenance.json`.

## Options
- `maintenance_mg_per_day`, `maintenance_per_day`: 75 mg, once a day (000:31, 001:32).
- `critical_repeating_at_or_above_mg_per_day`: 300 mg/day as a repeating order.
- `loading_min_mg`, `loading_max_mg`: a single loading dose that is not judged (300-600 mg).

## Source
000_db9ef64a206b36dc.txt:31; 001_f5986088b79218a7.txt:32; reference/clinical-kb.md §2.3 (749196 is a
loading product, once only).

## Limitations
Judges only clopidogrel orders under review. A doseRange is judged by both ends (75-150 mg fires). Readings
taken: an order with no repeating timing is one administration (RULES.md); outside the loading range it is
judged as a daily dose. A single dose outside the loading range (e.g. 900 mg once) is a warning, not
critical: the critical band is for repeating orders only, as RULES.md says.
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
from linter.rules._common import finding_later, fmt, regimen_lines
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import EPS, Daily, dose_suggestion, frequency_phrase, range_text, read_daily

META = RuleMeta(
    code="AT102",
    name="clopidogrel-maintenance-dose",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Clopidogrel maintenance not {maintenance_mg_per_day} mg/day given {maintenance_per_day:daily}",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Post-procedure, dual antiplatelet therapy with aspirin 81mg daily "
            "indefinitely and clopidogrel 75mg daily for at least 1-3 months is recommended.",
            "31",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "If dual therapy is contraindicated, use single antiplatelet therapy "
            "(aspirin 75-325 mg daily or clopidogrel 75 mg daily).",
            "32",
        ),
        Citation(
            "reference/clinical-kb.md §2.3",
            "300 mg as a *repeated* daily dose (300 mg SCD 749196 is a loading product — once only).",
        ),
    ),
    drugs=frozenset({"clopidogrel"}),
    applies_to=frozenset({"clopidogrel"}),
)


class Options(RuleOptions):
    maintenance_mg_per_day: float
    maintenance_per_day: float
    critical_repeating_at_or_above_mg_per_day: float
    loading_min_mg: float
    loading_max_mg: float


def _wrong(d: Daily, o: Options) -> bool:
    if d.single and d.within(o.loading_min_mg, o.loading_max_mg):
        return False
    per_admin = o.maintenance_mg_per_day / o.maintenance_per_day
    return not (d.per_admin_is(per_admin) and d.admins_are(o.maintenance_per_day))


def _critical(d: Daily, o: Options) -> bool:
    """A repeating order at or above the critical daily dose."""
    return not d.single and d.per_day_high >= o.critical_repeating_at_or_above_mg_per_day - EPS


def _worst(wrong: list[Daily], o: Options) -> Daily:
    """The phase the finding judges: a critical one first, then the highest daily dose."""
    if len(wrong) == 1:  # most orders: one phase
        return wrong[0]
    return max(wrong, key=lambda x: (_critical(x, o), x.per_day_high))


@lru_cache(maxsize=64)  # the options' numbers -> the same words in every finding of a profile
def _target(per_admin: float, per_day: float) -> tuple[str, str]:
    """The maintenance regimen in words, and the suggestion's label."""
    target = f"{fmt(per_admin)} mg {frequency_phrase(per_day, per_day)}"
    return target, f"Change clopidogrel to {target}"


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    per_admin = o.maintenance_mg_per_day / o.maintenance_per_day
    for order in drug_index(order_set).reviewed.get("clopidogrel", ()):
        daily = read_daily(order, rule_code=META.code, what="the clopidogrel dose and frequency")
        if isinstance(daily, CouldNotVerify):
            yield daily
            continue
        wrong = []  # a loop, not a comprehension: no function object and frame per order
        for d in daily:
            if _wrong(d, o):
                wrong.append(d)
        if not wrong:
            continue
        d = _worst(wrong, o)
        target, label = _target(per_admin, o.maintenance_per_day)
        suggestion = dose_suggestion(label, order.ref, d.dosage_index, per_admin, o.maintenance_per_day)
        is_critical = _critical(d, o)
        yield finding_later(
            META,
            _texts,
            (order, d, target, label, is_critical, o),
            [order.ref],
            indicator=Indicator.CRITICAL if is_critical else Indicator.WARNING,
            suggestion=suggestion,
            values={
                "mg_per_day": round(d.per_day_high, 3),
                "per_administration_mg": round(d.per_admin_high, 3),
                "administrations_per_day": round(d.admins_high, 3),
                "single": d.single,
            },
        )


@lru_cache(maxsize=64)
def _loading(low: float, high: float) -> str:
    return f"{fmt(low)}-{fmt(high)} mg"


def _texts(
    order: MedicationOrder, d: Daily, target: str, label: str, is_critical: bool, o: Options
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    per_day = range_text(d.per_day_low, d.per_day_high)
    loading = _loading(o.loading_min_mg, o.loading_max_mg)
    described = d.describe()
    if d.single:
        summary = f"Clopidogrel {described}: not a {loading} loading dose, and maintenance is {target}"
        problem = (
            f"A single administration is a loading dose only within {loading}; outside it, it is "
            f"judged as a daily dose: {per_day} mg/day, not {target}."
        )
    else:
        summary = f"Clopidogrel {per_day} mg/day ({described}); maintenance is {target}"
        problem = f"The maintenance regimen is **{described} = {per_day} mg/day**, not {target}."
    lines = [f"**{order.name}** (`{order.ref}`): {described}.", d.how, problem]
    if is_critical:
        lines.append(
            f"**Critical:** a repeating order of {fmt(o.critical_repeating_at_or_above_mg_per_day)} "
            f"mg/day or more gives a loading dose ({loading}, once) every day; the 300 mg tablet "
            "(RxNorm 749196) is a loading product."
        )
    lines += ["Order judged:\n" + regimen_lines([order]), f"Suggested: {label}."]
    return summary, lines
