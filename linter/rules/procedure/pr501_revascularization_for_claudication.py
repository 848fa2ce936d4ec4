"""PR501 revascularization-for-claudication: BTK revascularization ordered for claudication without CLTI.

## What it checks
When an order under review is a below-the-knee (tibial/peroneal) revascularization and the chart documents
claudication (the order's reasonCode, a Condition its reasonReference points to, an active Condition in
context, or the order's note, in category `claudication`: I70.21-, SNOMED 63491006 ...), then chronic
limb-threatening ischemia must also be documented (category `clti`: rest pain I70.22-, ulcer I70.23-/I70.24-/
I70.25, gangrene I70.26-, or their SNOMED codes and words). Claudication without CLTI is critical.

## Why it matters
Revascularizing tibial arteries for claudication exposes the patient to procedural risk (dissection, distal
embolization, loss of the vessel and of a future bypass target) for a condition that exercise and medicines
treat, and that rarely progresses to limb threat.

## Example
Fires: `fixtures/PR501/fail-claudication-only.json` (tibial PTA, reason I70.211 claudication, no CLTI).
Silent: `fixtures/PR501/pass-claudication-and-rest-pain.json` (claudication and rest pain I70.221 both coded).

## Options
None.

## Source
001_f5986088b79218a7.txt:46 (Class III: Harm); 001_f5986088b79218a7.txt:121.

## Limitations
Silent as soon as any CLTI code or word is documented anywhere in the request, even if claudication is also
coded (the rule cannot tell which limb or which lesion is treated). The source's "isolated infrapopliteal
disease" cannot be checked from an order: a claudicant treated for combined inflow and tibial disease also
gets this card, and the pharmacist or physician overrides it. Text matching does not understand negation
("no rest pain" reads as rest pain, which keeps the rule silent). The same source grades endovascular
treatment of isolated infrapopliteal claudication Class IIb elsewhere (001:50); the card says so.
Reading taken: the claudication may be documented anywhere in the request, not only as the order's reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding, refs
from linter.rules.procedure._indication import documented, evidence_lines, revasc_orders

META = RuleMeta(
    code="PR501",
    name="revascularization-for-claudication",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.CRITICAL,
    summary="BTK revascularization ordered for claudication with no CLTI (rest pain, ulcer, gangrene) documented",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Do NOT revascularize for claudication due to isolated infrapopliteal "
            "calcified disease—procedural risks outweigh benefits (Class III: Harm).",
            "46",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "Never perform prophylactic revascularization for asymptomatic PAD or "
            "claudication—procedural risks exceed benefits.",
            "121",
        ),
    ),
    reads_procedures=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    for p in revasc_orders(order_set):
        claudication = documented(order_set, "claudication", [p])
        if not claudication:
            continue
        if documented(order_set, "clti", [p]):
            continue
        kinds = ", ".join(sorted(p.identity.kinds))
        lines = [
            f"**{p.name}** (`{p.ref}`) is a below-the-knee revascularization ({kinds}; "
            f"recognized from {p.identity.matched or 'its text'}).",
            "Claudication is documented:\n" + evidence_lines(claudication),
            "No chronic limb-threatening ischemia is documented (no rest pain I70.22-, ischemic ulcer I70.23-/"
            "I70.24-/I70.25 or gangrene I70.26-, nor their SNOMED CT codes or words, in the reasons, notes or "
            "active Conditions).",
            f"Exhaust supervised exercise therapy and cilostazol first ({refs(('001', '49'))}). The same "
            "source grades endovascular treatment of isolated infrapopliteal claudication Class IIb "
            f"({refs(('001', '50'))}): if "
            "CLTI is present, document it (rest pain, ulcer, gangrene) and this card goes away.",
        ]
        yield make_finding(
            META,
            f"{p.name}: below-the-knee revascularization for claudication, no CLTI documented (Class III: Harm)",
            lines,
            [p.ref],
            values={"claudication": [e.where for e in claudication], "clti": []},
        )
