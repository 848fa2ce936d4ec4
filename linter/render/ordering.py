"""The one order of a report and the account of every input, shared by every format (text, CSV, JSON, HTML)
and by the CLI and the workbench downloads, so that they list the same rows in the same order.

The order, chosen once:

- Inputs (files, archive members, stdin) by their name as shown, so that `orderlint lint b.json a.json`, a
  directory, a zip of it and the same files uploaded to the workbench list alike. Inside a file, order sets
  keep their place in the file (one per Bundle, hook request or NDJSON patient).
- Findings, wherever they form one list (text lines, CSV rows, the HTML table): by indicator, critical first
  (critical, warning, info), then file name, then order set (its place in the file), then the order's
  reference, then the rule code; findings that tie keep the order the rules gave them. Inputs that could not
  be read come after the findings (rank `error`), by file name. Inside the JSON report each order set's
  findings follow the same order.

The account: every input gets a status (`clean`, `findings`, `error`) and counts (order sets, orders
checked, findings per indicator, errors), and so does every order set (`clean` or `findings`); the report's
totals are the sums of these counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from linter.model import Finding, OrderSet
from linter.model_class import frozen_model

if TYPE_CHECKING:
    from linter.batch import FileResult, LintedSet
    from linter.errors import InputError

RANK = {"critical": 0, "warning": 1, "info": 2, "error": 3}
INDICATORS = ("critical", "warning", "info")
STATUSES = ("clean", "findings", "error")
ERROR_SET_INDEX = 1 << 30  # an input's errors sort after its order sets


def row_key(indicator: str, file: str, set_index: int, ref: str, code: str) -> tuple[int, str, int, str, str]:
    """The sort key of one report row (a finding, or an input error with indicator "error")."""
    return RANK.get(indicator, len(RANK)), file, set_index, ref, code


def ordered_results(results: Iterable[FileResult]) -> list[FileResult]:
    """Inputs by name (stable: two inputs of the same name keep their order)."""
    return sorted(results, key=lambda r: r.path)


def ordered_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One order set's findings in report order."""
    return sorted(findings, key=lambda f: row_key(f.indicator.value, "", 0, f.primary_ref, f.code))


@frozen_model  # slotted too: nothing sets attributes on it
class Row:
    """One row of a flat report: a finding of an order set, or an error of an input."""

    result: FileResult
    set_index: int
    linted: LintedSet | None
    finding: Finding | None
    error: InputError | None

    @property
    def order_set(self) -> OrderSet | None:
        return self.linted.order_set if self.linted else None


def report_rows(results: Sequence[FileResult]) -> list[Row]:
    """Every finding and every input error of a batch, in report order."""
    rows: list[tuple[tuple[int, str, int, str, str], int, Row]] = []
    for r in results:
        for i, s in enumerate(r.sets):
            for f in s.findings:
                key = row_key(f.indicator.value, r.path, i, f.primary_ref, f.code)
                rows.append((key, len(rows), Row(r, i, s, f, None)))
        for err in r.errors:
            key = row_key("error", r.path, ERROR_SET_INDEX, err.path or "", "")
            rows.append((key, len(rows), Row(r, ERROR_SET_INDEX, None, None, err)))
    rows.sort(key=lambda item: item[:2])
    return [row for _key, _n, row in rows]


# --- the account of every input ---------------------------------------------------------------------------


def orders_checked(order_set: OrderSet) -> int:
    return len(order_set.medications) + len(order_set.procedures)


def _by_indicator(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(INDICATORS, 0)
    for f in findings:
        counts[f.indicator.value] += 1
    return counts


def set_counts(linted: LintedSet) -> dict[str, int]:
    """orders_checked, findings and findings per indicator of one order set."""
    return counts_of(linted.order_set, linted.findings)


def counts_of(order_set: OrderSet, findings: Sequence[Finding]) -> dict[str, int]:
    return {"orders_checked": orders_checked(order_set), "findings": len(findings), **_by_indicator(findings)}


def file_counts(result: FileResult) -> dict[str, int]:
    """order_sets, orders_checked, findings, findings per indicator and errors of one input."""
    findings = result.findings
    return {
        "order_sets": len(result.sets),
        "orders_checked": sum(orders_checked(s.order_set) for s in result.sets),
        "findings": len(findings),
        **_by_indicator(findings),
        "errors": len(result.errors),
    }


def status(counts: dict[str, int]) -> str:
    """`error` when part of the input could not be read (even if the rest has findings: it was not all
    checked), `findings` when any finding, else `clean`."""
    if counts.get("errors"):
        return "error"
    return "findings" if counts["findings"] else "clean"


def set_label(result: FileResult, index: int) -> str:
    """How a report names an order set inside its input: the NDJSON line or patient it came from and its
    subject reference; `order set N` when it has neither."""
    return label_of(result.path, result.sets[index].order_set, index)


def label_of(path: str, order_set: OrderSet, index: int) -> str:
    """set_label for the order set `index` of the input `path` (a streamed export has no FileResult)."""
    rest = order_set.source[len(path) :] if order_set.source.startswith(path) else ""
    parts = [rest.strip(" :()")]
    subject = order_set.subject_ref or ""
    if subject and subject not in parts[0]:
        parts.append(subject)
    return " ".join(p for p in parts if p) or f"order set {index + 1}"


def worst(counts: dict[str, Any]) -> str:
    """The most urgent indicator with a finding ("" when none): the colour of a status badge."""
    return next((ind for ind in INDICATORS if counts.get(ind)), "")
