"""AT109 triple-therapy: full-dose oral anticoagulant together with aspirin and a P2Y12 inhibitor.

## What it checks
When the regimen (orders under review plus active medications in context) holds a full-dose oral
anticoagulant (warfarin, apixaban, dabigatran, edoxaban at any dose, or rivaroxaban at
`full_dose_rivaroxaban_mg_per_day` (10) mg/day or more), aspirin, and a P2Y12 inhibitor (clopidogrel,
prasugrel, ticagrelor), and at least one of these orders is under review (a combination rule), then it is
critical, whatever the indication.
No suggestion: which agent to stop is a clinical decision.

## Why it matters
Triple antithrombotic therapy multiplies major bleeding. With a full-intensity anticoagulant the PAD
guidance adds a **single** antiplatelet, not two.

## Example
Fires: `fixtures/AT109/fail-rivaroxaban-20mg-aspirin-clopidogrel.json`,
`fixtures/AT109/fail-warfarin-in-context-new-dapt.json`.
Silent: `fixtures/AT109/pass-dpi-with-dapt.json` (rivaroxaban 2.5 mg twice daily is not full dose: AT114's
business), `fixtures/AT109/pass-apixaban-with-clopidogrel-only.json`.

## Options
- `full_dose_rivaroxaban_mg_per_day`: 10 mg/day (RULES.md Terms "Full-dose oral anticoagulant").

## Source
External: 2024 ACC/AHA PAD guideline (ACCAHA24 rec 8) bleeding guidance as recorded in
reference/clinical-kb.md §2.3 and §4 (#13).

## Limitations
Any dose of aspirin or the P2Y12 inhibitor counts, loading doses included (a loading dose starts the
combination). Low-molecular-weight heparin at therapeutic dose is not read as a full-dose anticoagulant here
(RULES.md lists oral agents). A rivaroxaban order whose dose cannot be read is reported (DQ901/DQ902).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import make_finding, regimen_lines
from linter.rules._drug_index import drug_index
from linter.rules.antithrombotic._regimen import (
    any_under_review,
    full_dose_oac_orders,
    oac_names,
    p2y12_drugs,
    review_first,
)

META = RuleMeta(
    code="AT109",
    name="triple-therapy",
    family="antithrombotic",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="Full-dose oral anticoagulant with aspirin and a P2Y12 inhibitor (triple therapy)",
    citations=(
        Citation(
            "reference/clinical-kb.md §4 #13 (ACCAHA24 rec 8; 2024 ACC/AHA PAD guideline)",
            "Full-intensity anticoagulant (rivaroxaban 15/20 mg, apixaban 5 mg BID, warfarin, therapeutic "
            "enoxaparin) + aspirin + P2Y12 = triple therapy",
        ),
        Citation(
            "reference/clinical-kb.md §2.3 (ACCAHA24 rec 8)",
            "even then ACCAHA24 rec 8 supports adding **single** antiplatelet only",
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
        }
    ),
    applies_to=frozenset({"aspirin"}),
    applies_to_regimen=True,
)


class Options(RuleOptions):
    full_dose_rivaroxaban_mg_per_day: float


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    index = drug_index(order_set)
    aspirin = index.in_regimen.get("aspirin")
    if not aspirin:
        return
    p2y12 = index.with_any(p2y12_drugs())  # shared lists, never changed here
    if not p2y12:
        return
    oac = full_dose_oac_orders(order_set, options.full_dose_rivaroxaban_mg_per_day, rule_code=META.code)
    if not oac.matching:
        if oac.unreadable:
            under = {m.ref for m in order_set.medications}
            if any_under_review(aspirin + p2y12) or any(c.ref in under for c in oac.unreadable):
                yield from oac.unreadable
        return
    involved = list(oac.matching) + aspirin + p2y12
    if not any_under_review(involved):
        return  # the combination was reviewed before: nothing new is ordered
    orders = review_first(involved)
    p2y12_names = sorted({d for m in p2y12 for d in m.drug.drugs & p2y12_drugs()})
    anticoagulant = oac_names(oac.matching)
    yield make_finding(
        META,
        f"Triple therapy: {anticoagulant} + aspirin + {', '.join(p2y12_names)}; with full-dose anticoagulation "
        "add a single antiplatelet only",
        [
            "Full-dose oral anticoagulant:\n" + "\n".join(f"- {h}" for h in oac.how),
            "Aspirin: " + ", ".join(f"`{m.ref}`" for m in review_first(aspirin)) + ".",
            f"P2Y12 inhibitor ({', '.join(p2y12_names)}): "
            + ", ".join(f"`{m.ref}`" for m in review_first(p2y12))
            + ".",
            "Orders involved:\n" + regimen_lines(orders),
            "Stop aspirin or the P2Y12 inhibitor unless a documented plan (e.g. a short post-stent course) "
            "justifies all three.",
        ],
        [m.ref for m in orders],
        values={"anticoagulant": [m.ref for m in oac.matching], "p2y12": p2y12_names},
    )
