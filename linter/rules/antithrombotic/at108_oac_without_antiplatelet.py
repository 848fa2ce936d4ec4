"""AT108 oac-without-antiplatelet: full-dose oral anticoagulant with no antiplatelet in PAD.

## What it checks
When the order set is in PAD context, and the regimen (orders under review plus active medications in
context) holds a full-dose oral anticoagulant (warfarin, apixaban, dabigatran, edoxaban at any dose, or
rivaroxaban at `full_dose_rivaroxaban_mg_per_day` (10) mg/day or more) and no antiplatelet (aspirin,
clopidogrel, prasugrel, ticagrelor, ticlopidine), then it is critical. When an active Condition documents
another indication for anticoagulation (atrial fibrillation, venous thromboembolism, mechanical heart
valve), it is a warning instead.
No suggestion: the pharmacist chooses; override reasons are offered.

## Why it matters
For PAD, oral anticoagulation alone is Class III: Harm. It bleeds more without protecting the limb or the
heart better than antiplatelet therapy. With another indication the anticoagulant is right, but the PAD
still calls for a reviewed decision about an antiplatelet.

## Example
Fires: `fixtures/AT108/fail-apixaban-alone.json` (critical),
`fixtures/AT108/fail-warfarin-alone-atrial-fibrillation.json` (warning).
Silent: `fixtures/AT108/pass-apixaban-with-aspirin.json`, `fixtures/AT108/pass-rivaroxaban-5mg-not-full-dose.json`.

## Options
- `full_dose_rivaroxaban_mg_per_day`: 10 mg/day (RULES.md Terms "Full-dose oral anticoagulant").

## Source
001_f5986088b79218a7.txt:33.

## Limitations
Reading taken: cilostazol is not counted as an antiplatelet here (RULES.md counts it for AT104 only), so a
full-dose anticoagulant with cilostazol alone fires; the detail says cilostazol was seen. The anticoagulant
may be an active medication in context (a regimen-presence rule, like AT104). A rivaroxaban order whose dose
cannot be read is reported (DQ901/DQ902).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import make_finding, regimen_lines
from linter.rules._drug_index import regimen_has
from linter.rules.antithrombotic._regimen import antiplatelet_drugs, full_dose_oac_orders, oac_names, review_first

META = RuleMeta(
    code="AT108",
    name="oac-without-antiplatelet",
    family="antithrombotic",
    scope=Scope.PAD,
    default_indicator=Indicator.CRITICAL,
    summary="PAD with a full-dose oral anticoagulant and no antiplatelet",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt", "Never use oral anticoagulation alone—this is harmful (Class III: Harm).", "33"
        ),
    ),
    drugs=frozenset(
        {
            "warfarin",
            "apixaban",
            "dabigatran",
            "edoxaban",
            "rivaroxaban",
            "aspirin",
            "clopidogrel",
            "prasugrel",
            "ticagrelor",
            "ticlopidine",
        }
    ),
)

OTHER_INDICATIONS = ("atrial_fibrillation", "vte", "mechanical_valve")


class Options(RuleOptions):
    full_dose_rivaroxaban_mg_per_day: float


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    if antiplatelet_drugs(order_set, include_cilostazol=False):
        return
    oac = full_dose_oac_orders(order_set, options.full_dose_rivaroxaban_mg_per_day, rule_code=META.code)
    yield from oac.unreadable
    if not oac.matching:
        return
    indications = [c for cat in OTHER_INDICATIONS for c in order_set.patient.conditions_in(cat)]
    orders = review_first(oac.matching)
    names = oac_names(orders)
    names = names[:1].upper() + names[1:]
    ctx = order_set.pad_context
    lines = [
        "Full-dose oral anticoagulant in the regimen:\n" + "\n".join(f"- {h}" for h in oac.how),
        "No antiplatelet (aspirin, clopidogrel, prasugrel, ticagrelor, ticlopidine) among the orders under review "
        "or the active medications in context.",
        f"PAD context: {ctx.how if ctx else 'forced'}.",
        "Regimen read:\n" + regimen_lines(order_set.regimen),
    ]
    if regimen_has(order_set, "cilostazol"):
        lines.append("Cilostazol is in the regimen; it is not counted as the antiplatelet here (RULES.md Terms).")
    if indications:
        found = "; ".join(f"`{c.ref}` {c.concept.label}" for c in indications)
        lines.append(
            f"Another indication for anticoagulation is documented ({found}): **warning** instead of "
            "critical. Confirm whether a single antiplatelet should be added for the PAD."
        )
        summary = (
            f"{names} without an antiplatelet in PAD; another anticoagulation indication is documented: "
            "review the antiplatelet"
        )
        indicator = Indicator.WARNING
    else:
        lines.append("No atrial fibrillation, venous thromboembolism or mechanical valve documented.")
        summary = f"{names} (full-dose oral anticoagulant) alone in PAD, no antiplatelet: OAC alone is harmful"
        indicator = Indicator.CRITICAL
    yield make_finding(
        META,
        summary,
        lines,
        [m.ref for m in orders],
        indicator=indicator,
        values={"other_indication": [c.ref for c in indications]},
    )
