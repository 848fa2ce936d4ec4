"""AT115 prasugrel-prior-stroke: prasugrel for a patient with prior stroke or TIA.

## What it checks
When a prasugrel order is under review (any indication), and the patient has an active Condition in the
`stroke_tia` category (ICD-10-CM I63.-, G45.-, Z86.73, or the words, matched by text), then it is critical.
Then the suggestion deletes the prasugrel order.

## Why it matters
In patients with a prior stroke or transient ischemic attack prasugrel caused more intracranial and fatal
bleeding with no net benefit; the US label makes it a boxed contraindication.

## Example
Fires: `fixtures/AT115/fail-prasugrel-history-of-tia.json` (Z86.73).
Silent: `fixtures/AT115/pass-prasugrel-no-stroke.json`.

## Options
None.

## Source
External: Effient (prasugrel) boxed warning and section 4.2 (reference/clinical-kb.md §6.1).

## Limitations
Reads coded or named Conditions that are not refuted or entered in error, including resolved and inactive
ones: a stroke or TIA in the past is the contraindication (`fixtures/AT115/fail-prasugrel-resolved-stroke.json`).
The G45 prefix also covers G45.4 (transient global amnesia),
as RULES.md states it; age >= 75 and weight < 60 kg (label cautions) are not checked.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, DeleteAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding, orders_of, regimen_lines
from linter.rules.antithrombotic._regimen import condition_label, condition_list

META = RuleMeta(
    code="AT115",
    name="prasugrel-prior-stroke",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="Prasugrel for a patient with prior stroke or TIA (boxed contraindication)",
    citations=(
        Citation(
            "FDA label: Effient (prasugrel) boxed warning (reference/clinical-kb.md §6.1)",
            "Do not use Effient in patients with active pathological bleeding or a history of transient "
            "ischemic attack or stroke",
        ),
    ),
    drugs=frozenset({"prasugrel"}),
    applies_to=frozenset({"prasugrel"}),
)

Options = NoOptions


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    prior = order_set.patient.conditions_in("stroke_tia", include_history=True)  # a resolved stroke counts
    if not prior:
        return
    found = condition_list(prior)
    for order in orders_of(order_set, "prasugrel"):
        label = f"Delete {order.name}"
        yield make_finding(
            META,
            f"Prasugrel with prior stroke/TIA ({condition_label(prior[0])}): contraindicated (boxed warning)",
            [
                f"**{order.name}** (`{order.ref}`) is ordered.",
                f"Prior stroke or TIA documented: {found}.",
                "Order judged:\n" + regimen_lines([order]),
                f"Suggested: {label}; clopidogrel is the usual alternative P2Y12 inhibitor.",
            ],
            [order.ref, *(c.ref for c in prior)],
            suggestion=Suggestion(label, (DeleteAction(order.ref, label),)),
            values={"conditions": [c.ref for c in prior]},
        )
