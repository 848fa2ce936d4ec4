"""The line-oriented reports (`--format csv` and `text`) rendered input by input, where each input is linted.

A CSV or text report is the inputs' rows put in report order (linter.render.ordering): CSV first every input's
file row and order-set rows (inputs by name), then every finding and error row; text one entry per finding.
So an input's share of the report can be rendered as soon as it is linted, in the `--jobs` worker that linted
it: the worker sends back these strings with their sort keys, the counts the closing line and the exit code
need and the input's errors (for the error lines on stderr), instead of the order sets and findings (whose
pickling and unpickling cost the parent ~50 us a bundle, a fifth of the lint itself), and the parent only
sorts and joins. `--jobs 1` renders through the same functions, so both give the same bytes; and the bytes
equal `report.report_csv` and the CLI's text rendering of the whole batch (tests/test_jobs_reports.py).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from linter.render import ordering
from linter.render.report import CSV_COLUMNS, citation, order_name, text_entry

if TYPE_CHECKING:
    import _csv

    from linter.batch import FileResult

# A report row: (indicator rank, file, order-set index, order ref, rule code) as ordering.row_key, then the
# input's place in the batch and the row's place in the input (the ties: the order of ordering.report_rows),
# then the rendered row.
Row = tuple[int, str, int, str, str, int, int, str]

_RANK, _ERROR = ordering.RANK, ordering.RANK["error"]


class InputRows(NamedTuple):
    """One input's share of a line-oriented report, and what the CLI says about it."""

    path: str
    counts: dict[str, int]  # ordering.file_counts
    head: str  # CSV: the input's file row and order-set rows ("" for text)
    rows: list[Row]  # CSV: finding and error rows; text: finding entries
    errors: list[tuple[str, str | None]]  # (message, path in the input) of each part not read


class _Lines(list[str]):
    """A csv writer's file that keeps each row as its own string (the writer writes a row in one call)."""

    write = list.append


def _writer(lines: _Lines) -> _csv.Writer:
    """report.csv_writer's dialect; a DictWriter hands its writer each row as a list in column order, and
    so do these functions (the header, and an empty cell where a row has no value)."""
    return csv.writer(lines, lineterminator="\n")


def csv_header() -> str:
    lines = _Lines()
    _writer(lines).writerow(CSV_COLUMNS)
    return lines[0]


_COUNT_COLUMNS = CSV_COLUMNS[4:11]  # order_sets .. errors
_EMPTY_COUNTS = [""] * len(_COUNT_COLUMNS)  # a finding or error row leaves them empty
_EMPTY_FINDING = [""] * (len(CSV_COLUMNS) - 11)  # order .. citation: empty in file and order-set rows


def _count_cells(counts: dict[str, int]) -> list[str]:
    """A file or order-set row's cells after `status`: its counts (empty where it has none), then empty finding ones."""
    return [*(str(counts[k]) if k in counts else "" for k in _COUNT_COLUMNS), *_EMPTY_FINDING]


def csv_input(index: int, r: FileResult) -> InputRows:
    """The CSV rows of input `index` of the batch (report.report_csv's rows for it)."""
    lines = _Lines()
    w = _writer(lines)
    path = r.path
    counts = ordering.file_counts(r)
    w.writerow(["file", path, "", ordering.status(counts), *_count_cells(counts)])
    labels = [ordering.set_label(r, i) for i in range(len(r.sets))]
    for label, s in zip(labels, r.sets, strict=True):
        sc = ordering.set_counts(s)
        w.writerow(["order_set", path, label, ordering.status(sc), *_count_cells(sc)])
    head = "".join(lines)
    lines.clear()
    rows: list[Row] = []
    n = 0
    for i, s in enumerate(r.sets):
        order_set = s.order_set
        for f in s.findings:
            ref, indicator = f.primary_ref, f.indicator.value
            w.writerow(
                [
                    "finding",
                    path,
                    labels[i],
                    "",
                    *_EMPTY_COUNTS,
                    ref,
                    order_name(order_set, ref),
                    f.code,
                    f.name,
                    indicator,
                    f.summary,
                    citation(f),
                ]
            )
            rows.append((_RANK[indicator], path, i, ref, f.code, index, n, lines.pop()))
            n += 1
    errors = []
    for e in r.errors:
        w.writerow(["error", path, "", "", *_EMPTY_COUNTS, e.path or "", "", "ERROR", "", "error", e.message, ""])
        rows.append((_ERROR, path, ordering.ERROR_SET_INDEX, e.path or "", "", index, n, lines.pop()))
        errors.append((e.message, e.path))
        n += 1
    return InputRows(path, counts, head, rows, errors)


def text_input(index: int, r: FileResult, show_source: bool = False) -> InputRows:
    """The text entries of input `index` of the batch (one per finding; an input's errors go to stderr)."""
    path = r.path
    rows: list[Row] = []
    n = 0
    for i, s in enumerate(r.sets):
        for f in s.findings:
            ref = f.primary_ref
            entry = text_entry(f, path, s.order_set, show_source)
            rows.append((_RANK[f.indicator.value], path, i, ref, f.code, index, n, entry))
            n += 1
    errors = [(e.message, e.path) for e in r.errors]
    return InputRows(path, ordering.file_counts(r), "", rows, errors)


def assemble(fmt: str, inputs: Sequence[InputRows]) -> str:
    """The whole report from the inputs' shares (in input order): CSV header, heads by input name, then rows
    in report order; text: the entries in report order."""
    rows = [row for share in inputs for row in share.rows]
    rows.sort()  # (key, input, place) is unique: the rendered row never takes part
    body = "".join([row[7] for row in rows])
    if fmt == "text":
        return body
    heads = sorted(range(len(inputs)), key=lambda i: inputs[i].path)  # stable: by name, then input order
    return csv_header() + "".join([inputs[i].head for i in heads]) + body


def error_lines(inputs: Sequence[InputRows]) -> list[str]:
    """The stderr line of each part not read, in report order: `path: error at X: message`."""
    keyed = [
        (share.path, where or "", index, n, f"{share.path}: error{f' at {where}' if where else ''}: {message}")
        for index, share in enumerate(inputs)
        for n, (message, where) in enumerate(share.errors)
    ]
    keyed.sort()
    return [line[4] for line in keyed]
