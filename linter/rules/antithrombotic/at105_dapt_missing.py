"""AT105 dapt-missing: BTK revascularization with a single antiplatelet and no dual pathway inhibition.

## What it checks
When the order set is in BTK revascularization context, and the regimen (orders under review plus active
medications in context) holds exactly one antiplatelet drug (distinct drugs among aspirin, clopidogrel,
prasugrel, ticagrelor, ticlopidine; cilostazol counts only when `cilostazol_counts_as_second_agent` is
true, as in the Japanese profile after SEED-2) and no rivaroxaban `dpi_rivaroxaban_mg` (2.5 mg) given
`dpi_per_day` (2) times a day, then it is a warning.
Then, when the single agent is aspirin (or counted cilostazol), the suggestion creates the profile's
clopidogrel regimen (`suggest_template`, 75 mg daily for 90 days).

## Why it matters
After tibial angioplasty the source recommends dual antiplatelet therapy (aspirin plus clopidogrel for at
least 1-3 months); dual pathway inhibition (rivaroxaban 2.5 mg twice daily plus aspirin) is the
alternative. A single agent leaves the fresh lesion less protected.

## Example
Fires: `fixtures/AT105/fail-aspirin-only.json`, `fixtures/AT105/fail-rivaroxaban-once-daily-not-dpi.json`.
Silent: `fixtures/AT105/pass-dpi-timing-code-bid.json` (aspirin + rivaroxaban 2.5 mg timing.code BID),
`fixtures/AT105/pass-dapt-clopidogrel-active-in-context.json`.

## Options
- `cilostazol_counts_as_second_agent`: false in the default profile (RULES.md "Antiplatelet").
- `dpi_rivaroxaban_mg`, `dpi_per_day`: the DPI regimen (001:31).
- `suggest_template`: the `[regimens.*]` key the suggestion creates.

## Source
000_db9ef64a206b36dc.txt:31; 001_f5986088b79218a7.txt:31 (DPI).

## Limitations
Zero antiplatelets is AT104's finding, not AT105's. Reading taken: cilostazol monotherapy (when the profile
does not count cilostazol as a DAPT agent) is "one antiplatelet, no DAPT": AT104 is silent because cilostazol
is an antiplatelet, and AT105 fires (`fixtures/AT105/fail-cilostazol-only.json`), without a suggestion (the
source's DAPT is aspirin plus clopidogrel; adding clopidogrel alone would not make it). When the single agent is a P2Y12
inhibitor, no suggestion is made (the profile template would duplicate it; the missing agent is aspirin).
A rivaroxaban order whose dose cannot be read is reported (DQ901/DQ902) and AT105 does not decide.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CreateAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import fmt, make_finding, refs, regimen_lines
from linter.rules._drug_index import regimen_has, regimen_orders
from linter.rules.antithrombotic._regimen import (
    antiplatelet_drugs,
    dpi_orders,
    frequency_phrase,
    p2y12_drugs,
    review_first,
)

META = RuleMeta(
    code="AT105",
    name="dapt-missing",
    family="antithrombotic",
    scope=Scope.BTK,
    default_indicator=Indicator.WARNING,
    summary=(
        "BTK revascularization with exactly one antiplatelet and no rivaroxaban {dpi_rivaroxaban_mg} mg "
        "{dpi_per_day:daily}"
    ),
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Post-procedure, dual antiplatelet therapy with aspirin 81mg daily "
            "indefinitely and clopidogrel 75mg daily for at least 1-3 months is recommended.",
            "31",
        ),
        Citation(
            "001_f5986088b79218a7.txt",
            "use dual pathway inhibition: rivaroxaban 2.5 mg twice daily plus aspirin 81 mg daily",
            "31",
        ),
    ),
    drugs=frozenset({"aspirin", "clopidogrel", "prasugrel", "ticagrelor", "ticlopidine", "cilostazol", "rivaroxaban"}),
)


class Options(RuleOptions):
    cilostazol_counts_as_second_agent: bool
    dpi_rivaroxaban_mg: float
    dpi_per_day: float
    suggest_template: str


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    agents = antiplatelet_drugs(order_set, include_cilostazol=o.cilostazol_counts_as_second_agent)
    cilostazol_only = not agents and regimen_has(order_set, "cilostazol")
    if cilostazol_only:
        agents = frozenset({"cilostazol"})
    elif len(agents) != 1:
        return
    dpi = dpi_orders(order_set, o.dpi_rivaroxaban_mg, o.dpi_per_day, rule_code=META.code)
    if dpi.matching:
        return
    if dpi.unreadable:
        yield from dpi.unreadable  # cannot tell whether DPI is present: say so, do not decide
        return
    agent = next(iter(agents))
    holders = review_first(regimen_orders(order_set, agent))
    dpi_text = f"rivaroxaban {fmt(o.dpi_rivaroxaban_mg)} mg {frequency_phrase(o.dpi_per_day, o.dpi_per_day)}"
    rivaroxaban = regimen_orders(order_set, "rivaroxaban")
    lines = [
        f"BTK revascularization context: {order_set.btk_context.how if order_set.btk_context else 'forced'}.",
        f"Antiplatelet drugs in the regimen: **{agent}** only"
        + (
            ""
            if o.cilostazol_counts_as_second_agent
            else " (cilostazol is not counted as a DAPT agent in this profile)"
        )
        + ".",
        "Regimen read:\n" + regimen_lines(order_set.regimen),
    ]
    if rivaroxaban:
        lines.append(f"Rivaroxaban is in the regimen but not as {dpi_text} (dual pathway inhibition).")
    else:
        lines.append(f"No {dpi_text} (dual pathway inhibition) in the regimen.")
    suggestion = None
    if cilostazol_only:
        lines.append(
            "Cilostazol alone is not dual antiplatelet therapy: the source regimen is aspirin 81 mg daily "
            f"with clopidogrel 75 mg daily ({refs(('000', '31'))})."
        )
    elif agent not in p2y12_drugs():
        label = f"Order {o.regimen(o.suggest_template).sig}"
        suggestion = Suggestion(label, (CreateAction(o.suggest_template, label),))
        lines.append(f"Suggested: {label}.")
    else:
        lines.append(
            "Consider adding low-dose aspirin (aspirin 81 mg daily with clopidogrel 75 mg daily, "
            f"{refs(('000', '31'))})."
        )
    yield make_finding(
        META,
        f"Only one antiplatelet ({agent}) after BTK revascularization: no DAPT and no {dpi_text}",
        lines,
        [m.ref for m in holders],
        suggestion=suggestion,
        values={"antiplatelets": sorted(agents)},
    )
