"""HEP203 act-target-missing: a procedural heparin bolus in a BTK order set states no ACT target.

## What it checks
When the order set is in BTK revascularization context and an order under review is a procedural heparin
bolus (unfractionated heparin, IV or intra-arterial, one administration, a dose and not a rate), then an
activated clotting time (ACT) target must be stated somewhere in the request:
- a `Goal` whose `target.measure` is the ACT LOINC code (3184-9, or a method-specific ACT code);
- the heparin order's text: `dosageInstruction.text`, `additionalInstruction`, `patientInstruction`, `note`
  ("Target ACT 250-300 seconds", "ACT > 250");
- the text of any other order under review, e.g. the angioplasty ServiceRequest's note "ACT 250-300 s"
  (its code text, order details and notes).
When none is found, this warning fires once per bolus order. Whether a stated target is right is HEP204's.

## Why it matters
The source gives the bolus *to achieve* an ACT of 250-300 s: without a stated target nobody knows when to
re-dose heparin during the procedure, and under-anticoagulation risks thrombosis of the treated tibial
vessel.

## Example
Fires: `fixtures/HEP203/fail-bolus-no-act-target.json` (the clean BTK order set without its ACT note).
Silent: `fixtures/HEP203/pass-act-target-in-service-request-note.json` and
`fixtures/HEP203/pass-act-target-goal.json`.

## Options
None.

## Source
000_db9ef64a206b36dc.txt:24.

## Limitations
Scope btk: an IV heparin bolus for venous thromboembolism has no ACT target and gets no HEP203. Subcutaneous
prophylaxis and rate-based infusions are not boluses. Readings taken: "anywhere in the request" means Goals
plus the text of every order under review; history (completed procedures, context medications) does not
count, since its target belonged to another procedure. ACT targets are read from text by pattern ("ACT
250-300", "ACT > 250", "activated clotting time of 250-300 seconds", "ACT between 250 and 300"); a target
written otherwise (a single value "ACT 250", or text between "ACT" and the numbers that holds a digit, as in
"ACT q30 min, goal 250-300") is not recognized and the rule fires. A ServiceRequest's `patientInstruction`
is not in the normalized model and is not read.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.heparin._act import looked_in, request_targets
from linter.rules.heparin._bolus import boluses, route_label

META = RuleMeta(
    code="HEP203",
    name="act-target-missing",
    family="heparin",
    scope=Scope.BTK,
    default_indicator=Indicator.WARNING,
    summary="Procedural heparin bolus in BTK revascularization and no ACT target anywhere in the request",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "The procedure typically begins with administration of "
            "anticoagulation (unfractionated heparin 70-100 units/kg) to achieve an activated clotting time "
            "of 250-300 seconds.",
            "24",
        ),
    ),
    drugs=frozenset({"heparin"}),
    applies_to=frozenset({"class:heparin_ufh"}),  # heparin_orders: UFH under review
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    out: list[Emitted] = []
    found = boluses(order_set)
    if not found:
        return out
    if request_targets(order_set):
        return out
    places = looked_in(order_set)
    context = order_set.btk_context.how if order_set.btk_context else "BTK revascularization context"
    for bolus in found:
        order = bolus.order
        route = route_label(bolus.route)
        lines = [
            f"**{order.name}** (`{order.ref}`): procedural bolus, {route}, one administration, in BTK "
            f"revascularization context ({context}).",
            "**No ACT target** was found. Looked in:\n" + "\n".join(f"- {p}" for p in places),
            'State the target, e.g. "Target ACT 250-300 seconds" in the heparin order, or a Goal with the ACT '
            "measure (LOINC 3184-9) and a range in seconds.",
        ]
        out.append(
            make_finding(
                META,
                f"Heparin bolus {route} for BTK angioplasty: no ACT target stated in the request",
                lines,
                [order.ref],
                values={"looked_in": list(places)},
            )
        )
    return out
