"""DQ904 invalid-fhir-resource: a resource is not valid FHIR R4 and was not checked.

## What it checks
When a resource in the input fails validation (strict mode: every field, by fhir.resources R4B; fast mode:
the fields the rules read, e.g. a dose value that is not a number), then this finding names the resource,
the JSON path of the bad field and the reason, and says the resource was not checked.

## Why it matters
A pharmacist must know which orders were not linted: silence would read as "no problem".

## Example
Fires: `fixtures/DQ904/fail-dose-value-string.json` (doseQuantity.value "81").
Silent: `fixtures/DQ904/pass-valid-bundle.json`.

## Options
None.

## Source
RULES.md DQ904; FHIR R4 (http://hl7.org/fhir/R4) as implemented by fhir.resources (R4B models).

## Limitations
Fast mode (the service default) does not validate fields no rule reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Finding, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import NoOptions
from linter.rules._common import OVERRIDE_DATA_WRONG, make_finding

META = RuleMeta(
    code="DQ904",
    name="invalid-fhir-resource",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="A resource is not valid FHIR R4 (field and reason given) and was not checked",
    citations=(
        Citation(
            "RULES.md",
            "DQ904: a resource in the request is not valid FHIR R4 (it says which field and why) and was not checked.",
        ),
    ),
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Finding]:
    for bad in order_set.invalid:
        yield make_finding(
            META,
            f"{bad.ref} is not valid FHIR R4 and was not checked: {bad.reason}",
            [
                f"**Could not verify** `{bad.ref}`: it is not valid FHIR R4, so no rule checked it.",
                f"- field: `{bad.path}`\n- reason: {bad.reason}",
                "Correct the resource and lint it again.",
            ],
            [bad.ref],
            override_reasons=(OVERRIDE_DATA_WRONG,),
            values={"path": bad.path, "reason": bad.reason},
        )
