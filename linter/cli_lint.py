"""`orderlint lint`: read the inputs, run the engine, write the report, say on stderr what happened.

linter.cli imports this module only when the command is `lint`, so the reader, the engine and the rule
registry are loaded for that command alone. Formats that need more load it when chosen: `cards` the
suggestion builder (fhir.resources), `html` Jinja, `mue`/`--export` the Bulk Data reader and the store, the
summary tables and the progress bar rich.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from linter.batch import (
    FileResult,
    InputSource,
    LintOptions,
    ProgressCallback,
    ZipLimits,
    collect_inputs,
    lint_each,
    lint_sources,
)
from linter.model import Indicator
from linter.profiles import Profile, load_profile
from linter.render import ordering, rows

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _print_error(message: str) -> None:
    print(f"orderlint: error: {message}", file=sys.stderr)


def lint_command(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    if args.jobs < 1:
        _print_error("--jobs must be at least 1")
        return EXIT_ERROR
    options = LintOptions(
        mode=args.mode, context=args.context, select=_codes(args.select), ignore=_codes(args.ignore) or ()
    )
    records = None
    if args.export:
        # Lazy: the Bulk Data reader and the store (SQLAlchemy, for the patient salt) only for --export.
        from linter.bulk_cli import export_results, installation_salt, window_of
        from linter.bulk_stream import STREAMED_FORMATS, stream_export

        if args.format in STREAMED_FORMATS and not args.summary:  # memory bounded by one order set
            return stream_export(args, profile, options)
        results, records = export_results(args.paths, profile, options, window_of(args), installation_salt())
    elif args.since or args.until:
        _print_error("--since/--until select orders in a Bulk Data export: add --export")
        return EXIT_ERROR
    else:
        limits = ZipLimits()
        sources = collect_inputs(args.paths, limits)
        if args.format in ROW_FORMATS and not _tables(args, len(sources)):
            return _lint_rows(args, profile, options, sources, limits)
        results = _run_batch(args, profile, options, sources, limits)
    if args.format in ("mue", "mue-json"):
        # Lazy: the MUE page and the store (SQLAlchemy, for the patient salt) only for these formats.
        from linter.bulk_cli import mue_output, window_of

        output = mue_output(args.format, results, records, profile, window_of(args))
    else:
        output = render(args.format, results, profile, show_source=args.show_source)
    _write(args, output)
    _report_errors_and_summary(args, results)
    counts = [ordering.file_counts(r) for r in results]
    return _exit_code(args, counts)


def _write(args: argparse.Namespace, output: str) -> None:
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(output)
    elif output:
        sys.stdout.write(output)
        sys.stdout.flush()


def _exit_code(args: argparse.Namespace, counts: Sequence[dict[str, int]]) -> int:
    """From every input's counts (ordering.file_counts): an input not read was not checked, which outranks
    any finding; then a finding at or above --fail-on."""
    if any(c["errors"] for c in counts):
        return EXIT_ERROR
    fail_on = Indicator(args.fail_on)
    failing = [i.value for i in Indicator if fail_on <= i]
    if any(c[name] for c in counts for name in failing):
        return EXIT_FINDINGS
    return EXIT_CLEAN


# The line-oriented formats: each input's rows rendered where it is linted (linter.render.rows).
ROW_FORMATS = ("csv", "text")


def _lint_rows(
    args: argparse.Namespace, profile: Profile, options: LintOptions, sources: list[InputSource], limits: ZipLimits
) -> int:
    """A CSV or text report without the summary tables: the report, error lines and closing line need only
    each input's rendered rows, counts and errors, so the results never leave the process (or the worker)
    that linted them."""
    finish = rows.csv_input if args.format == "csv" else partial(rows.text_input, show_source=args.show_source)
    with _progress(args, len(sources)) as advance:
        shares = lint_each(sources, profile, options, finish, jobs=args.jobs, limits=limits, progress=advance)
    _write(args, rows.assemble(args.format, shares))
    for line in rows.error_lines(shares):
        print(line, file=sys.stderr)
    if not args.quiet:
        print(closing_line_of([(s.path, s.counts) for s in shares]), file=sys.stderr)
    return _exit_code(args, [s.counts for s in shares])


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _findings_phrase(total: int, by_indicator: dict[str, int]) -> str:
    if not total:
        return "no findings"
    counts = ", ".join(f"{by_indicator[i]} {i}" for i in ordering.INDICATORS)
    return f"{plural(total, 'finding')} ({counts})"


def closing_line(results: Sequence[FileResult]) -> str:
    """The run's last line: `a.json: clean: 8 orders checked, no findings.` for one input, totals for several."""
    return closing_line_of([(r.path, ordering.file_counts(r)) for r in results])


def closing_line_of(inputs: Sequence[tuple[str, dict[str, int]]]) -> str:
    """closing_line from each input's name and counts (ordering.file_counts): the batch's totals are their
    sums (as report.report_summary's)."""
    if len(inputs) == 1:
        return input_closing_line(*inputs[0])
    by_status = dict.fromkeys(ordering.STATUSES, 0)
    totals = dict.fromkeys(("order_sets", "orders_checked", "findings", *ordering.INDICATORS), 0)
    for _path, counts in inputs:
        by_status[ordering.status(counts)] += 1
        for key in totals:
            totals[key] += counts[key]
    files = (
        f"{plural(len(inputs), 'file')}: {by_status['clean']} clean, {by_status['findings']} with findings, "
        f"{by_status['error']} with errors"
    )
    orders = f"{plural(totals['order_sets'], 'order set')}, {plural(totals['orders_checked'], 'order')} checked"
    return f"{files}; {orders}; {_findings_phrase(totals['findings'], totals)}."


def input_closing_line(path: str, counts: dict[str, int]) -> str:
    """The closing line of a run over one input, from its counts (ordering.file_counts); linter.bulk_stream
    counts an export as it streams it."""
    if counts["errors"] and not counts["order_sets"]:
        return f"{path}: error: could not be read ({plural(counts['errors'], 'error')})."
    parts = [plural(counts["order_sets"], "order set")] if counts["order_sets"] > 1 else []
    parts.append(f"{plural(counts['orders_checked'], 'order')} checked")
    parts.append(_findings_phrase(counts["findings"], counts))
    if counts["errors"]:
        parts.append(f"{plural(counts['errors'], 'part')} could not be read")
    return f"{path}: {ordering.status(counts)}: {', '.join(parts)}."


def _report_errors_and_summary(args: argparse.Namespace, results: list[FileResult]) -> None:
    """stderr: one line per unreadable input (always), the summary tables (on a terminal with several inputs,
    or with --summary; never with -q unless --summary), and one closing line (unless -q)."""
    for row in ordering.report_rows(results):
        if row.error is not None:
            where = f" at {row.error.path}" if row.error.path else ""
            print(f"{row.result.path}: error{where}: {row.error.message}", file=sys.stderr)
    if _tables(args, len(results)):
        sys.stderr.flush()
        from linter.cli_summary import print_summary  # lazy: rich only when the tables are printed

        print_summary(results)
    if not args.quiet:
        print(closing_line(results), file=sys.stderr)


def _tables(args: argparse.Namespace, inputs: int) -> bool:
    """Whether the summary tables are printed: --summary/--no-summary, else on a terminal with several
    inputs unless -q."""
    if args.summary is not None:
        return bool(args.summary)
    return not args.quiet and inputs > 1 and sys.stderr.isatty()


@contextmanager
def _progress(args: argparse.Namespace, inputs: int) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr when it is a terminal (none when piped or with --quiet): yields its callback."""
    if args.quiet or not sys.stderr.isatty() or inputs < 2:
        yield None
        return
    from linter.cli_summary import progress_bar  # lazy: rich only when a bar is drawn

    with progress_bar(inputs) as advance:
        yield advance


def _run_batch(
    args: argparse.Namespace, profile: Profile, options: LintOptions, sources: list[InputSource], limits: ZipLimits
) -> list[FileResult]:
    with _progress(args, len(sources)) as advance:
        return lint_sources(sources, profile, options, jobs=args.jobs, limits=limits, progress=advance)


def render(fmt: str, results: list[FileResult], profile: Profile, show_source: bool = False) -> str:
    # Lazy: the whole-report renderers, not the row writers a batch streams (_lint_rows: ~2 ms of its start).
    from linter.render import report

    by_name = ordering.ordered_results(results)  # inputs by name in every format, as in the reports
    if fmt == "text":
        out = []
        for row in ordering.report_rows(results):  # the report order, as in the CSV, JSON and HTML reports
            if row.finding is not None and row.order_set is not None:
                out.append(report.text_entry(row.finding, row.result.path, row.order_set, show_source))
        return "".join(out)
    if fmt == "json":
        return report.report_json(results, profile)
    if fmt == "cards":
        # Lazy: cards carry suggestions, built and checked with fhir.resources: only for this format.
        from linter.render.cards import cards_response

        responses = [
            cards_response(s.findings, s.order_set, profile, originals=s.originals) for r in by_name for s in r.sets
        ]
        if len(responses) == 1:
            return json.dumps(responses[0], indent=2, ensure_ascii=False) + "\n"
        return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in responses)
    if fmt == "outcome":
        from linter.render.outcome import error_outcome, operation_outcome, outcome_document  # lazy: as report

        outcomes: list[dict[str, Any]] = []
        for r in by_name:  # one per input: its order sets' findings, or why it could not be read
            outcomes.extend(operation_outcome(s.findings, s.order_set) for s in r.sets)
            outcomes.extend(error_outcome(f"{r.path}: {e.message}", e.path) for e in r.errors)
        doc = outcome_document(outcomes)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return report.report_csv(results)
    if fmt == "html":
        from linter.render.html import report_html  # lazy: Jinja and markdown only for this format

        return report_html(results, profile)
    raise ValueError(fmt)
