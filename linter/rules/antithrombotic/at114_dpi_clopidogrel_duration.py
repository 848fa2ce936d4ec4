"""AT114 dpi-clopidogrel-duration: DPI plus clopidogrel with no stop date or for more than 6 months.

## What it checks
When the order set is in PAD context, and the regimen (orders under review plus active medications in
context) holds rivaroxaban `dpi_rivaroxaban_mg` (2.5 mg) given `dpi_per_day` (2) times a day together with
a maintenance (repeating) clopidogrel order, and at least one of them is under review (a combination rule),
then the clopidogrel must have a stated duration of at most `max_duration_days` (183 days, 6 months): a
boundsDuration, boundsPeriod, expectedSupplyDuration or validityPeriod (the shortest), or a boundsPeriod end
counted from the evaluation time. No stop date, or a longer duration, is a warning, one per clopidogrel order.
No suggestion.

## Why it matters
Clopidogrel on top of dual pathway inhibition is triple antithrombotic therapy; it was allowed for a
limited time only (VOYAGER PAD; DAPT 1-6 months in the 2024 ACC/AHA guideline). Without a stop date it
silently continues.

## Example
Fires: `fixtures/AT114/fail-dpi-clopidogrel-no-stop-date.json`, `fixtures/AT114/fail-dpi-clopidogrel-184-days.json`.
Silent: `fixtures/AT114/pass-dpi-clopidogrel-183-days.json`, `fixtures/AT114/pass-dpi-clopidogrel-loading-once.json`.

## Options
- `max_duration_days`: 183 days (6 months).
- `dpi_rivaroxaban_mg`, `dpi_per_day`: the DPI regimen (001:31).

## Source
External: VOYAGER PAD design; 2024 ACC/AHA PAD guideline, DAPT 1-6 months (reference/clinical-kb.md §2.3,
§4 #17); 001_f5986088b79218a7.txt:31 (DPI).

## Limitations
A clopidogrel single administration (loading dose) is not judged: it has no duration. expectedSupplyDuration
is read as a stated duration (one dispense; refills are not counted), like the timing bounds and the
validity period; the shortest stated duration counts, as in AT103.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from linter.model import Citation, Indicator, MedicationOrder, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt, regimen_lines
from linter.rules._dose import stated_duration_days
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import (
    EPS,
    RegimenRead,
    any_under_review,
    dpi_orders,
    frequency_phrase,
    maintenance_dosages,
)

META = RuleMeta(
    code="AT114",
    name="dpi-clopidogrel-duration",
    family="antithrombotic",
    scope=Scope.PAD,
    default_indicator=Indicator.WARNING,
    summary=(
        "Rivaroxaban {dpi_rivaroxaban_mg} mg {dpi_per_day:daily} plus clopidogrel with no stop date or more than "
        "{max_duration_days} days"
    ),
    citations=(
        Citation(
            "reference/clinical-kb.md §2.3 (VOYAGER PAD design)",
            "VOYAGER allowed clopidogrel up to 6 months on top of DPI at investigator discretion",
        ),
        Citation(
            "reference/clinical-kb.md §2.3 (2024 ACC/AHA PAD guideline, ACCAHA24 rec 7)",
            "DAPT with a P2Y12 antagonist and **low-dose** aspirin is reasonable for at least 1 to 6 months",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "use dual pathway inhibition: rivaroxaban 2.5 mg twice daily plus aspirin 81 mg daily",
            "31",
        ),
    ),
    drugs=frozenset({"rivaroxaban", "clopidogrel"}),
    applies_to=frozenset({"rivaroxaban"}),  # and clopidogrel
    applies_to_regimen=True,
)


class Options(RuleOptions):
    max_duration_days: float
    dpi_rivaroxaban_mg: float
    dpi_per_day: float


def _duration(order: MedicationOrder, order_set: OrderSet) -> float | None:
    maintenance = maintenance_dosages(order)
    days = stated_duration_days(order, maintenance)
    if days is not None:
        return days
    ends = [d.timing.bounds_end for d in maintenance if d.timing.bounds_end is not None]
    if ends:
        end = min(ends)
        now = order_set.evaluated_at
        end = end if end.tzinfo else end.replace(tzinfo=now.tzinfo)
        return (end - now).total_seconds() / 86400
    return None


DAYS_PER_MONTH = 365.25 / 12


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    in_regimen = drug_index(order_set).in_regimen  # shared lists, never changed here
    rivaroxaban = in_regimen.get("rivaroxaban")
    if not rivaroxaban:
        return
    clopidogrel = []  # the maintenance orders: no dosage, or a repeating one (a loop: no comprehension's frame)
    for m in in_regimen.get("clopidogrel", ()):
        if maintenance_dosages(m) or not m.dosages:
            clopidogrel.append(m)
    if not clopidogrel:
        return
    dpi = dpi_orders(order_set, o.dpi_rivaroxaban_mg, o.dpi_per_day, rule_code=META.code)
    if not dpi.matching:
        if any_under_review(clopidogrel + rivaroxaban):
            yield from dpi.unreadable
        return
    for order in clopidogrel:
        if not (order.under_review or any_under_review(dpi.matching)):
            continue
        days = _duration(order, order_set)
        if days is not None and days <= o.max_duration_days + EPS:
            continue
        yield finding_later(
            META,
            _texts,
            (order, dpi, days, o),
            [order.ref, *(m.ref for m in dpi.matching)],
            values={
                "duration_days": None if days is None else round(days, 2),
                "max_duration_days": o.max_duration_days,
            },
        )


@lru_cache(maxsize=64)  # the options' numbers -> the same words in every finding of a profile
def _words(dpi_mg: float, dpi_per_day: float, max_days: float) -> tuple[str, str]:
    """The DPI regimen and the longest duration in months, in words."""
    dpi_text = f"rivaroxaban {fmt(dpi_mg)} mg {frequency_phrase(dpi_per_day, dpi_per_day)}"
    return dpi_text, f"{fmt(round(max_days / DAYS_PER_MONTH))} months"  # 183 days -> "6 months"


def _texts(order: MedicationOrder, dpi: RegimenRead, days: float | None, o: Options) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    dpi_text, months = _words(o.dpi_rivaroxaban_mg, o.dpi_per_day, o.max_duration_days)
    if days is None:
        summary = f"Clopidogrel with {dpi_text} and no stop date; limit to {fmt(o.max_duration_days)} days ({months})"
        problem = (
            "No boundsDuration, boundsPeriod, expectedSupplyDuration or validityPeriod on the "
            "clopidogrel maintenance dosage: **no stop date**."
        )
    else:
        summary = (
            f"Clopidogrel for {fmt(days)} days with {dpi_text}; limit to {fmt(o.max_duration_days)} days ({months})"
        )
        problem = f"Stated clopidogrel duration **{fmt(days)} days**, more than {fmt(o.max_duration_days)} days."
    return summary, [
        f"**{order.name}** (`{order.ref}`) with dual pathway inhibition:\n" + "\n".join(f"- {h}" for h in dpi.how),
        problem,
        "Orders involved:\n" + regimen_lines([order, *dpi.matching]),
    ]
