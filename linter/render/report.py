"""Findings -> plain data: the JSON report, CSV rows, and the text line format.

The same rows feed the CLI (`--format json|csv|text`), the upload API and the workbench page, so a report
downloaded from the page equals the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from linter.model import Finding, OrderSet
from linter.rules import RULES_BY_CODE

CSV_COLUMNS = ("file", "order", "drug", "code", "name", "indicator", "summary", "citation")


def rule_name(code: str) -> str:
    rule = RULES_BY_CODE.get(code)
    return rule.META.name if rule else code


def citation(code: str) -> str:
    rule = RULES_BY_CODE.get(code)
    return "; ".join(c.label for c in rule.META.citations) if rule else ""


def order_name(order_set: OrderSet, ref: str) -> str:
    for m in (*order_set.medications, *order_set.patient.active_medications):
        if m.ref == ref:
            return m.name
    for p in (*order_set.procedures, *order_set.patient.procedures):
        if p.ref == ref:
            return p.name
    return ""


def finding_json(f: Finding, order_set: OrderSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": f.code,
        "name": rule_name(f.code),
        "indicator": f.indicator.value,
        "summary": f.summary,
        "detail": f.detail,
        "refs": list(f.refs),
        "order": order_name(order_set, f.primary_ref),
        "confidence": f.confidence,
        "citation": citation(f.code),
    }
    if f.values:
        out["values"] = dict(f.values)
    if f.suggestion is not None:
        out["suggestion"] = {"label": f.suggestion.label}
    if f.override_reasons:
        out["override_reasons"] = [
            {"system": c.system, "code": c.code, "display": c.display} for c in f.override_reasons
        ]
    return out


def findings_json(findings: Sequence[Finding], order_set: OrderSet) -> list[dict[str, Any]]:
    return [finding_json(f, order_set) for f in findings]


def order_set_json(
    findings: Sequence[Finding], order_set: OrderSet, *, with_suggestions: bool = False, profile: Any = None
) -> dict[str, Any]:
    items = findings_json(findings, order_set)
    if with_suggestions and profile is not None:
        from linter.fixes import suggestion_actions

        for item, f in zip(items, findings, strict=True):
            if f.suggestion is not None:
                item["suggestion"]["actions"] = suggestion_actions(f, order_set, profile)
    return {
        "source": order_set.source,
        "subject": order_set.subject_ref,
        "context": {
            "btk": order_set.btk_context.how if order_set.btk_context else None,
            "pad": order_set.pad_context.how if order_set.pad_context else None,
        },
        "orders_checked": len(order_set.medications) + len(order_set.procedures),
        "findings": items,
    }


def csv_rows(findings: Iterable[Finding], order_set: OrderSet, file: str) -> list[dict[str, str]]:
    rows = []
    for f in findings:
        rows.append(
            {
                "file": file,
                "order": f.primary_ref,
                "drug": order_name(order_set, f.primary_ref),
                "code": f.code,
                "name": rule_name(f.code),
                "indicator": f.indicator.value,
                "summary": f.summary,
                "citation": citation(f.code),
            }
        )
    return rows


def text_line(f: Finding, file: str) -> str:
    """`path: MedicationRequest/mr1: HEP201 warning <summary>` (one line, like a code linter)."""
    where = f.primary_ref or "(order set)"
    return f"{file}: {where}: {f.code} {f.indicator.value} {f.summary}"
