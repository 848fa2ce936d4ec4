"""PR505 abi-in-dialysis-patient: ankle-brachial index ordered for a patient with ESRD or on dialysis.

## What it checks
When an order under review is an ankle-brachial index (LOINC 77194-9, SNOMED CT 401221002 / 446841001, or the
words "ankle-brachial index", "ABI") and the patient has end-stage renal disease or dialysis dependence (an
active Condition in category `esrd` or `dialysis`: N18.6, N18.5, Z99.2, SNOMED 46177005, 236435004, 105502003
..., or a hemodialysis Procedure in context), then the finding is info, with one suggestion that replaces the
ABI order by a toe-brachial index order (delete the ABI order and create the profile's `suggest_order`).
Scope: any (a dialysis patient's ABI is wrong whatever the indication).

## Why it matters
Medial arterial calcification in dialysis patients makes ankle arteries incompressible, so the ABI reads
falsely normal or high and hides ischemia. Toe arteries are usually spared: the toe-brachial index is the
measure to use.

## Example
Fires: `fixtures/PR505/fail-abi-dialysis.json` (ABI ServiceRequest LOINC 77194-9, Condition Z99.2).
Silent: `fixtures/PR505/pass-abi-no-renal-disease.json` (the same ABI order, no ESRD or dialysis).

## Options
- `suggest_order`: the `[orders.*]` template the suggestion creates (`toe_brachial_index`).

## Source
001_f5986088b79218a7.txt:109.

## Limitations
No LOINC or SNOMED CT code for the toe-brachial index was verified: the suggested order is text only, and a
TBI order is recognized by its words. When a TBI is also ordered (or the ABI order's own words include toe
pressures) the ABI is not the only measure and the rule is silent. CKD stage 5 (N18.5) counts with ESRD
(clinical-kb.md §3.2 lists it in the ESRD row).
Reading taken: a hemodialysis Procedure in context (SNOMED 302497006, CPT 90935/90937) documents dialysis
dependence as a Condition would.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CreateAction, DeleteAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import make_finding
from linter.rules.procedure._indication import (
    Evidence,
    context_procedures,
    documented,
    evidence_lines,
    kinds_of,
)

META = RuleMeta(
    code="PR505",
    name="abi-in-dialysis-patient",
    family="procedure",
    scope=Scope.ANY,
    default_indicator=Indicator.INFO,
    summary="Ankle-brachial index ordered for a patient with ESRD or on dialysis: use the toe-brachial index",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Ankle-brachial index (ABI) may be falsely elevated due to medial "
            "arterial calcification; use toe-brachial index (TBI) instead.",
            "109",
        ),
    ),
    reads_procedures=True,
)


class Options(RuleOptions):
    suggest_order: str


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    abi_orders = [p for p in order_set.procedures if "abi" in kinds_of(p)]
    if not abi_orders:
        return
    if any("tbi" in kinds_of(p) for p in order_set.procedures):
        return
    renal = documented(order_set, "esrd") + documented(order_set, "dialysis")
    renal += [Evidence(p.ref, p.name) for p in context_procedures(order_set) if "dialysis" in p.identity.kinds]
    unique: dict[str, Evidence] = {}
    for e in renal:
        unique.setdefault(e.where, e)
    renal = list(unique.values())
    if not renal:
        return
    for p in abi_orders:
        label = "Replace the ankle-brachial index with a toe-brachial index"
        suggestion = Suggestion(
            label,
            (
                DeleteAction(p.ref, f"Cancel {p.name}: falsely elevated with medial arterial calcification"),
                CreateAction(options.suggest_order, "Order a toe-brachial index (TBI)"),
            ),
        )
        yield make_finding(
            META,
            f"{p.name}: ABI falsely high with ESRD/dialysis (medial calcification); order a toe-brachial index",
            [
                f"**{p.name}** (`{p.ref}`) is an ankle-brachial index (recognized from "
                f"{p.identity.matched or 'its text'}).",
                "End-stage renal disease or dialysis dependence is documented:\n" + evidence_lines(renal),
                "Medial arterial calcification makes the ABI falsely high in these patients; the toe-brachial index "
                "is the measure to use. No verified LOINC or SNOMED CT code exists for the TBI: the suggested order "
                "is created as text.",
            ],
            [p.ref],
            suggestion=suggestion,
            values={"renal": [e.where for e in renal]},
        )
