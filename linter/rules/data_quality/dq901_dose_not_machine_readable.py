"""DQ901 dose-not-machine-readable: a dose a rule needs is free text only, or missing.

## What it checks
When a rule that applies to an order needs its dose (or its frequency) and the order has neither
`doseAndRate.doseQuantity` nor `doseAndRate.doseRange` (free text only, no dose, a rate only, or a frequency
that is not machine-readable), then this finding says "could not verify" and names the rules that could not run.

## Why it matters
A dose checker that silently passes what it cannot read gives false reassurance. Commercial dose-range
checkers report "could not check: free-text dose" as an outcome of its own; so do we.

## Example
Fires: `fixtures/DQ901/fail-heparin-free-text-dose.json` (a heparin bolus written as text only).
Silent: `fixtures/DQ901/pass-heparin-coded-dose.json`.

## Options
None.

## Source
RULES.md DQ901; STYLE.md (First Databank "could not check" outcomes).

## Limitations
Raised only when an applicable rule needed the dose: a free-text order for a drug no rule checks is silent.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Finding, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import NoOptions

META = RuleMeta(
    code="DQ901",
    name="dose-not-machine-readable",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="A dose a rule needs is not machine-readable (free text only, or no dose)",
    citations=(
        Citation(
            "RULES.md",
            "DQ901: a dose that a rule needs is not machine-readable (neither doseQuantity nor "
            "doseRange: free text only, or no dose).",
        ),
    ),
    engine_only=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Finding]:
    """DQ901 findings are assembled by the engine from the rules' CouldNotVerify records."""
    return ()
