"""`orderlint lint --export` written patient by patient (linter.cli routes the STREAMED_FORMATS here): memory
bounded by one order set however large the export. The input is grouped on disk (linter.bulk.index_export);
text and CSV findings go to one temporary file per indicator (the report lists critical, then warning, then
info, each in patient order) and are concatenated at the end; the CSV's order-set rows go to a file of their
own, written after the file row whose totals are known only at the end; the JSON report's order sets and
the OperationOutcome Bundle's entries are written item by item (linter.json_stream) and the document around
them at the end (the report's summary added up set by set, report.SummaryTally); the HTML report's rows go
to a temporary file per indicator, its definition trees and inputs-table rows to files of their own, and the
page around them (summary, counts, filters) is rendered at the end, row ids filled in as the files are copied
(linter.render.html.StreamedReport); cards go one response per line; MUE counts are added up chunk by chunk.
Output, stderr and exit code are those of the in-memory path (linter.bulk_cli.export_results, then the CLI's
renderers), which --summary still uses."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from contextlib import ExitStack, closing, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from linter.batch import LintOptions
from linter.bulk import ExportRun, Record, iter_export
from linter.bulk_cli import export_options, installation_salt, mue_text, window_of
from linter.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from linter.cli_lint import input_closing_line
from linter.json_stream import PLACEHOLDER, JsonItems
from linter.model import Indicator
from linter.profiles import Profile
from linter.render import report
from linter.render.mue import MueCounts, counts_from_records
from linter.render.ordering import INDICATORS, counts_of, label_of, ordered_findings, orders_checked, report_rows
from linter.render.outcome import error_outcome, operation_outcome, outcomes_bundle

STREAMED_FORMATS = ("text", "csv", "json", "html", "cards", "outcome", "mue", "mue-json")
MUE_CHUNK = 2_000  # rows counted at a time (the counts of disjoint patients add up; ~1 KB a row)

K = TypeVar("K")


def stream_export(args: argparse.Namespace, profile: Profile, options: LintOptions) -> int:
    """The export in a STREAMED_FORMATS format (not with --summary, whose tables need every order set)."""
    window = window_of(args)
    name = ", ".join(args.paths)
    fail_on = Indicator(args.fail_on)
    errors: list[Record] = []
    patient_errors: list[Record] = []
    counts = dict.fromkeys(("order_sets", "orders_checked", "findings", *INDICATORS, "errors"), 0)
    mue, chunk, failed = MueCounts(), list[Record](), False
    tally = report.SummaryTally()
    first_cards: dict[str, Any] = {}
    # the JSON report's order sets (files[0].order_sets: depth 3), the outcome Bundle's entries (depth 1)
    depth = 3 if args.format == "json" else 1
    with (
        tempfile.TemporaryDirectory(prefix="orderlint-report-") as tmp,
        closing(JsonItems(Path(tmp, "items"), depth)) as items,
        ExitStack() as pages,
    ):
        if args.format == "html":
            from linter.render.html import StreamedReport  # lazy: Jinja and markdown only for this format

            page = pages.enter_context(closing(StreamedReport(Path(tmp), name)))
        with ExitStack() as stack:
            parts = {ind: stack.enter_context(Path(tmp, ind).open("w", encoding="utf-8")) for ind in INDICATORS}
            csv_parts = {ind: report.csv_writer(fh) for ind, fh in parts.items()}
            set_rows = report.csv_writer(stack.enter_context(Path(tmp, "sets").open("w", encoding="utf-8")))
            card_lines = stack.enter_context(Path(tmp, "cards").open("w", encoding="utf-8"))
            for p in iter_export(args.paths, profile, export_options(options, window), installation_salt(), errors):
                patient_errors.extend(r for r in p.records if r["kind"] == "error")
                if args.format != "text":
                    chunk.extend(p.records)
                    if len(chunk) >= MUE_CHUNK:
                        add_counts(mue, counts_from_records(chunk))
                        chunk = []
                if p.order_set is None:
                    continue
                counts["order_sets"] += 1
                counts["orders_checked"] += orders_checked(p.order_set)
                label = label_of(name, p.order_set, counts["order_sets"] - 1)
                if args.format == "csv":
                    set_rows.writerow(report.order_set_row(name, label, counts_of(p.order_set, p.findings)))
                elif args.format == "json":
                    tally.add_set(p.order_set, p.findings)
                    items.add(report.report_set(p.order_set, p.findings, p.originals, label, profile))
                elif args.format == "html":
                    tally.add_set(p.order_set, p.findings)
                    page.add_set(report.report_set(p.order_set, p.findings, p.originals, label, profile))
                elif args.format == "outcome":
                    items.add({"resource": operation_outcome(p.findings, p.order_set)})
                elif args.format == "cards":
                    from linter.render.cards import cards_response  # lazy: fhir.resources, for this format only

                    cards = cards_response(p.findings, p.order_set, profile, originals=p.originals)
                    first_cards = cards if counts["order_sets"] == 1 else first_cards
                    card_lines.write(json.dumps(cards, ensure_ascii=False) + "\n")
                for f in ordered_findings(p.findings):
                    counts["findings"] += 1
                    counts[f.indicator.value] += 1
                    failed = failed or fail_on <= f.indicator
                    if args.format == "text":
                        parts[f.indicator.value].write(report.text_entry(f, name, p.order_set, args.show_source))
                    elif args.format == "csv":
                        csv_parts[f.indicator.value].writerows(report.csv_rows([f], p.order_set, name, label))
        add_counts(mue, counts_from_records(chunk + errors))
        (result,) = ExportRun([], errors + patient_errors).file_results(name)
        counts["errors"] = len(result.errors)
        with open(args.output, "w", encoding="utf-8") if args.output else nullcontext(sys.stdout) as dest:
            if args.format in ("text", "csv"):
                head = report.csv_writer(dest)
                if args.format == "csv":
                    head.writeheader()
                    head.writerow(report.file_row(name, counts))
                    with Path(tmp, "sets").open(encoding="utf-8") as src:
                        shutil.copyfileobj(src, dest)
                for ind in INDICATORS:
                    with Path(tmp, ind).open(encoding="utf-8") as src:
                        shutil.copyfileobj(src, dest)
                if args.format == "csv":  # input errors last, as in the report order
                    head.writerows(
                        report.error_row(name, row.error.message, row.error.path)
                        for row in report_rows([result])
                        if row.error is not None
                    )
            elif args.format == "json":
                tally.add_file(counts)
                files = [report.report_file(name, counts, PLACEHOLDER, result.errors)]
                items.write_document(dest, report.report_document(profile, tally.doc(), files))
            elif args.format == "html":
                tally.add_file(counts)
                files = [report.report_file(name, counts, [], result.errors)]
                page.write(dest, report.report_document(profile, tally.doc(), files))
            elif args.format == "outcome":  # as the in-memory path: the order sets', then the input's errors
                for e in result.errors:
                    items.add({"resource": error_outcome(f"{result.path}: {e.message}", e.path)})
                if items.count == 1:
                    dest.write(json.dumps(items.first["resource"], indent=2, ensure_ascii=False) + "\n")
                else:
                    items.write_document(dest, {**outcomes_bundle([]), "entry": PLACEHOLDER})
            elif args.format == "cards":  # one response: itself; more: one per line
                card_lines.close()
                if counts["order_sets"] == 1:
                    dest.write(json.dumps(first_cards, indent=2, ensure_ascii=False) + "\n")
                else:
                    with Path(tmp, "cards").open(encoding="utf-8") as src:
                        shutil.copyfileobj(src, dest)
            else:
                dest.write(mue_text(args.format, mue, profile, window))
            dest.flush()
    for row in report_rows([result]):
        if row.error is not None:
            where = f" at {row.error.path}" if row.error.path else ""
            print(f"{row.result.path}: error{where}: {row.error.message}", file=sys.stderr)
    if not args.quiet:
        print(input_closing_line(name, counts), file=sys.stderr)
    if result.errors:  # as `orderlint lint`: an input not read was not checked, which outranks any finding
        return EXIT_ERROR
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def add_counts(total: MueCounts, part: MueCounts) -> None:
    """Add the MUE counts of rows of other patients (keys keep their first-seen order, as in one pass)."""
    total.order_sets += part.order_sets
    total.orders += part.orders
    total.undated += part.undated
    total.errors += part.errors
    for month, (sets, orders) in part.months.items():
        had_sets, had_orders = total.months.get(month, (0, 0))
        total.months[month] = (had_sets + sets, had_orders + orders)
    _add_into(total.findings, part.findings)
    _add_into(total.rule_drugs, part.rule_drugs)
    _add_into(total.order_drugs, part.order_drugs)


def _add_into(mine: dict[K, int], theirs: dict[K, int]) -> None:
    for k, n in theirs.items():
        mine[k] = mine.get(k, 0) + n
