"""Findings -> FHIR OperationOutcome (one issue per finding), and error OperationOutcomes for bad input.

Severity: critical -> error, warning -> warning, info -> information. `code`: business-rule for clinical
findings; invalid (DQ904) and incomplete (DQ901/DQ902/DQ903/DQ906, "could not verify") for data quality.
`expression` points at the resource in the input (FHIRPath, e.g. `Bundle.entry[3].resource`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linter.model import Finding, Indicator, OrderSet
from linter.render.report import action_title

RULE_CODE_SYSTEM = "https://orderlint.dev/fhir/CodeSystem/rule"

_SEVERITY = {Indicator.CRITICAL: "error", Indicator.WARNING: "warning", Indicator.INFO: "information"}
_DQ_CODE = {
    "DQ904": "invalid",
    "DQ901": "incomplete",
    "DQ902": "incomplete",
    "DQ903": "informational",
    "DQ905": "business-rule",
    "DQ906": "incomplete",
}


def _expression(order_set: OrderSet, ref: str) -> list[str]:
    path = order_set.resource_paths.get(ref)
    if path and (path.startswith(("Bundle.", "context.", "prefetch.", "PlanDefinition.", "RequestGroup."))):
        return [path]
    if ref:
        return [ref.split("/")[0]]
    return []


def _issue(f: Finding, order_set: OrderSet) -> dict[str, Any]:

    title = action_title(order_set, f.primary_ref)
    issue: dict[str, Any] = {
        "severity": _SEVERITY[f.indicator],
        "code": _DQ_CODE.get(f.code, "business-rule"),
        "details": {
            "coding": [{"system": RULE_CODE_SYSTEM, "code": f.code, "display": f.name}],
            "text": f"{title}: {f.summary}" if title else f.summary,
        },
        "diagnostics": f.detail,
    }
    expression = _expression(order_set, f.primary_ref)
    if expression:
        issue["expression"] = expression
    return issue


def operation_outcome(findings: Sequence[Finding], order_set: OrderSet) -> dict[str, Any]:
    """One OperationOutcome for one order set. No findings: a single 'informational' issue saying so
    (OperationOutcome.issue is 1..*)."""
    issues = [_issue(f, order_set) for f in findings]
    if not issues:
        issues = [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": f"orderlint: no findings for {order_set.source}",
            }
        ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def error_outcome(message: str, path: str | None = None, code: str = "invalid") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if path:
        issue["expression"] = [path]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcomes_bundle(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in outcomes]}


def outcome_document(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the CLI and `POST /lint` answer: the OperationOutcome itself when there is one, else a
    collection Bundle of them."""
    return outcomes[0] if len(outcomes) == 1 else outcomes_bundle(outcomes)
