"""What `orderlint lint` draws on a terminal with rich, besides the report itself (the closing line, which
needs no rich, is linter.cli_lint's; this module is imported only when a table or a bar is drawn).

- `progress_bar`: the bar on stderr while several inputs are linted on a terminal.
- `print_summary`: the tables, on a terminal when several inputs were linted, or whenever --summary asks:
  one row per input (and per order set when an input holds several) with status and counts and a total row
  that adds them up, then the findings by rule. Columns fold long names instead of cutting them, at the
  width of the terminal (or COLUMNS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from linter.render import ordering
from linter.render.report import report_summary

if TYPE_CHECKING:
    from linter.batch import FileResult

INDICATORS = ordering.INDICATORS


# A table row: its label cells, its (column, count) cells, its style. A terminal wide enough gets a column per
# count; a narrower one a single folded "counts" column, so that no column is ever dropped or cut.
_Row = tuple[list[str], list[tuple[str, str]], str]
_CELL_PADDING = 3  # rich's padding and separator around each column (box SIMPLE_HEAD, no edge padding)


def _table(title: str, labels: list[tuple[str, int]], rows: list[_Row], width: int) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, min_width in labels:
        table.add_column(name, overflow="fold", min_width=min_width)
    names = [name for name, _value in rows[0][1]]
    count_widths = [max(len(name), *(len(r[1][i][1]) for r in rows)) for i, name in enumerate(names)]
    wide = width >= sum(m for _n, m in labels) + sum(count_widths) + _CELL_PADDING * (len(labels) + len(names))
    if wide:
        for name in names:
            table.add_column(name, justify="right", overflow="fold")
    else:
        table.add_column("counts", overflow="fold", min_width=10)
    for n, (cells, counts, style) in enumerate(rows):
        if n == len(rows) - 1:
            table.add_section()
        if wide:
            table.add_row(*cells, *(value for _name, value in counts), style=style)
        else:
            table.add_row(*cells, ", ".join(f"{name} {value}" for name, value in counts if value), style=style)
    return table


def _counts(c: dict[str, int], keys: Sequence[str]) -> list[tuple[str, str]]:
    names = {"order_sets": "sets", "orders_checked": "orders"}
    return [(names.get(k, k), str(c[k]) if k in c else "") for k in keys]


def files_table(results: Sequence[FileResult], width: int = 80) -> Table:
    """One row per input (and per order set when it holds several), with a total row that adds them up."""
    keys = ("order_sets", "orders_checked", *INDICATORS, "errors")
    rows: list[_Row] = []
    for r in ordering.ordered_results(results):
        c = ordering.file_counts(r)
        rows.append(([r.path, ordering.status(c)], _counts(c, keys), ""))
        if len(r.sets) > 1:
            for i, linted in enumerate(r.sets):
                sc = ordering.set_counts(linted)
                rows.append(([f"  {ordering.set_label(r, i)}", ordering.status(sc)], _counts(sc, keys), "dim"))
    total = report_summary(results)
    counts = {
        "order_sets": total["order_sets"],
        "orders_checked": total["orders_checked"],
        **total["by_indicator"],
        "errors": total["errors"],
    }
    rows.append(([f"all {total['files']}", ""], _counts(counts, keys), "bold"))
    return _table("Files", [("file", 12), ("status", 8)], rows, width)


def rules_table(summary: dict[str, Any], names: dict[str, str], width: int = 80) -> Table:
    keys = (*INDICATORS, "total")
    rows: list[_Row] = [
        ([code, names.get(code, code)], _counts({**counts, "total": sum(counts.values())}, keys), "")
        for code, counts in summary["by_code"].items()
    ]
    rows.append((["all", ""], _counts({**summary["by_indicator"], "total": summary["findings"]}, keys), "bold"))
    return _table("Findings by rule", [("rule", 6), ("name", 12)], rows, width)


def print_summary(results: Sequence[FileResult], console: Console | None = None) -> None:
    """The tables on stderr, as wide as the terminal (or COLUMNS), long names folded, never cut."""
    console = console or Console(stderr=True, highlight=False)
    console.print(files_table(results, console.width))
    summary = report_summary(results)
    if summary["findings"]:
        names = {f.code: f.name for r in results for f in r.findings}  # each finding names its rule
        console.print(rules_table(summary, names, console.width))


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr; yields the batch's progress callback."""
    progress = Progress(
        TextColumn("linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}", style="dim"),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("", total=total)

    def advance(done: int, _total: int, name: str) -> None:
        progress.update(task, completed=done, description=name[-60:])

    with progress:
        yield advance
