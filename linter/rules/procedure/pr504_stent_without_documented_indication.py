"""PR504 stent-without-documented-indication: tibial/peroneal stent without a documented bail-out reason.

## What it checks
When an order under review places a stent in a tibial/peroneal artery, then its reasons, notes, devices or
order details must document a **flow-limiting dissection** or a **residual stenosis above
`residual_stenosis_above_percent`** (30%) after balloon angioplasty. A conditional order ("stent if
flow-limiting dissection or residual stenosis > 30%") documents the criterion and is silent. Otherwise: info.

## Why it matters
Below-the-knee vessels are small and calcified: primary stenting restenoses and fractures more than balloon
angioplasty. A stent is the bail-out for a suboptimal balloon result, not the plan.

## Example
Fires: `fixtures/PR504/fail-stent-residual-30-percent.json` (note "residual stenosis 30%": not above 30%).
Silent: `fixtures/PR504/pass-stent-residual-35-percent.json` (note "residual stenosis 35%").

## Options
- `residual_stenosis_above_percent`: a residual stenosis strictly above this justifies a stent (30).

## Source
000_db9ef64a206b36dc.txt:27; 001_f5986088b79218a7.txt:68.

## Limitations
Reads words only: "flow-limiting dissection" (either order of the two words within a clause) and
"residual stenosis [of] [>] NN%". Other words for a suboptimal result ("recoil", "suboptimal result") are not
accepted: the card asks to document the criterion. A residual stenosis stated as an Observation is not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from linter.lazy_re import lazy_compile
from linter.model import Citation, Indicator, OrderSet, ProcedureOrder, RuleMeta, Scope
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import fmt, make_finding
from linter.rules.procedure._indication import kinds_of, order_words, revasc_orders

META = RuleMeta(
    code="PR504",
    name="stent-without-documented-indication",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.INFO,
    summary=(
        "Infrapopliteal stent without documented flow-limiting dissection or residual stenosis > "
        "{residual_stenosis_above_percent}%"
    ),
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Stenting should be reserved for flow-limiting dissections or residual "
            "stenosis >30% after balloon angioplasty, with dedicated below-knee nitinol stents preferred.",
            "27",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "Stent implantation in infrapopliteal vessels is reserved for suboptimal outcome after PTA.",
            "68",
        ),
    ),
    reads_procedures=True,
)


class Options(RuleOptions):
    residual_stenosis_above_percent: float


_DISSECTION = lazy_compile(
    r"\bflow[\s-]*limiting\b[^.;\n]{0,40}?\bdissections?\b|\bdissections?\b[^.;\n]{0,40}?\bflow[\s-]*limiting\b",
    re.IGNORECASE,
)
_RESIDUAL = lazy_compile(
    r"\bresidual\s+(?:diameter\s+)?stenosis\s*(?:of\s*)?(?P<cmp>>=|≥|>|greater than|more than|over|above)?\s*"
    r"(?P<pct>\d{1,3}(?:\.\d+)?)\s*%",
    re.IGNORECASE,
)


def residual_stenoses(text: str) -> list[tuple[str, str | None, float]]:
    """Every "residual stenosis [of] [>] NN%" in `text`: (as written, comparator, percent)."""
    return [(m.group(0).strip(), m.group("cmp"), float(m.group("pct"))) for m in _RESIDUAL.finditer(text)]


def documents_indication(text: str, limit: float) -> bool:
    """A flow-limiting dissection, or a residual stenosis above `limit` % (a stated "> limit%" criterion
    counts; "≥ limit%" does not, as it includes the limit itself)."""
    if _DISSECTION.search(text):
        return True
    return any(
        pct > limit or (cmp_ is not None and cmp_.strip() not in (">=", "≥") and pct >= limit)
        for _, cmp_, pct in residual_stenoses(text)
    )


def _words(p: ProcedureOrder) -> str:
    return "\n".join([order_words(p), *(r.all_text() for r in p.reasons)])


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    limit = options.residual_stenosis_above_percent
    for p in revasc_orders(order_set):
        if "stent" not in kinds_of(p):
            continue
        text = _words(p)
        stated = residual_stenoses(text)
        if documents_indication(text, limit):
            continue
        if stated:
            why = (
                "The documented residual stenosis ("
                + "; ".join(f'"{s}"' for s, _, _ in stated)
                + f") is not above {fmt(limit)}%."
            )
        else:
            why = "No flow-limiting dissection and no residual stenosis is documented in its reasons, notes or devices."
        yield make_finding(
            META,
            f"{p.name}: stent without documented flow-limiting dissection or residual stenosis > {fmt(limit)}%",
            [
                f"**{p.name}** (`{p.ref}`) places a stent below the knee.",
                why,
                f"Stents below the knee are for a flow-limiting dissection or a residual stenosis > {fmt(limit)}% "
                'after balloon angioplasty: document the criterion (e.g. "stent for flow-limiting dissection", '
                '"residual stenosis 40% after PTA") or plan balloon angioplasty with provisional stenting.',
            ],
            [p.ref],
            values={
                "residual_stenosis_stated": [pct for _, _, pct in stated],
                "residual_stenosis_above_percent": limit,
            },
        )
