"""AT113 aspirin-dose-with-ticagrelor-or-dpi: aspirin above 100 mg/day with ticagrelor or with DPI.

## What it checks
When the regimen (orders under review plus active medications in context) holds aspirin whose maintenance
daily dose is above `max_aspirin_mg_per_day` (100 mg/day; the high end of a doseRange decides), together
with ticagrelor or with rivaroxaban `dpi_rivaroxaban_mg` (2.5 mg) given `dpi_per_day` (2) times a day, and
at least one of these orders is under review (a combination rule), then it is a warning, one per aspirin
order.
Then the suggestion updates the aspirin order to `suggest_aspirin_mg` (81 mg) once daily.

## Why it matters
Aspirin maintenance doses above 100 mg reduce the effectiveness of ticagrelor (boxed warning), and dual
pathway inhibition was studied with low-dose aspirin (75-100 mg).

## Example
Fires: `fixtures/AT113/fail-aspirin-325-with-ticagrelor.json`,
`fixtures/AT113/fail-aspirin-325-in-context-with-dpi.json`.
Silent: `fixtures/AT113/pass-aspirin-100-with-ticagrelor.json`,
`fixtures/AT113/pass-aspirin-325-loading-once-with-ticagrelor.json`.

## Options
- `max_aspirin_mg_per_day`: 100 mg/day (Brilinta boxed warning; Xarelto CAD/PAD aspirin 75-100 mg).
- `suggest_aspirin_mg`: 81 mg (001:31).
- `dpi_rivaroxaban_mg`, `dpi_per_day`: the DPI regimen (001:31).

## Source
External: Brilinta (ticagrelor) boxed warning; Xarelto CAD/PAD dosing with aspirin 75-100 mg
(reference/clinical-kb.md §2.3, §6.1); 001_f5986088b79218a7.txt:31 (DPI uses aspirin 81 mg).

## Limitations
Readings taken: only maintenance (repeating) aspirin dosages are judged; a single administration is an
initial dose ("After any initial dose, use with aspirin 75-100 mg per day"), so an aspirin order with no
repeating timing is not judged here (AT101 judges it in PAD context). The aspirin dose is read even when
the aspirin is an active medication in context, because the combination is new; the update suggestion is
offered only for a MedicationRequest.
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
from linter.rules.antithrombotic._regimen import (
    EPS,
    Daily,
    any_under_review,
    dose_suggestion,
    dpi_orders,
    frequency_phrase,
    range_text,
    read_daily,
)

META = RuleMeta(
    code="AT113",
    name="aspirin-dose-with-ticagrelor-or-dpi",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary=(
        "Aspirin above {max_aspirin_mg_per_day} mg/day with ticagrelor or with rivaroxaban "
        "{dpi_rivaroxaban_mg} mg {dpi_per_day:daily}"
    ),
    citations=(
        Citation(
            "FDA label: Brilinta (ticagrelor) boxed warning (reference/clinical-kb.md §2.3)",
            "Maintenance doses of aspirin above 100 mg reduce the effectiveness of BRILINTA and should be avoided.",
        ),
        Citation(
            "FDA label: Brilinta (ticagrelor) boxed warning (reference/clinical-kb.md §2.3)",
            "After any initial dose, use with aspirin 75-100 mg per day.",
        ),
        Citation(
            "reference/clinical-kb.md §6.1 (rivaroxaban CAD/PAD indication)",
            "2.5 mg twice daily with aspirin 75-100 mg once daily",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "use dual pathway inhibition: rivaroxaban 2.5 mg twice daily plus aspirin 81 mg daily",
            "31",
        ),
    ),
    drugs=frozenset({"aspirin", "ticagrelor", "rivaroxaban"}),
    applies_to=frozenset({"aspirin"}),
    applies_to_regimen=True,
)


class Options(RuleOptions):
    max_aspirin_mg_per_day: float
    suggest_aspirin_mg: float
    dpi_rivaroxaban_mg: float
    dpi_per_day: float


def _excess(order: MedicationOrder, o: Options) -> Daily | CouldNotVerify | None:
    daily = read_daily(order, rule_code=META.code, what="the aspirin daily dose")
    if isinstance(daily, CouldNotVerify):
        return daily
    limit = o.max_aspirin_mg_per_day + EPS
    worst = None  # the first of the highest repeating phases above the limit (as `max`), without a comprehension
    for d in daily:
        if not d.single and d.per_day_high > limit and (worst is None or d.per_day_high > worst.per_day_high):
            worst = d
    return worst


@lru_cache(maxsize=16)  # the option's number -> the same label in every finding of a profile
def _label(suggest_mg: float) -> str:
    return f"Change aspirin to {fmt(suggest_mg)} mg once daily"


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    in_regimen = drug_index(order_set).in_regimen  # shared lists, never changed here
    ticagrelor = in_regimen.get("ticagrelor", ())
    on_rivaroxaban = "rivaroxaban" in in_regimen
    if not ticagrelor and not on_rivaroxaban:
        return
    aspirin = in_regimen.get("aspirin")
    if not aspirin:
        return
    dpi = dpi_orders(order_set, o.dpi_rivaroxaban_mg, o.dpi_per_day, rule_code=META.code) if on_rivaroxaban else None
    partners = [*ticagrelor, *(dpi.matching if dpi else ())]
    for order in aspirin:
        excess = _excess(order, o)
        if excess is None:
            continue
        if isinstance(excess, CouldNotVerify):
            # needed only when a partner is (or might be) there and something of the combination is new
            if (partners and any_under_review([order, *partners])) or (dpi and dpi.unreadable):
                yield excess
            continue
        if not partners:
            if dpi:
                yield from dpi.unreadable  # it might be DPI: say we could not tell
            continue
        if not (order.under_review or any_under_review(partners)):
            continue  # the combination was reviewed before
        suggestion = None
        label = None
        if order.resource_type == "MedicationRequest":
            label = _label(o.suggest_aspirin_mg)
            suggestion = dose_suggestion(label, order.ref, excess.dosage_index, o.suggest_aspirin_mg, 1)
        partner_refs = [m.ref for m in partners]
        yield finding_later(
            META,
            _texts,
            (order, excess, bool(ticagrelor), bool(dpi and dpi.matching), partners, label, o),
            [order.ref, *partner_refs],
            suggestion=suggestion,
            values={"aspirin_mg_per_day": round(excess.per_day_high, 3), "partners": partner_refs},
        )


@lru_cache(maxsize=16)  # the options' numbers -> the same words in every finding of a profile
def _dpi_text(dpi_mg: float, dpi_per_day: float) -> str:
    return f"rivaroxaban {fmt(dpi_mg)} mg {frequency_phrase(dpi_per_day, dpi_per_day)}"


def _texts(
    order: MedicationOrder,
    excess: Daily,
    with_ticagrelor: bool,
    with_dpi: bool,
    partners: list[MedicationOrder],
    label: str | None,
    o: Options,
) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read)."""
    with_what = " and ".join(
        (["ticagrelor"] if with_ticagrelor else [])
        + ([_dpi_text(o.dpi_rivaroxaban_mg, o.dpi_per_day)] if with_dpi else [])
    )
    per_day = range_text(excess.per_day_low, excess.per_day_high)
    where = "order under review" if order.under_review else "active medication in context"
    lines = [
        f"**{order.name}** (`{order.ref}`, {where}): {excess.describe()}.",
        excess.how,
        f"Aspirin **{per_day} mg/day** with {with_what}: above {fmt(o.max_aspirin_mg_per_day)} mg/day.",
        "Orders involved:\n" + regimen_lines([order, *partners]),
    ]
    if label is not None:
        lines.append(f"Suggested: {label}.")
    summary = (
        f"Aspirin {fmt(excess.per_day_high)} mg/day with {with_what}; use aspirin "
        f"{fmt(o.suggest_aspirin_mg)} mg (at most {fmt(o.max_aspirin_mg_per_day)} mg/day)"
    )
    return summary, lines
