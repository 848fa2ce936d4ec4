"""Findings -> plain data: the JSON report, CSV rows, and the text line format.

The same rows feed the CLI (`--format json|csv|text`), the upload API and the workbench page, so a report
downloaded from the page equals the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from linter.model import NO_ORIGINALS, Finding, OrderSet, Originals
from linter.orderset_model import definition_json
from linter.rules import RULES_BY_CODE

if TYPE_CHECKING:
    from linter.batch import FileResult

CSV_COLUMNS = ("file", "order", "drug", "code", "name", "indicator", "summary", "citation")


def rule_name(code: str) -> str:
    rule = RULES_BY_CODE.get(code)
    return rule.META.name if rule else code


def citation(code: str) -> str:
    rule = RULES_BY_CODE.get(code)
    return "; ".join(c.label for c in rule.META.citations) if rule else ""


def order_name(order_set: OrderSet, ref: str) -> str:
    """The order's drug or procedure name; for an order-set definition's action, the action's title."""
    if (title := action_title(order_set, ref)) is not None:
        return title
    for m in (*order_set.medications, *order_set.patient.active_medications):
        if m.ref == ref:
            return m.name
    for p in (*order_set.procedures, *order_set.patient.procedures):
        if p.ref == ref:
            return p.name
    return ""


def action_title(order_set: OrderSet, ref: str) -> str | None:
    """The title of the order-set definition action `ref` (None when the order set is not a definition)."""
    if order_set.definition is None:
        return None
    if ref == order_set.definition.ref:
        return order_set.definition.title
    origin = order_set.definition.origin(ref)
    return origin.title if origin else None


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
    origin = order_set.definition.origin(f.primary_ref) if order_set.definition else None
    if origin is not None:
        out["action"] = {"ref": origin.ref, "title": origin.title, "definition": origin.definition,
                         "expression": origin.fhirpath}
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
    findings: Sequence[Finding],
    order_set: OrderSet,
    *,
    with_suggestions: bool = False,
    profile: Any = None,
    originals: Originals = NO_ORIGINALS,
) -> dict[str, Any]:
    items = findings_json(findings, order_set)
    if with_suggestions and profile is not None:
        from linter.fixes import suggestion_actions

        for item, f in zip(items, findings, strict=True):
            if f.suggestion is not None:
                item["suggestion"]["actions"] = suggestion_actions(f, order_set, originals, profile)
    return {
        "source": order_set.source,
        "subject": order_set.subject_ref,
        "context": {
            "btk": order_set.btk_context.how if order_set.btk_context else None,
            "pad": order_set.pad_context.how if order_set.pad_context else None,
        },
        "orders_checked": len(order_set.medications) + len(order_set.procedures),
        "findings": items,
        **({"definition": definition_json(order_set.definition)} if order_set.definition else {}),
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


def text_line(f: Finding, file: str, title: str | None = None) -> str:
    """`path: MedicationRequest/mr1: HEP201 warning <summary> [FILE:LINE]` (one line, like a code linter;
    the bracket names the rule's first source). An order-set definition's action is named with its title:
    `path: PlanDefinition/os action[1].action[0] "Heparin bolus": ...`."""
    where = f.primary_ref or "(order set)"
    if title:
        where += f' "{title}"'
    rule = RULES_BY_CODE.get(f.code)
    source = f" [{rule.META.citations[0].label}]" if rule and rule.META.citations else ""
    return f"{file}: {where}: {f.code} {f.indicator.value} {f.summary}{source}"


def source_lines(code: str) -> list[str]:
    """The rule's quoted source sentences, one line each: `"<sentence>" (FILE:LINE)`."""
    rule = RULES_BY_CODE.get(code)
    return [f'"{c.quote}" ({c.label})' for c in rule.META.citations] if rule else []


# --- whole-batch reports: the CLI's --format json|csv and the workbench downloads ---------------------------


def sources_json(code: str) -> list[dict[str, str]]:
    """The rule's source sentences with FILE:LINE (or the external reference), for the expandable detail."""
    rule = RULES_BY_CODE.get(code)
    return [{"label": c.label, "quote": c.quote} for c in rule.META.citations] if rule else []


def suggestion_diff(action: dict[str, Any], original: Any) -> str:
    """A suggested action as a unified diff of the pretty-printed resource (update), or added/removed lines."""
    import difflib
    import json

    if action.get("type") == "delete":
        return f"- {action.get('resourceId', '')}\n"
    new = json.dumps(action.get("resource"), indent=2, ensure_ascii=False).splitlines()
    if action.get("type") == "create" or original is None:
        return "".join(f"+ {line}\n" for line in new)
    old = json.dumps(original, indent=2, ensure_ascii=False).splitlines()
    lines = difflib.unified_diff(old, new, "original", "suggested", n=2, lineterm="")
    return "".join(line + "\n" for line in lines)


def _report_order_set(
    findings: Sequence[Finding], order_set: OrderSet, originals: Originals, profile: Any
) -> dict[str, Any]:
    doc = order_set_json(findings, order_set, with_suggestions=True, profile=profile, originals=originals)
    for item in doc["findings"]:
        item["sources"] = sources_json(item["code"])
        suggestion = item.get("suggestion")
        if suggestion:
            diffs = []
            for action in suggestion.get("actions", []):
                resource = action.get("resource") or {}
                ref = f"{resource.get('resourceType', '')}/{resource.get('id', '')}"
                original = originals.get(ref) if action.get("type") == "update" else None
                diffs.append(suggestion_diff(action, original))
            suggestion["diff"] = "".join(diffs)
    return doc


def report_summary(results: Sequence[FileResult]) -> dict[str, Any]:
    from linter.model import Indicator

    findings = [f for r in results for f in r.findings]
    by_code: dict[str, dict[str, int]] = {}
    for f in findings:
        row = by_code.setdefault(f.code, {i.value: 0 for i in Indicator})
        row[f.indicator.value] += 1
    return {
        "files": len(results),
        "files_with_errors": sum(1 for r in results if r.errors),
        "errors": sum(len(r.errors) for r in results),
        "order_sets": sum(len(r.sets) for r in results),
        "orders_checked": sum(
            len(s.order_set.medications) + len(s.order_set.procedures) for r in results for s in r.sets
        ),
        "findings": len(findings),
        "by_indicator": {i.value: sum(1 for f in findings if f.indicator is i) for i in Indicator},
        "by_code": {code: by_code[code] for code in sorted(by_code)},
    }


def report_doc(results: Sequence[FileResult], profile: Any) -> dict[str, Any]:
    """The JSON report: one entry per file with its order sets (findings, suggestions, diffs) and errors."""
    return {
        "profile": {"id": profile.id, "version": profile.version},
        "summary": report_summary(results),
        "files": [
            {
                "path": r.path,
                "order_sets": [_report_order_set(s.findings, s.order_set, s.originals, profile) for s in r.sets],
                "errors": [{"message": e.message, "path": e.path} for e in r.errors],
            }
            for r in results
        ],
    }


def report_json(results: Sequence[FileResult], profile: Any) -> str:
    import json

    return json.dumps(report_doc(results, profile), indent=2, ensure_ascii=False) + "\n"


def error_row(file: str, message: str, path: str | None) -> dict[str, str]:
    return {"file": file, "order": path or "", "code": "ERROR", "indicator": "error", "summary": message}


def report_csv(results: Sequence[FileResult]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        for s in r.sets:
            writer.writerows(csv_rows(s.findings, s.order_set, r.path))
        for err in r.errors:
            writer.writerow(error_row(r.path, err.message, err.path))
    return buf.getvalue()
