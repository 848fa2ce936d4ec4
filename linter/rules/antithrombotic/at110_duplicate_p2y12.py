"""AT110 duplicate-p2y12: two different P2Y12 inhibitors in the regimen.

## What it checks
When the regimen (orders under review plus active medications in context) holds two or more different
P2Y12 inhibitors (clopidogrel, prasugrel, ticagrelor), and at least one of them is an order under review (a
combination rule), then it is critical.
Then the suggestion deletes the newer order: among the P2Y12 orders under review, the one with the latest
authoredOn; if none of them is dated, the last one under review.

## Why it matters
Two P2Y12 inhibitors block the same receptor twice: no added protection, much more bleeding. It usually
means a switch (e.g. ticagrelor to clopidogrel) where the old order was not stopped.

## Example
Fires: `fixtures/AT110/fail-clopidogrel-and-ticagrelor.json`,
`fixtures/AT110/fail-prasugrel-new-clopidogrel-in-context.json`.
Silent: `fixtures/AT110/pass-switch-old-order-stopped.json` (the old ticagrelor order is stopped),
`fixtures/AT110/pass-two-clopidogrel-orders.json` (same drug: not AT110).

## Options
None.

## Source
External: duplicate therapy; reference/clinical-kb.md §4 #21 (ACCAHA24 rec 7: one P2Y12 antagonist plus
aspirin).

## Limitations
Overlapping dates are not compared: every order in the regimen is taken as current (stopped and completed
orders are not in the regimen). Ticlopidine is not counted (RULES.md lists three drugs). Two orders of the
same P2Y12 inhibitor are not this rule's finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, DeleteAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import DEFAULT_OVERRIDES, OVERRIDE_ORDER_EXISTS, make_finding, regimen_lines
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import newest, p2y12_drugs, review_first

META = RuleMeta(
    code="AT110",
    name="duplicate-p2y12",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="Two different P2Y12 inhibitors (clopidogrel, prasugrel, ticagrelor) in the regimen",
    citations=(
        Citation(
            "reference/clinical-kb.md §4 #21 (external: duplicate therapy; ACCAHA24 rec 7)",
            "Two P2Y12 inhibitors at once (clopidogrel + prasugrel/ticagrelor)",
        ),
    ),
    drugs=frozenset({"clopidogrel", "prasugrel", "ticagrelor"}),
    applies_to=frozenset({"class:p2y12"}),
    applies_to_regimen=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    members = p2y12_drugs()
    index = drug_index(order_set)
    present = members.intersection(index.in_regimen)  # the P2Y12 drugs some order of the regimen holds
    if len(present) < 2:
        return
    drugs = sorted(present)
    orders = index.with_any(members)
    under = [m for m in orders if m.under_review]
    if not under:
        return
    target = newest(under)
    others = [m for m in review_first(orders) if m.ref != target.ref]
    when = target.authored_on.date().isoformat() if target.authored_on else "no authoredOn date"
    label = f"Delete the newer P2Y12 order ({target.name})"
    yield make_finding(
        META,
        f"Two P2Y12 inhibitors: {' and '.join(drugs)}; delete the newer order ({target.name})",
        [
            f"P2Y12 inhibitors in the regimen: **{', '.join(drugs)}**.",
            "Orders involved:\n" + regimen_lines([target, *others]),
            f"Newer order under review: `{target.ref}` ({when}); the rule proposes deleting it. If this is a "
            "switch, stop the old order instead.",
        ],
        [target.ref, *(m.ref for m in others)],
        suggestion=Suggestion(label, (DeleteAction(target.ref, label),)),
        override_reasons=(*DEFAULT_OVERRIDES, OVERRIDE_ORDER_EXISTS),
        values={"p2y12": drugs, "delete": target.ref},
    )
