"""AT107 dpi-without-aspirin: rivaroxaban 2.5 mg twice daily with no aspirin in the regimen.

## What it checks
When the order set is in PAD context, and the regimen (orders under review plus active medications in
context) holds rivaroxaban `dpi_rivaroxaban_mg` (2.5 mg) given `dpi_per_day` (2) times a day, and no
aspirin (no aspirin order under review, no active aspirin in context), then it is a warning, one per DPI
order.
Then the suggestion creates the profile's aspirin regimen (`suggest_template`, aspirin 81 mg daily).

## Why it matters
Dual pathway inhibition is rivaroxaban 2.5 mg twice daily **plus** aspirin: the low rivaroxaban dose alone
was not shown to protect against cardiovascular and limb events.

## Example
Fires: `fixtures/AT107/fail-dpi-without-aspirin.json`.
Silent: `fixtures/AT107/pass-dpi-with-aspirin-in-context.json` (aspirin is an active MedicationStatement).

## Options
- `dpi_rivaroxaban_mg`, `dpi_per_day`: the DPI regimen (001:31).
- `suggest_template`: the `[regimens.*]` key the suggestion creates.

## Source
001_f5986088b79218a7.txt:31.

## Limitations
Reading taken: this is a regimen-presence rule like AT104, so a DPI order that is an active medication in
context also counts (its dose is read to recognize DPI, not judged). A documented aspirin allergy is not
read: the pharmacist overrides with a reason. Other low-dose rivaroxaban regimens are AT106's business.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CreateAction, Indicator, OrderSet, RuleMeta, Scope, Suggestion
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import fmt, make_finding, regimen_lines
from linter.rules._drug_index import regimen_has
from linter.rules.antithrombotic._regimen import dpi_orders, frequency_phrase

META = RuleMeta(
    code="AT107",
    name="dpi-without-aspirin",
    family="antithrombotic",
    scope=Scope.PAD,
    default_indicator=Indicator.WARNING,
    summary="Rivaroxaban {dpi_rivaroxaban_mg} mg {dpi_per_day:daily} without aspirin in the regimen",
    citations=(
        Citation(
            "001_f5986088b79218a7.txt",
            "use dual pathway inhibition: rivaroxaban 2.5 mg twice daily plus aspirin 81 mg daily",
            "31",
        ),
    ),
    drugs=frozenset({"rivaroxaban", "aspirin"}),
)


class Options(RuleOptions):
    dpi_rivaroxaban_mg: float
    dpi_per_day: float
    suggest_template: str


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    o = options
    if regimen_has(order_set, "aspirin"):
        return
    dpi = dpi_orders(order_set, o.dpi_rivaroxaban_mg, o.dpi_per_day, rule_code=META.code)
    yield from dpi.unreadable  # a rivaroxaban order we cannot read might be DPI without aspirin
    regimen = f"rivaroxaban {fmt(o.dpi_rivaroxaban_mg)} mg {frequency_phrase(o.dpi_per_day, o.dpi_per_day)}"
    label = f"Order {o.regimen(o.suggest_template).sig}"
    for order, how in zip(dpi.matching, dpi.how, strict=True):
        where = "order under review" if order.under_review else "active medication in context"
        yield make_finding(
            META,
            f"Rivaroxaban {fmt(o.dpi_rivaroxaban_mg)} mg {frequency_phrase(o.dpi_per_day, o.dpi_per_day)} "
            f"without aspirin: dual pathway inhibition needs {o.regimen(o.suggest_template).short}",
            [
                f"**{order.name}** ({where}): {how}, that is {regimen} (dual pathway inhibition).",
                "No aspirin among the orders under review or the active medications in context.",
                "Regimen read:\n" + regimen_lines(order_set.regimen),
                f"Suggested: {label}.",
            ],
            [order.ref],
            suggestion=Suggestion(label, (CreateAction(o.suggest_template, label),)),
        )
