"""LL401 statin-missing: PAD context and no statin in the regimen.

## What it checks
When the order set is in PAD context (a BTK revascularization, or an active Condition of PAD, claudication or
CLTI) and the regimen (orders under review plus active medications in context) has no statin (terminology
class `statin`: atorvastatin, rosuvastatin, simvastatin, pravastatin ...), then the finding is a warning with
a suggestion to create the profile's `suggest_template` (atorvastatin 80 mg once daily).

## Why it matters
Patients with PAD die mostly of cardiovascular events; a high-intensity statin lowers that risk and also
improves walking distance. Every PAD patient should be on one unless it is not tolerated.

## Example
Fires: `fixtures/LL401/fail-no-statin.json` (the complete BTK order set without its atorvastatin order).
Silent: `fixtures/LL401/pass-statin-in-context.json` (no statin ordered, but an active rosuvastatin 20 mg
MedicationRequest in context).

## Options
- `suggest_template`: the `[regimens.*]` template the suggestion creates (`atorvastatin_80_daily`).

## Source
001_f5986088b79218a7.txt:26-27.

## Limitations
Statin intolerance or allergy is not read (no verified code set is loaded): override with the reason.
Ezetimibe or a PCSK9 inhibitor alone is not a statin and the rule fires. Completed or stopped statin orders
do not count (RULES.md "Regimen").
Reading taken: the finding is attached to the order or Condition that puts the order set in PAD context (no
reference when the context was forced for a template).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CreateAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import make_finding, regimen_in_class

# Terminology drug keys of class "statin" (tests/rules/test_lipid.py checks this equals the class).
STATINS = frozenset(
    {"atorvastatin", "rosuvastatin", "simvastatin", "pravastatin", "lovastatin", "fluvastatin", "pitavastatin"}
)

META = RuleMeta(
    code="LL401",
    name="statin-missing",
    family="lipid",
    scope=Scope.PAD,
    default_indicator=Indicator.WARNING,
    summary="PAD context and no statin in the regimen",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Reduce LDL-C by ≥50% from baseline to <55 mg/dL (<1.4 mmol/L) using "
            "high-intensity statin therapy (atorvastatin 80 mg daily or equivalent).",
            "26",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "Statins improve both cardiovascular outcomes and walking distance in PAD patients.",
            "27",
        ),
    ),
    drugs=STATINS,
)


class Options(RuleOptions):
    suggest_template: str


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    if regimen_in_class(order_set, "statin"):
        return
    pad = order_set.pad_context
    why = pad.how if pad is not None else "PAD context"
    regimen = options.regimen(options.suggest_template)
    label = f"Add {regimen.spelled}"
    yield make_finding(
        META,
        f"No statin in the regimen of a PAD patient: add a high-intensity statin ({regimen.short})",
        [
            f"PAD context: {why}.",
            "No statin is among the orders under review or the active medications in context.",
            f"Suggested: {regimen.sig} (high intensity), unless a statin is not tolerated.",
        ],
        [pad.ref] if pad is not None and pad.ref else [],
        suggestion=Suggestion(label, (CreateAction(options.suggest_template, label),)),
    )
