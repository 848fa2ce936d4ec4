"""Findings -> plain data: the JSON report, CSV rows, and the text line format.

The same rows feed the CLI (`--format json|csv|text`), the upload API and the workbench page, so a report
downloaded from the page equals the CLI's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from linter.model import NO_ORIGINALS, Finding, OrderSet, Originals
from linter.orderset_model import definition_json
from linter.render import ordering
from linter.render.values import confidence_text, detail_body, labelled_values
from linter.sources import citation_text

if TYPE_CHECKING:
    from linter.batch import FileResult

# One CSV for the whole batch, a `record` per row: `file` (one per input: status and counts), `order_set` (one
# per order set: status and counts), then `finding` and `error` rows in report order (linter.render.ordering).
CSV_COLUMNS = (
    "record",
    "file",
    "order_set",
    "status",
    "order_sets",
    "orders_checked",
    "findings",
    "critical",
    "warning",
    "info",
    "errors",
    "order",
    "drug",
    "code",
    "name",
    "indicator",
    "summary",
    "citation",
)


def citation(f: Finding) -> str:
    """The rule's sources, `FILE:LINE; FILE:LINE` (the finding carries them)."""
    return "; ".join(f.citation_labels)


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
        "name": f.name,
        "indicator": f.indicator.value,
        "summary": f.summary,
        "detail": f.detail,
        "refs": list(f.refs),
        "order": order_name(order_set, f.primary_ref),
        "confidence": f.confidence,
        "citation": citation(f),
    }
    origin = order_set.definition.origin(f.primary_ref) if order_set.definition else None
    if origin is not None:
        out["action"] = {
            "ref": origin.ref,
            "title": origin.title,
            "definition": origin.definition,
            "expression": origin.fhirpath,
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
    findings: Sequence[Finding],
    order_set: OrderSet,
    *,
    with_suggestions: bool = False,
    profile: Any = None,
    originals: Originals = NO_ORIGINALS,
) -> dict[str, Any]:
    items = findings_json(findings, order_set)
    if with_suggestions and profile is not None:
        # Lazy: suggestions are built and checked with fhir.resources; the text and CSV reports never need them.
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


def csv_rows(findings: Iterable[Finding], order_set: OrderSet, file: str, label: str = "") -> list[dict[str, str]]:
    rows = []
    for f in findings:
        rows.append(
            {
                "record": "finding",
                "file": file,
                "order_set": label,
                "order": f.primary_ref,
                "drug": order_name(order_set, f.primary_ref),
                "code": f.code,
                "name": f.name,
                "indicator": f.indicator.value,
                "summary": f.summary,
                "citation": citation(f),
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
    source = f" [{f.citations[0].label}]" if f.citations else ""
    return f"{file}: {where}: {f.code} {f.indicator.value} {f.summary}{source}"


def source_lines(f: Finding) -> list[str]:
    """The rule's quoted source sentences, one line each: `"<sentence>" (FILE:LINE)`."""
    return [f'"{c.quote}" ({c.label})' for c in f.citations]


def text_entry(f: Finding, file: str, order_set: OrderSet, show_source: bool = False) -> str:
    """One finding in the text format: its line, and with --show-source its detail lines indented (the CLI's
    `lint` and the streamed Bulk export both write this)."""
    out = [text_line(f, file, action_title(order_set, f.primary_ref)) + "\n"]
    if show_source:
        out.extend(f"    {line}\n" for line in detail_lines(f, order_set))
    return "".join(out)


def detail_lines(f: Finding, order_set: OrderSet | None = None) -> list[str]:
    """What the text format prints under a finding's line with --show-source: its computed values in words
    ("Dose per kg: 214 units/kg", "Weight: 70 kg (Observation, 2026-11-20)"), its confidence explained, then
    each source sentence once (`> "<sentence>" (FILE:LINE)`)."""
    lines = [f"{v.label}: {v.text}" for v in labelled_values(f, order_set)]
    lines.append(f"Confidence: {confidence_text(f)}")
    return [*lines, *(f"> {line}" for line in source_lines(f))]


def display_json(f: Finding, order_set: OrderSet) -> dict[str, Any]:
    """The finding as people read it, for the HTML report and the results page (the machine `values` and the
    whole `detail` stay beside it): labelled values, the confidence explained, and the detail without its
    source block (the page shows `sources` once, on their own)."""
    return {
        "values": [{"key": v.key, "label": v.label, "text": v.text} for v in labelled_values(f, order_set)],
        "confidence": confidence_text(f),
        "detail": detail_body(f),
    }


# --- whole-batch reports: the CLI's --format json|csv and the workbench downloads ---------------------------


def sources_json(f: Finding) -> list[dict[str, str]]:
    """The rule's source sentences with FILE:LINE (or the external reference) and the titled reference a
    clinician reads ("Q&A: below-knee angioplasty (2025-03-24), line 24"), for the expandable detail."""
    return [{"label": c.label, "quote": c.quote, "cited_as": citation_text(c)} for c in f.citations]


def suggestion_diff(action: dict[str, Any], original: Any) -> str:
    """A suggested action as a unified diff of the pretty-printed resource (update), or added/removed lines."""
    if action.get("type") == "delete":
        return f"- {action.get('resourceId', '')}\n"
    new = json.dumps(action.get("resource"), indent=2, ensure_ascii=False).splitlines()
    if action.get("type") == "create" or original is None:
        return "".join(f"+ {line}\n" for line in new)
    old = json.dumps(original, indent=2, ensure_ascii=False).splitlines()
    import difflib  # lazy: only the JSON report's update suggestions need it (not a CSV or text lint's start)

    lines = difflib.unified_diff(old, new, "original", "suggested", n=2, lineterm="")
    return "".join(line + "\n" for line in lines)


def _report_order_set(
    findings: Sequence[Finding], order_set: OrderSet, originals: Originals, profile: Any
) -> dict[str, Any]:
    doc = order_set_json(findings, order_set, with_suggestions=True, profile=profile, originals=originals)
    for item, f in zip(doc["findings"], findings, strict=True):
        item["sources"] = sources_json(f)
        item["display"] = display_json(f, order_set)
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


class SummaryTally:
    """The batch totals of the JSON report, added up input by input and order set by order set: the report
    kept in memory and the export streamed patient by patient (linter.bulk_stream) give the same summary."""

    def __init__(self) -> None:
        self.files = self.files_with_errors = self.errors = 0
        self.file_statuses = dict.fromkeys(ordering.STATUSES, 0)
        self.set_statuses = dict.fromkeys(ordering.STATUSES[:2], 0)
        self.order_sets = self.orders_checked = self.findings = 0
        self.by_indicator = dict.fromkeys(ordering.INDICATORS, 0)
        self.by_code: dict[str, dict[str, int]] = {}

    def add_set(self, order_set: OrderSet, findings: Sequence[Finding]) -> None:
        set_status = ordering.status(ordering.counts_of(order_set, findings))
        if set_status in self.set_statuses:
            self.set_statuses[set_status] += 1
        self.order_sets += 1
        self.orders_checked += ordering.orders_checked(order_set)
        self.findings += len(findings)
        for f in findings:
            self.by_indicator[f.indicator.value] += 1
            self.by_code.setdefault(f.code, dict.fromkeys(ordering.INDICATORS, 0))[f.indicator.value] += 1

    def add_file(self, counts: dict[str, int]) -> None:
        """One input, once its order sets were added: its file counts (ordering.file_counts)."""
        self.files += 1
        self.files_with_errors += 1 if counts["errors"] else 0
        self.errors += counts["errors"]
        self.file_statuses[ordering.status(counts)] += 1

    def doc(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "files_with_errors": self.files_with_errors,
            "files_by_status": dict(self.file_statuses),
            "errors": self.errors,
            "order_sets": self.order_sets,
            "order_sets_by_status": dict(self.set_statuses),
            "orders_checked": self.orders_checked,
            "findings": self.findings,
            "by_indicator": dict(self.by_indicator),
            "by_code": {code: self.by_code[code] for code in sorted(self.by_code)},
        }


def report_summary(results: Sequence[FileResult]) -> dict[str, Any]:
    """Totals of the batch: each is the sum of the per-file counts of report_doc's `files`."""
    tally = SummaryTally()
    for r in results:
        for s in r.sets:
            tally.add_set(s.order_set, s.findings)
        tally.add_file(ordering.file_counts(r))
    return tally.doc()


def _report_file(r: FileResult, profile: Any) -> dict[str, Any]:
    sets = [
        report_set(s.order_set, s.findings, s.originals, ordering.set_label(r, i), profile)
        for i, s in enumerate(r.sets)
    ]
    return report_file(r.path, ordering.file_counts(r), sets, r.errors)


def report_set(
    order_set: OrderSet, findings: Sequence[Finding], originals: Originals, label: str, profile: Any
) -> dict[str, Any]:
    """One order set of the JSON report: label, status, counts, and its findings in report order."""
    counts = ordering.counts_of(order_set, findings)
    doc = _report_order_set(ordering.ordered_findings(findings), order_set, originals, profile)
    return {"label": label, "status": ordering.status(counts), "counts": counts, **doc}


def report_file(path: str, counts: dict[str, int], sets: Any, errors: Iterable[Any]) -> dict[str, Any]:
    """One input of the JSON report (`sets`: its report_set entries, or a placeholder the streamed export
    replaces with them)."""
    return {
        "path": path,
        "status": ordering.status(counts),
        "counts": counts,
        "order_sets": sets,
        "errors": [{"message": e.message, "path": e.path} for e in errors],
    }


def report_doc(results: Sequence[FileResult], profile: Any) -> dict[str, Any]:
    """The JSON report: one entry per input, by name, with its status and counts, its order sets (each with
    status, counts and findings in report order, with suggestions and diffs) and its errors."""
    return report_document(
        profile, report_summary(results), [_report_file(r, profile) for r in ordering.ordered_results(results)]
    )


def report_document(profile: Any, summary: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"profile": {"id": profile.id, "version": profile.version}, "summary": summary, "files": files}


def report_json(results: Sequence[FileResult], profile: Any) -> str:
    return json.dumps(report_doc(results, profile), indent=2, ensure_ascii=False) + "\n"


def error_row(file: str, message: str, path: str | None) -> dict[str, str]:
    return {
        "record": "error",
        "file": file,
        "order": path or "",
        "code": "ERROR",
        "indicator": "error",
        "summary": message,
    }


def _count_cells(counts: dict[str, int]) -> dict[str, str]:
    return {k: str(v) for k, v in counts.items()}


def csv_writer(fh: TextIO) -> csv.DictWriter[str]:
    """A writer of the CSV report's rows (the header is the caller's: `writeheader()`)."""
    return csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")


def file_row(file: str, counts: dict[str, int]) -> dict[str, str]:
    return {"record": "file", "file": file, "status": ordering.status(counts), **_count_cells(counts)}


def order_set_row(file: str, label: str, counts: dict[str, int]) -> dict[str, str]:
    return {
        "record": "order_set",
        "file": file,
        "order_set": label,
        "status": ordering.status(counts),
        **_count_cells(counts),
    }


def report_csv(results: Sequence[FileResult]) -> str:
    """Every input and order set with its status and counts, then every finding and error in report order."""
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writeheader()
    for r in ordering.ordered_results(results):
        writer.writerow(file_row(r.path, ordering.file_counts(r)))
        for i, s in enumerate(r.sets):
            writer.writerow(order_set_row(r.path, ordering.set_label(r, i), ordering.set_counts(s)))
    for row in ordering.report_rows(results):
        if row.finding is not None and row.linted is not None:
            label = ordering.set_label(row.result, row.set_index)
            writer.writerows(csv_rows([row.finding], row.linted.order_set, row.result.path, label))
        elif row.error is not None:
            writer.writerow(error_row(row.result.path, row.error.message, row.error.path))
    return buf.getvalue()
