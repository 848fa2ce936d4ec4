"""AT104 antiplatelet-missing: BTK revascularization with no antiplatelet at all in the regimen.

## What it checks
When the order set is in BTK revascularization context, and the regimen (orders under review plus active
medications in context) holds no antiplatelet at all (aspirin, clopidogrel, prasugrel, ticagrelor,
ticlopidine, or cilostazol: RULES.md counts cilostazol for AT104), then it is critical.
Then the suggestion creates the profile's aspirin regimen (`suggest_template`, aspirin 81 mg once daily).

## Why it matters
Antiplatelet therapy after revascularization is a Class I, Level A recommendation: without it the treated
tibial vessel is at high risk of early thrombosis and the patient of cardiovascular events.

## Example
Fires: `fixtures/AT104/fail-no-antiplatelet.json`.
Silent: `fixtures/AT104/pass-aspirin-active-in-context.json` (aspirin already taken: a MedicationStatement
in context), `fixtures/AT104/pass-cilostazol-only.json`.

## Options
- `suggest_template`: the `[regimens.*]` key the suggestion creates (aspirin_81_daily).

## Source
001_f5986088b79218a7.txt:116.

## Limitations
A documented contraindication (allergy, active bleeding) is not read: the pharmacist overrides with a reason.
The finding concerns the order set as a whole; its reference is the procedure that makes the BTK context.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CreateAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import make_finding, regimen_lines
from linter.rules.antithrombotic._regimen import antiplatelet_drugs

META = RuleMeta(
    code="AT104",
    name="antiplatelet-missing",
    family="antithrombotic",
    scope=Scope.BTK,
    default_indicator=Indicator.CRITICAL,
    summary="BTK revascularization and no antiplatelet at all in the regimen",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Initiate antiplatelet therapy immediately and continue indefinitely "
            "(Class I, Level A) unless contraindicated.",
            "116",
        ),
    ),
    drugs=frozenset({"aspirin", "clopidogrel", "prasugrel", "ticagrelor", "ticlopidine", "cilostazol"}),
)


class Options(RuleOptions):
    suggest_template: str


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    if antiplatelet_drugs(order_set, include_cilostazol=True):
        return
    ctx = order_set.btk_context
    label = f"Order {options.regimen(options.suggest_template).sig}"
    yield make_finding(
        META,
        "No antiplatelet in the regimen after BTK revascularization; "
        f"start {options.regimen(options.suggest_template).short} unless contraindicated",
        [
            f"BTK revascularization context: {ctx.how if ctx else 'forced'}.",
            "Looked for aspirin, clopidogrel, prasugrel, ticagrelor, ticlopidine or cilostazol among the orders "
            "under review and the active medications in context: **none found**.",
            "Regimen read:\n" + regimen_lines(order_set.regimen),
            f"Suggested: {label}.",
        ],
        [ctx.ref] if ctx and ctx.ref else [],
        suggestion=Suggestion(label, (CreateAction(options.suggest_template, label),)),
        values={"antiplatelets": []},
    )
