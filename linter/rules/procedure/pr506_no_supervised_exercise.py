"""PR506 no-supervised-exercise: claudication without CLTI and no supervised exercise therapy on record.

## What it checks
When the order set is in PAD context, claudication is documented (an active Condition, or the stated reason
or note of a BTK revascularization order under review, in category `claudication`), no chronic
limb-threatening ischemia is documented, and no supervised exercise therapy is ordered or on record (an order
under review or a Procedure/ServiceRequest in context whose words say "supervised exercise", "exercise
therapy", "exercise program", "walking program", or a revascularization order whose note says so), then the
finding is info.

## Why it matters
Supervised exercise therapy is first-line treatment for claudication (Class I, Level A) and improves walking
distance; unstructured advice to "walk more" does not work.

## Example
Fires: `fixtures/PR506/fail-claudication-no-exercise.json` (claudication I70.212, statin ordered, no exercise).
Silent: `fixtures/PR506/pass-exercise-referral.json` (the same patient with a "Supervised exercise therapy"
ServiceRequest).

## Options
None.

## Source
001_f5986088b79218a7.txt:49; 001_f5986088b79218a7.txt:125.

## Limitations
Supervised exercise therapy has no verified code: it is recognized by words only, and a referral written in
other words is missed (the card is info). Negations ("declined exercise program") read as on record.
Cilostazol, which the same source lists next to exercise, is not required by this rule.
Reading taken: the finding is attached to the BTK revascularization orders under review when there are any
(the decision the card is about), otherwise to the claudication Condition.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.procedure._indication import (
    context_procedures,
    documented,
    evidence_lines,
    kinds_of,
    revasc_orders,
    text_kinds,
)

META = RuleMeta(
    code="PR506",
    name="no-supervised-exercise",
    family="procedure",
    scope=Scope.PAD,
    default_indicator=Indicator.INFO,
    summary="Claudication without CLTI and no supervised exercise therapy ordered or on record",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Exhaust supervised exercise therapy (Class I, Level A) and cilostazol "
            "before considering any intervention.",
            "49",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            'Unstructured advice to "walk more" is not efficacious—refer to supervised exercise programs.',
            "125",
        ),
    ),
    reads_procedures=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    revasc = revasc_orders(order_set)
    claudication = documented(order_set, "claudication", revasc)
    if not claudication or documented(order_set, "clti", revasc):
        return
    if any("exercise" in kinds_of(p) for p in (*order_set.procedures, *context_procedures(order_set))):
        return
    if any("exercise" in text_kinds("\n".join(p.notes)) for p in revasc):
        return
    refs = [p.ref for p in revasc] or [e.where.split(" ")[0] for e in claudication]
    yield make_finding(
        META,
        "Claudication without CLTI: no supervised exercise therapy ordered or on record",
        [
            "Claudication is documented:\n" + evidence_lines(claudication),
            "No chronic limb-threatening ischemia is documented, and no supervised exercise therapy is ordered or on "
            "record (no order, procedure or note that says supervised exercise, exercise therapy or exercise "
            "program).",
            "Refer the patient to a supervised exercise program (and consider cilostazol if there is no heart "
            "failure) before any intervention.",
        ],
        refs,
        values={"claudication": [e.where for e in claudication]},
    )
