"""The `orderlint` command (argparse).

  orderlint lint PATH...        lint files, directories (recursive), .zip archives or - (stdin)
  orderlint rules               list every rule: code, indicator, scope, citation
  orderlint explain CODE        a rule's documentation with the active profile's thresholds
  orderlint profile check FILE  validate a profile
  orderlint serve               run the CDS Hooks service and the workbench (see linter.api.serve)
  orderlint stats               alert-fatigue figures per rule from the card and feedback store
  orderlint purge               apply every retention rule now and print what was deleted

Exit codes (like ruff): 0 clean, 1 findings at or above --fail-on, 2 unusable input or usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from linter import __version__
from linter.batch import FileResult, LintOptions
from linter.errors import ProfileError
from linter.model import Indicator
from linter.profiles import DEFAULT_PROFILE, Profile, load_profile, load_profile_file
from linter.spark.args import add_spark_parser, add_window_arguments

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orderlint", description="Order-set linter for BTK angioplasty order sets.")
    p.add_argument("--version", action="version", version=f"orderlint {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    lint = sub.add_parser("lint", help="lint FHIR Bundles, resources, NDJSON or CDS Hooks requests")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (recursive) or - for stdin")
    lint.add_argument("--profile", default=DEFAULT_PROFILE, help="profile name or TOML file (default: %(default)s)")
    lint.add_argument(
        "--format",
        default="text",
        choices=["text", "json", "cards", "outcome", "csv", "html", "mue", "mue-json"],
        help="output format; mue: the medication-use evaluation page, mue-json its data (default: %(default)s)",
    )
    lint.add_argument("--select", help="only these rule codes or prefixes, comma-separated (e.g. HEP,AT101)")
    lint.add_argument("--ignore", help="skip these rule codes or prefixes, comma-separated")
    lint.add_argument(
        "--context",
        choices=["btk", "pad"],
        help="lint an order-set template without patient data: run btk/pad rules anyway",
    )
    lint.add_argument(
        "--fail-on",
        default="warning",
        choices=["info", "warning", "critical"],
        help="exit 1 when a finding is at or above this indicator (default: %(default)s)",
    )
    lint.add_argument(
        "--mode",
        default="strict",
        choices=["strict", "fast"],
        help="strict validates every resource with fhir.resources (default); fast reads only the fields the rules need",
    )
    lint.add_argument("--jobs", type=int, default=1, help="parallel worker processes (default: 1)")
    lint.add_argument("--output", "-o", help="write the report to this file instead of stdout")
    lint.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print the report (findings) and error lines only: no progress bar, no summary, no closing line",
    )
    lint.add_argument(
        "--summary",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the summary tables on stderr (files with status and counts, findings by rule); default: on a "
        "terminal when several inputs are linted",
    )
    lint.add_argument(
        "--export",
        action="store_true",
        help="read the PATHs as one FHIR Bulk Data export: resources grouped per patient across files",
    )
    add_window_arguments(lint)
    lint.add_argument(
        "--show-source",
        action="store_true",
        help="text format: print each finding's computed values, confidence and quoted source sentences "
        "(FILE:LINE) under its line",
    )

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    rules.add_argument("--profile", default=DEFAULT_PROFILE)

    explain = sub.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code")
    explain.add_argument("--profile", default=DEFAULT_PROFILE)

    profile = sub.add_parser("profile", help="profile tools")
    psub = profile.add_subparsers(dest="profile_command", required=True)
    check = psub.add_parser("check", help="validate a profile file")
    check.add_argument("file")

    serve = sub.add_parser("serve", help="run the CDS Hooks service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="allow a non-loopback bind without JWT authentication (never in production)",
    )

    stats = sub.add_parser("stats", help="alert-fatigue statistics from the card and feedback store")
    stats.add_argument("--days", type=int, default=30)
    stats.add_argument("--format", default="text", choices=["text", "json"])

    sub.add_parser("purge", help="apply every retention rule (comments, cards, upload jobs) and print what it deleted")
    add_spark_parser(sub)

    user = sub.add_parser("workbench-user", help="make an ORDERLINT_WORKBENCH_USERS entry (scrypt hash)")
    user.add_argument("name")
    user.add_argument(
        "--role",
        choices=["pharmacist", "lead"],
        default="pharmacist",
        help="pharmacist: own jobs, dashboard without comments; lead: all jobs, comments, audit (default: %(default)s)",
    )
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return p


def _load_profile(name: str) -> Profile:
    return load_profile(name)


def _print_error(message: str) -> None:
    print(f"orderlint: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        if args.command == "lint":
            return _lint(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "profile":
            return _profile_check(args)
        if args.command == "serve":
            from linter.api.serve import run_server

            return run_server(args.host, args.port, args.workers, args.insecure_no_auth)
        if args.command == "stats":
            return _stats(args)
        if args.command == "purge":
            return _purge()
        if args.command == "workbench-user":
            return _workbench_user(args)
        if args.command == "spark":
            from linter.bulk_cli import spark_command  # pyspark is imported only when this command runs

            return spark_command(args)
    except ProfileError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # `orderlint lint ... | head`
        return EXIT_CLEAN
    return EXIT_ERROR


def _workbench_user(args: argparse.Namespace) -> int:
    import getpass

    from linter.api.workbench_auth import hash_password

    name = args.name.strip()
    if not name or any(c in name for c in ":,") or name != args.name:
        _print_error("a workbench user name must be non-empty and contain no ':' ',' or spaces around it")
        return EXIT_ERROR
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            _print_error("the passwords differ")
            return EXIT_ERROR
    if len(password) < 12:
        _print_error("use a password of at least 12 characters")
        return EXIT_ERROR
    role = "" if args.role == "pharmacist" else f"{args.role}:"  # pharmacist is the default: entries stay short
    print(f"{name}:{role}{hash_password(password)}")
    print("add it to ORDERLINT_WORKBENCH_USERS (comma-separated entries)", file=sys.stderr)
    return EXIT_CLEAN


def _lint(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    if args.jobs < 1:
        _print_error("--jobs must be at least 1")
        return EXIT_ERROR
    options = LintOptions(
        mode=args.mode, context=args.context, select=_codes(args.select), ignore=_codes(args.ignore) or ()
    )
    records = None
    if args.export:
        from linter.bulk_cli import export_results, installation_salt, window_of

        results, records = export_results(args.paths, profile, options, window_of(args), installation_salt())
    elif args.since or args.until:
        _print_error("--since/--until select orders in a Bulk Data export: add --export")
        return EXIT_ERROR
    else:
        results = _run_batch(args, profile, options)
    if args.format in ("mue", "mue-json"):
        from linter.bulk_cli import mue_output, window_of

        output = mue_output(args.format, results, records, profile, window_of(args))
    else:
        output = _render(args.format, results, profile, show_source=args.show_source)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(output)
    elif output:
        sys.stdout.write(output)
        sys.stdout.flush()
    _report_errors_and_summary(args, results)
    fail_on = Indicator(args.fail_on)
    if any(r.errors for r in results):  # an input not read was not checked: that outranks any finding
        return EXIT_ERROR
    if any(fail_on <= f.indicator for r in results for f in r.findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _report_errors_and_summary(args: argparse.Namespace, results: list[FileResult]) -> None:
    """stderr: one line per unreadable input (always), the summary tables (on a terminal with several inputs,
    or with --summary; never with -q unless --summary), and one closing line (unless -q)."""
    from linter import cli_summary  # rich, only when a lint needs it
    from linter.render.ordering import report_rows

    for row in report_rows(results):
        if row.error is not None:
            where = f" at {row.error.path}" if row.error.path else ""
            print(f"{row.result.path}: error{where}: {row.error.message}", file=sys.stderr)
    tables = args.summary
    if tables is None:
        tables = not args.quiet and len(results) > 1 and sys.stderr.isatty()
    if tables:
        sys.stderr.flush()
        cli_summary.print_summary(results)
    if not args.quiet:
        print(cli_summary.closing_line(results), file=sys.stderr)


def _run_batch(args: argparse.Namespace, profile: Profile, options: LintOptions) -> list[FileResult]:
    """Lint with a progress bar on stderr when it is a terminal (none when piped or with --quiet)."""
    from linter.batch import ZipLimits, collect_inputs, lint_sources

    limits = ZipLimits()
    sources = collect_inputs(args.paths, limits)
    if args.quiet or not sys.stderr.isatty() or len(sources) < 2:
        return lint_sources(sources, profile, options, jobs=args.jobs, limits=limits)
    with _progress_bar(len(sources)) as advance:
        return lint_sources(sources, profile, options, jobs=args.jobs, limits=limits, progress=advance)


def _render(fmt: str, results: list[FileResult], profile: Profile, show_source: bool = False) -> str:
    from linter.render import ordering, report

    by_name = ordering.ordered_results(results)  # inputs by name in every format, as in the reports
    if fmt == "text":
        out = []
        for row in ordering.report_rows(results):  # the report order, as in the CSV, JSON and HTML reports
            if row.finding is not None and row.order_set is not None:
                title = report.action_title(row.order_set, row.finding.primary_ref)
                out.append(report.text_line(row.finding, row.result.path, title) + "\n")
                if show_source:
                    out.extend(f"    {line}\n" for line in report.detail_lines(row.finding, row.order_set))
        return "".join(out)
    if fmt == "json":
        return report.report_json(results, profile)
    if fmt == "cards":
        from linter.render.cards import cards_response

        responses = [
            cards_response(s.findings, s.order_set, profile, originals=s.originals) for r in by_name for s in r.sets
        ]
        if len(responses) == 1:
            return json.dumps(responses[0], indent=2, ensure_ascii=False) + "\n"
        return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in responses)
    if fmt == "outcome":
        from linter.render.outcome import error_outcome, operation_outcome, outcome_document

        outcomes: list[dict[str, Any]] = []
        for r in by_name:  # one per input: its order sets' findings, or why it could not be read
            outcomes.extend(operation_outcome(s.findings, s.order_set) for s in r.sets)
            outcomes.extend(error_outcome(f"{r.path}: {e.message}", e.path) for e in r.errors)
        doc = outcome_document(outcomes)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return report.report_csv(results)
    if fmt == "html":
        from linter.render.html import report_html

        return report_html(results, profile)
    raise ValueError(fmt)


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr; yields the batch's progress callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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


def _rules(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    from linter import docs

    if args.format == "markdown":
        sys.stdout.write(docs.rules_markdown(profile))
        return EXIT_CLEAN
    table = docs.rules_table(profile)
    if args.format == "json":
        sys.stdout.write(json.dumps(table, indent=2) + "\n")
        return EXIT_CLEAN
    columns = ("code", "indicator", "scope", "status", "name", "citation")
    header = {
        "code": "CODE",
        "indicator": "INDICATOR",
        "scope": "SCOPE",
        "status": "STATUS",
        "name": "NAME",
        "citation": "SOURCE",
    }
    widths = {c: max(len(header[c]), *(len(row[c]) for row in table)) for c in columns[:-1]}
    for row in (header, *table):
        cells = [f"{row[c]:<{widths[c]}}" for c in columns[:-1]]
        print("  ".join((*cells, row["citation"])))
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    from linter import docs
    from linter.rules import RULES_BY_CODE

    code = args.code.strip().upper()
    if code not in RULES_BY_CODE:
        _print_error(f"no rule {code} (see `orderlint rules`)")
        return EXIT_ERROR
    sys.stdout.write(docs.explain_text(code, profile))
    return EXIT_CLEAN


def _profile_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    profile = load_profile_file(Path(args.file), strict_codes=True)
    print(
        f"{args.file}: profile {profile.id} {profile.version} ({profile.status}) is valid: "
        f"{len(profile.enabled_codes())} rules enabled"
    )
    return EXIT_CLEAN


def _stats(args: argparse.Namespace) -> int:
    from linter.stats_cli import stats_command

    return stats_command(args.days, args.format)


def _purge() -> int:
    from linter.purge import purge_command  # lazy, like stats: the database stack only for this command

    return purge_command()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
