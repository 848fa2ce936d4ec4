"""DQ902 dose-unit-not-convertible: a dose unit is not a UCUM unit we can read, or cannot be converted.

## What it checks
When a rule that applies to an order needs its dose in a unit (mg, ug, heparin units) and the dose unit is
not a known UCUM unit or cannot be converted to what the rule needs (e.g. "mg/kg" for a rule that needs mg, a
`{pill}` of a product whose strength is found nowhere, a count of an injectable solution, a volume of a tablet,
a value with no unit next to a product that is not a solid dose form), then this finding says "could not
verify" and why. A count of the dose form with a known strength is not DQ902: it is converted
(count x strength, see docs/readings.md).

## Why it matters
Comparing 0.1 mg with "100-200 mcg" raw would miss a 1000-fold error; guessing a unit ("assume mg") is
worse. Units are converted through UCUM or reported.

## Example
Fires: `fixtures/DQ902/fail-heparin-unknown-unit.json` (heparin 5600 "IE", not a UCUM unit),
`fixtures/DQ902/fail-pill-of-product-without-strength.json`, `fixtures/DQ902/fail-volume-of-a-tablet.json`.
Silent: `fixtures/DQ902/pass-heparin-usp-units.json` (5600 [USP'U]).

## Options
None.

## Source
RULES.md DQ902; UCUM (https://ucum.org) via the ucumvert library.

## Limitations
A heparin dose in mg or mL without a concentration is HEP205, not DQ902.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Finding, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import NoOptions

META = RuleMeta(
    code="DQ902",
    name="dose-unit-not-convertible",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="A dose unit is not a known UCUM unit or cannot be converted to what a rule needs",
    citations=(
        Citation(
            "RULES.md",
            "DQ902: a dose unit is not a known UCUM unit or cannot be converted to what the rule needs.",
        ),
    ),
    engine_only=True,
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Finding]:
    """DQ902 findings are assembled by the engine from the rules' CouldNotVerify records."""
    return ()
