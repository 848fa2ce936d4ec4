"""The `orderlint` command (argparse).

  orderlint lint PATH...        lint files, directories (recursive) or - (stdin)
  orderlint rules               list every rule: code, indicator, scope, citation
  orderlint explain CODE        a rule's documentation with the active profile's thresholds
  orderlint profile check FILE  validate a profile
  orderlint serve               run the CDS Hooks service (see linter.api.serve)

Exit codes (like ruff): 0 clean, 1 findings at or above --fail-on, 2 unusable input or usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from linter import __version__
from linter.batch import FileResult, LintOptions, lint_paths
from linter.errors import ProfileError
from linter.model import Indicator
from linter.profiles import DEFAULT_PROFILE, Profile, load_profile, load_profile_file

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="orderlint", description="Order-set linter for BTK angioplasty order sets."
    )
    p.add_argument("--version", action="version", version=f"orderlint {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    lint = sub.add_parser("lint", help="lint FHIR Bundles, resources, NDJSON or CDS Hooks requests")
    lint.add_argument(
        "paths", nargs="+", metavar="PATH", help="files, directories (recursive) or - for stdin"
    )
    lint.add_argument(
        "--profile", default=DEFAULT_PROFILE, help="profile name or TOML file (default: %(default)s)"
    )
    lint.add_argument(
        "--format",
        default="text",
        choices=["text", "json", "cards", "outcome", "csv", "html"],
        help="output format (default: %(default)s)",
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
        help="strict validates every resource with fhir.resources (default); fast reads only "
        "the fields the rules need",
    )
    lint.add_argument("--jobs", type=int, default=1, help="parallel worker processes (default: 1)")
    lint.add_argument("--output", "-o", help="write the report to this file instead of stdout")

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
    except ProfileError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # `orderlint lint ... | head`
        return EXIT_CLEAN
    return EXIT_ERROR


def _lint(args: argparse.Namespace) -> int:
    profile = _load_profile(args.profile)
    options = LintOptions(
        mode=args.mode, context=args.context, select=_codes(args.select), ignore=_codes(args.ignore) or ()
    )
    results = _run_batch(args, profile, options)
    output = _render(args.format, results, profile)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(output)
    elif output:
        sys.stdout.write(output)
    for r in results:
        for err in r.errors:
            where = f" at {err.path}" if err.path else ""
            print(f"{r.path}: error{where}: {err.message}", file=sys.stderr)
    fail_on = Indicator(args.fail_on)
    findings = [f for r in results for f in r.findings]
    if args.format == "text" and findings:
        counts = {i: sum(1 for f in findings if f.indicator is i) for i in Indicator}
        print(
            f"Found {len(findings)} finding(s): {counts[Indicator.CRITICAL]} critical, "
            f"{counts[Indicator.WARNING]} warning, {counts[Indicator.INFO]} info.",
            file=sys.stderr,
        )
    if any(r.errors for r in results):
        return EXIT_ERROR
    if any(fail_on <= f.indicator for f in findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _run_batch(args: argparse.Namespace, profile: Profile, options: LintOptions) -> list[FileResult]:
    return lint_paths(args.paths, profile, options)


def _render(fmt: str, results: list[FileResult], profile: Profile) -> str:
    from linter.render import report

    if fmt == "text":
        lines = [report.text_line(f, r.path) for r in results for s in r.sets for f in s.findings]
        return "".join(line + "\n" for line in lines)
    if fmt == "json":
        doc = {
            "profile": {"id": profile.id, "version": profile.version},
            "files": [_file_json(r, profile) for r in results],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "cards":
        from linter.render.cards import cards_response

        responses = [cards_response(s.findings, s.order_set, profile) for r in results for s in r.sets]
        if len(responses) == 1:
            return json.dumps(responses[0], indent=2, ensure_ascii=False) + "\n"
        return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in responses)
    if fmt == "outcome":
        from linter.render.outcome import operation_outcome, outcomes_bundle

        outcomes = [operation_outcome(s.findings, s.order_set) for r in results for s in r.sets]
        doc = outcomes[0] if len(outcomes) == 1 else outcomes_bundle(outcomes)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=report.CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r in results:
            for s in r.sets:
                writer.writerows(report.csv_rows(s.findings, s.order_set, r.path))
            for err in r.errors:
                writer.writerow(
                    {
                        "file": r.path,
                        "order": err.path or "",
                        "code": "ERROR",
                        "indicator": "error",
                        "summary": err.message,
                    }
                )
        return buf.getvalue()
    if fmt == "html":
        from linter.render.html import report_html

        return report_html(results, profile)
    raise ValueError(fmt)


def _file_json(r: FileResult, profile: Profile) -> dict[str, Any]:
    from linter.render.report import order_set_json

    return {
        "path": r.path,
        "order_sets": [
            order_set_json(s.findings, s.order_set, with_suggestions=True, profile=profile) for s in r.sets
        ],
        "errors": [{"message": e.message, "path": e.path} for e in r.errors],
    }


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
    for row in table:
        print(
            f"{row['code']:<7} {row['indicator']:<9} {row['scope']:<4} {row['status']:<10} "
            f"{row['name']:<40} {row['citation']}"
        )
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
