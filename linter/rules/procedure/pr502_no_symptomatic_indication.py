"""PR502 no-symptomatic-indication: BTK revascularization with no symptomatic indication, or for asymptomatic PAD.

## What it checks
When an order under review is a below-the-knee revascularization, then:
- if a stated reason (reasonCode, or a Condition its reasonReference points to) says **asymptomatic** (category
  `asymptomatic`, by code or words) and no claudication or CLTI is documented anywhere, the finding is critical
  (prophylactic revascularization);
- if a stated reason says asymptomatic but claudication or CLTI is documented elsewhere, the finding is info
  (the stated reason contradicts the chart: correct it);
- if the order states no reason at all (no reasonCode, no reasonReference) and no active Condition of
  claudication, CLTI or PAD is in context, the finding is info (no documented indication).

## Why it matters
Revascularization is for symptoms (claudication that failed conservative treatment, or limb threat). A
prophylactic procedure on an asymptomatic artery carries the procedural risks without a benefit.

## Example
Fires: `fixtures/PR502/fail-asymptomatic-reason.json` (reasonCode text "asymptomatic tibial occlusion", critical)
and `fixtures/PR502/fail-no-indication.json` (no reason, no PAD Condition, info).
Silent: `fixtures/PR502/pass-reason-clti.json` (reasonReference to a rest-pain Condition).

## Options
None.

## Source
001_f5986088b79218a7.txt:121 (pitfalls: no prophylactic revascularization for asymptomatic PAD).

## Limitations
A stated reason that names anything (even a code orderlint does not know) counts as "a reason stated"; only
its absence, or the word/category asymptomatic, fires. Negations are not understood ("not asymptomatic"
reads as asymptomatic). No code for "asymptomatic" was verified: it is recognized by words only.
Reading taken: PR502 needs either no indication at all or an asymptomatic one; a stated reason of PAD without
symptoms stays silent (the rule cannot tell whether the writer meant symptomatic PAD).
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.procedure._indication import (
    SYMPTOMATIC,
    documented,
    evidence_lines,
    revasc_orders,
    stated_categories,
    stated_reasons,
)

META = RuleMeta(
    code="PR502",
    name="no-symptomatic-indication",
    family="procedure",
    scope=Scope.BTK,
    default_indicator=Indicator.INFO,
    summary=(
        "BTK revascularization with no documented symptomatic indication; critical when the reason says asymptomatic"
    ),
    citations=(
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
        categories = stated_categories(p, order_set)  # the reasons' categories: their evidence only when needed
        if categories and not [cats for cats in categories if "asymptomatic" in cats]:
            continue  # a stated reason, not asymptomatic: nothing to say (read before the documented symptoms)
        reasons = stated_reasons(p, order_set)
        asymptomatic = [ev for ev, cats in reasons if "asymptomatic" in cats]
        symptomatic = [ev for cat in SYMPTOMATIC for ev in documented(order_set, cat, [p])]
        head = f"**{p.name}** (`{p.ref}`) is a below-the-knee revascularization."
        if asymptomatic:
            if not symptomatic:
                yield make_finding(
                    META,
                    f"{p.name}: the stated reason says asymptomatic; no prophylactic BTK revascularization",
                    [
                        head,
                        "The stated reason says **asymptomatic**:\n" + evidence_lines(asymptomatic),
                        "No claudication or chronic limb-threatening ischemia is documented anywhere in the request.",
                    ],
                    [p.ref],
                    indicator=Indicator.CRITICAL,
                    values={"asymptomatic": [e.where for e in asymptomatic]},
                )
            else:
                yield make_finding(
                    META,
                    f"{p.name}: stated reason says asymptomatic, but symptoms are documented; correct the reason",
                    [
                        head,
                        "The stated reason says **asymptomatic**:\n" + evidence_lines(asymptomatic),
                        "but symptomatic disease is documented:\n" + evidence_lines(symptomatic),
                        "Correct the order's reason so that it states the symptomatic indication.",
                    ],
                    [p.ref],
                    indicator=Indicator.INFO,
                    values={
                        "asymptomatic": [e.where for e in asymptomatic],
                        "symptomatic": [e.where for e in symptomatic],
                    },
                )
            continue
        if reasons:
            continue
        if symptomatic or documented(order_set, "pad", [p]):
            continue
        yield make_finding(
            META,
            f"{p.name}: no indication documented for a below-the-knee revascularization",
            [
                head,
                "The order states no reason (no reasonCode, no reasonReference) and the request has no active "
                "Condition of claudication, chronic limb-threatening ischemia or PAD.",
                "Document the symptomatic indication (e.g. rest pain I70.22-, ischemic ulcer I70.23-/I70.24-, "
                "gangrene I70.26-, or claudication I70.21-) as the order's reason.",
            ],
            [p.ref],
            indicator=Indicator.INFO,
        )
