"""DQ906 context-data-unavailable: patient data the rules use could not be obtained, so some checks did
not run with it.

## What it checks
When a CDS Hooks request lacks prefetch data and the service could not fetch it (no FHIR server or token,
a FHIR server not on the allowlist, a timeout, an HTTP error), or the EHR sent an OperationOutcome in place
of the data, then this finding names each missing kind of data and why, so the clinician knows what was
not checked (e.g. "conditions: the FHIR server timed out: heart failure, HIT and stroke history not checked").

## Why it matters
Every prefetched item is "better with": its absence must be said, never silently read as "no conditions".

## Example
Fires: `fixtures/DQ906/fail-conditions-operation-outcome.json` (a hook request whose `conditions` prefetch
is an OperationOutcome). Silent: `fixtures/DQ906/pass-prefetch-complete.json`.

## Options
None.

## Source
CDS Hooks 2.0.1 §Prefetch (reference/cds-hooks.md §3.4): services "SHOULD check any prefetched data for the
existence of OperationOutcomes"; RULES.md "What cannot be checked is said".

## Limitations
Not in the RULES.md catalog table: added by the service issue (issue 3) as the "DQ card naming what could
not be checked". Fires only when there are orders under review.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Finding, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import NoOptions
from linter.rules._common import OVERRIDE_DATA_WRONG, make_finding

META = RuleMeta(
    code="DQ906",
    name="context-data-unavailable",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Patient data the rules use (weight, conditions, medications...) could not be obtained",
    citations=(
        Citation(
            "reference/cds-hooks.md §3.4 (CDS Hooks 2.0.1 §Prefetch)",
            "CDS Services SHOULD check any prefetched data for the existence of OperationOutcomes.",
        ),
    ),
)

Options = NoOptions

_WHAT = {
    "weight": "weight-based heparin dosing (HEP201/HEP202)",
    "conditions": "heart failure, HIT, stroke/TIA, AF/VTE, claudication/CLTI and dialysis checks",
    "medications": "the active-medication part of the regimen (duplicate and missing-therapy checks)",
    "procedures": "recent BTK procedures (BTK context)",
    "goals": "ACT targets stated as Goals",
    "patient": "the patient record",
}


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Finding]:
    if not order_set.patient.gaps or not (order_set.medications or order_set.procedures):
        return
    lines = []
    for gap in order_set.patient.gaps:
        affects = _WHAT.get(gap.key, "the checks that use it")
        lines.append(f"- **{gap.key}**: {gap.reason} — not checked: {affects}")
    keys = ", ".join(dict.fromkeys(g.key for g in order_set.patient.gaps))
    refs = [m.ref for m in order_set.medications] + [p.ref for p in order_set.procedures]
    yield make_finding(
        META,
        f"Could not obtain patient data ({keys}); checks that need it were not verified",
        ["**Could not verify** everything: some patient data was unavailable.", "\n".join(lines)],
        refs[:1],
        override_reasons=(OVERRIDE_DATA_WRONG,),
        values={"gaps": [{"key": g.key, "reason": g.reason} for g in order_set.patient.gaps]},
    )
