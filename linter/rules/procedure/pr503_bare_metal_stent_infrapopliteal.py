"""PR503 bare-metal-stent-infrapopliteal: bare-metal (non-drug-eluting) stent in a tibial/peroneal artery.

## What it checks
When an order under review is a below-the-knee stent placement and the stent is bare-metal, then the finding
is a warning. Bare-metal is read from the ICD-10-PCS code `047[P-U]3DZ` (dilation with a non-drug-eluting
intraluminal device), or from the words of the order's code text, devices (`focalDevice`, `usedCode`,
`usedReference`, `orderDetail`) or notes ("bare-metal", "bare metal stent", "BMS", "non-drug-eluting").

## Why it matters
Bare-metal stents in tibial arteries restenose often; drug-eluting stents do better when a stent is needed.

## Example
Fires: `fixtures/PR503/fail-pcs-bare-metal-stent.json` (ICD-10-PCS 047Q3DZ).
Silent: `fixtures/PR503/pass-drug-eluting-stent.json` (ICD-10-PCS 047Q34Z).

## Options
None.

## Source
001_f5986088b79218a7.txt:67; 001_f5986088b79218a7.txt:123. 000_db9ef64a206b36dc.txt:27 prefers dedicated
below-knee nitinol stents (which may be bare): the seeds disagree, so the finding is a warning, not critical.

## Limitations
CPT and SNOMED CT never tell a bare-metal stent from a drug-eluting one: with only those codes and no device
words the rule cannot check and stays silent. When the words name both a drug-eluting and a bare-metal stent
the rule cannot tell which is meant and stays silent. A stent + drug-coated balloon code (`047[P-U]3D1`) is
not read as bare-metal. "Nitinol" alone is not read as bare-metal (drug-eluting nitinol stents exist).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding, refs
from linter.rules.procedure._indication import device_words, revasc_orders

META = RuleMeta(
    code="PR503",
    name="bare-metal-stent-infrapopliteal",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.WARNING,
    summary="Bare-metal stent ordered for an infrapopliteal (tibial/peroneal) artery",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Drug-eluting stents are superior to bare-metal stents for "
            "infrapopliteal intervention—never use bare-metal stents due to high restenosis rates.",
            "67",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "Avoid bare-metal stents in infrapopliteal arteries due to high restenosis rates.",
            "123",
        ),
        Citation("000_db9ef64a206b36dc.txt", "with dedicated below-knee nitinol stents preferred.", "27"),
    ),
    reads_procedures=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    for p in revasc_orders(order_set):
        words = device_words(p)  # only bms and des are read
        by_code = p.identity.matched_by == "code" and "bms" in p.identity.kinds
        by_text = "bms" in words and "des" not in words and "des" not in p.identity.kinds
        if not (by_code or by_text):
            continue
        how = (
            f"its code {p.identity.matched} (non-drug-eluting intraluminal device)"
            if by_code
            else 'the words of the order and its devices ("bare-metal")'
        )
        yield make_finding(
            META,
            f"{p.name}: bare-metal stent in a tibial/peroneal artery; use a drug-eluting stent if one is needed",
            [
                f"**{p.name}** (`{p.ref}`) places a **bare-metal stent** below the knee, read from {how}.",
                "If a stent is needed (flow-limiting dissection or residual stenosis > 30% after balloon angioplasty, "
                f"{refs(('000', '27'))}), choose a drug-eluting stent.",
                f"Sources differ on nitinol: {refs(('000', '27'))} prefers dedicated below-knee nitinol stents, "
                "which is why this is a warning and not critical.",
            ],
            [p.ref],
            values={"matched_by": "code" if by_code else "text"},
            confidence="definite" if by_code else "inferred",
        )
