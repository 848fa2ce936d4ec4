"""PR507 paclitaxel-dcb-in-clti: paclitaxel drug-coated balloon below the knee in CLTI (IN.PACT DEEP signal).

## What it checks
When an order under review is a drug-coated balloon angioplasty of a tibial/peroneal artery (ICD-10-PCS
`047[P-U]3Z1`, stent with drug-coated balloon `047[P-U]3D1`, or device/order words "drug-coated balloon",
"DCB", "paclitaxel-coated") and chronic limb-threatening ischemia is documented (category `clti` in the
order's reasons or notes, or an active Condition), then the finding is info and states the safety signal of
the IN.PACT DEEP trial.

## Why it matters
In IN.PACT DEEP, a first-generation paclitaxel drug-coated balloon in patients with critical limb ischemia
did worse than plain balloon angioplasty on major amputation-free survival at 12 months, and the trial was
interrupted. Plain balloon angioplasty remains the standard below the knee; the operator should weigh the
signal for this patient.

## Example
Fires: `fixtures/PR507/fail-dcb-in-clti.json` (ICD-10-PCS 047P3Z1, rest pain I70.221).
Silent: `fixtures/PR507/pass-plain-balloon-in-clti.json` (ICD-10-PCS 047P3ZZ, rest pain I70.221).

## Options
None.

## Source
003_bc3cff2c335c2dec.txt:24-30 (IN.PACT DEEP); 000_db9ef64a206b36dc.txt:26 (DCB may be considered for complex
lesions).

## Limitations
ICD-10-PCS says "drug-coated balloon", not which drug: a DCB is read as paclitaxel-coated (the card says that
the signal concerns paclitaxel and does not apply to a balloon coated with another drug). Newer balloons
(BIOLUX-P II) showed no difference either way (003:32-35). Claudication-only patients are PR501's business.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.procedure._indication import documented, evidence_lines, kinds_of, revasc_orders

META = RuleMeta(
    code="PR507",
    name="paclitaxel-dcb-in-clti",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.INFO,
    summary="Paclitaxel drug-coated balloon below the knee in CLTI: IN.PACT DEEP safety signal",
    citations=(
        Citation(
            "003_bc3cff2c335c2dec.txt",
            "The IN.PACT DEEP trial assessed the efficacy and safety of the In.Pact "
            "Amphirion DCB (Medtronic) in patients with critical limb ischemia (CLI).",
            "24-27",
        ),
        Citation(
            "003_bc3cff2c335c2dec.txt",
            "major amputation-free survival at 12 months, was in favor of the PTA "
            "group. These data were considered alarming and led to an interruption of the trial.",
            "28-30",
        ),
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Drug-coated balloons may be considered for complex lesions to reduce restenosis rates",
            "26",
        ),
    ),
    reads_procedures=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    for p in revasc_orders(order_set):
        if "dcb" not in kinds_of(p):
            continue
        clti = documented(order_set, "clti", [p])
        if not clti:
            continue
        yield make_finding(
            META,
            f"{p.name}: paclitaxel DCB below the knee in CLTI; IN.PACT DEEP safety signal",
            [
                f"**{p.name}** (`{p.ref}`) is a drug-coated balloon angioplasty below the knee (recognized from "
                f"{p.identity.matched or 'its text'}).",
                "Chronic limb-threatening ischemia is documented:\n" + evidence_lines(clti),
                "In IN.PACT DEEP (paclitaxel-coated balloon, patients with critical limb ischemia), major "
                "amputation-free survival at 12 months favoured plain balloon angioplasty and the trial was "
                "interrupted; plain balloon angioplasty remains the standard below the knee. The signal concerns "
                "paclitaxel: it does not apply to a balloon coated with another drug.",
            ],
            [p.ref],
        )
