"""PR508 tibial-atherectomy: atherectomy of a tibial/peroneal artery.

## What it checks
When an order under review is an atherectomy of a tibial or peroneal artery (CPT 37229, 37231, 37233, 37235,
37288-37295; ICD-10-PCS `04C[P-U]3ZZ`; SNOMED CT atherectomy concepts with a tibial/peroneal bodySite; or
the words "atherectomy" with a tibial vessel), then the finding is info.

## Why it matters
Atherectomy has niche indications (severe calcification, non-stent zones such as the common femoral and
popliteal arteries); below the knee it carries a risk of distal embolization into the foot's only outflow,
and its long-term benefit is unclear.

## Example
Fires: `fixtures/PR508/fail-pcs-tibial-atherectomy.json` (ICD-10-PCS 04CQ3ZZ).
Silent: `fixtures/PR508/pass-tibial-angioplasty.json` (ICD-10-PCS 047Q3ZZ, balloon angioplasty only).

## Options
None.

## Source
001_f5986088b79218a7.txt:84-86.

## Limitations
Popliteal or femoral atherectomy is not below the knee and is not judged. The rule does not ask for an
embolic protection device (the sources do not say to use one).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.procedure._indication import revasc_orders

META = RuleMeta(
    code="PR508",
    name="tibial-atherectomy",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.INFO,
    summary="Atherectomy of a tibial/peroneal artery: niche indication, distal embolization concern",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "Atherectomy has niche indications in severely calcified lesions and "
            "non-stent areas (common femoral and popliteal artery).",
            "84",
        ),
        Citation(
            "001_f5986088b79218a7.txt", "Concerns exist regarding risk of distal embolization with these devices.", "85"
        ),
        Citation("001_f5986088b79218a7.txt", "Long-term benefits remain unclear.", "86"),
    ),
    reads_procedures=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    for p in revasc_orders(order_set):
        if "atherectomy" not in p.identity.kinds:
            continue
        yield make_finding(
            META,
            f"{p.name}: tibial/peroneal atherectomy; niche indication with a distal embolization concern",
            [
                f"**{p.name}** (`{p.ref}`) is an atherectomy below the knee (recognized from "
                f"{p.identity.matched or 'its text'}).",
                "Atherectomy has niche indications (severe calcification, non-stent zones such as the common femoral "
                "and popliteal arteries); below the knee there is a concern of distal embolization and the long-term "
                "benefit is unclear. Confirm the indication (e.g. severe calcification that a balloon cannot "
                "expand) is documented.",
            ],
            [p.ref],
        )
