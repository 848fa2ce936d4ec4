"""AT112 cilostazol-heart-failure: cilostazol for a patient with heart failure.

## What it checks
When a cilostazol order is under review (any indication), and the patient has an active Condition in the
`heart_failure` category (ICD-10-CM I50.-, I11.0, I13.0, I13.2; SNOMED 84114007, 42343007, 88805009,
417996009; or the words, matched by text), then it is critical.
Then the suggestion deletes the cilostazol order.

## Why it matters
Cilostazol is a PDE3 inhibitor; drugs of that class reduced survival in heart failure. The US label makes
heart failure of any severity a boxed contraindication.

## Example
Fires: `fixtures/AT112/fail-cilostazol-heart-failure.json`.
Silent: `fixtures/AT112/pass-heart-failure-resolved.json` (the Condition is resolved).

## Options
None.

## Source
External: FDA boxed warning, Pletal (reference/clinical-kb.md §2.3).

## Limitations
Reads only coded or named active Conditions; an ejection fraction alone is not read. A cilostazol that is
only an active medication in context is not judged (scope `any`: the drug must be under review).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, DeleteAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding, orders_of, regimen_lines
from linter.rules.antithrombotic._regimen import condition_label, condition_list

META = RuleMeta(
    code="AT112",
    name="cilostazol-heart-failure",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="Cilostazol with an active heart-failure Condition (boxed contraindication)",
    citations=(
        Citation(
            "FDA label: Pletal (cilostazol) boxed warning (reference/clinical-kb.md §2.3)",
            "contraindicated in patients with heart failure of any severity.",
        ),
    ),
    drugs=frozenset({"cilostazol"}),
    applies_to=frozenset({"cilostazol"}),
)

Options = NoOptions


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    hf = order_set.patient.conditions_in("heart_failure")
    if not hf:
        return
    found = condition_list(hf)
    for order in orders_of(order_set, "cilostazol"):
        label = f"Delete {order.name}"
        yield make_finding(
            META,
            f"Cilostazol with heart failure ({condition_label(hf[0])}): contraindicated (boxed warning)",
            [
                f"**{order.name}** (`{order.ref}`) is ordered.",
                f"Active heart-failure Condition: {found}.",
                "Order judged:\n" + regimen_lines([order]),
                f"Suggested: {label}.",
            ],
            [order.ref, *(c.ref for c in hf)],
            suggestion=Suggestion(label, (DeleteAction(order.ref, label),)),
            values={"conditions": [c.ref for c in hf]},
        )
