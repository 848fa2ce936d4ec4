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
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from linter import DEFAULT_PROFILE, __version__, heap, logs
from linter.errors import ProfileError
from linter.spark.args import add_spark_parser, add_window_arguments

# Each command imports what it uses inside its function, with the reason beside the import: the CLI must
# start at once (bench/first_call.py), so `rules` never loads the reader, `lint` never the database stack,
# and nothing but `serve` loads FastAPI (tests/test_cli_start.py checks which modules each command loads).

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
# Commands whose code logs only through linter.logs (logging imported when something is logged).
LIGHT_COMMANDS = frozenset({"lint", "rules", "explain"})


Subparsers = argparse._SubParsersAction  # the type add_subparsers returns (argparse names it privately)


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, read the same way (COLUMNS, else the terminal, else 80)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is None:
        return 80
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # closed, detached, or not a terminal
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, with the width its own default gives, without importing shutil for it:
    argparse makes a formatter for each `add_argument`, and shutil (with the compression modules it loads)
    cost ~6 M instructions of every start."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser with `_Formatter`; its subparsers (add_subparsers' default class) are too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _add_lint(sub: Subparsers[argparse.ArgumentParser]) -> None:
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


def _add_rules(sub: Subparsers[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    rules.add_argument("--profile", default=DEFAULT_PROFILE)


def _add_explain(sub: Subparsers[argparse.ArgumentParser]) -> None:
    explain = sub.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code")
    explain.add_argument("--profile", default=DEFAULT_PROFILE)


def _add_profile(sub: Subparsers[argparse.ArgumentParser]) -> None:
    profile = sub.add_parser("profile", help="profile tools")
    psub = profile.add_subparsers(dest="profile_command", required=True)
    check = psub.add_parser("check", help="validate a profile file")
    check.add_argument("file")


def _add_serve(sub: Subparsers[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the CDS Hooks service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="allow a non-loopback bind without JWT authentication (never in production)",
    )


def _add_stats(sub: Subparsers[argparse.ArgumentParser]) -> None:
    stats = sub.add_parser("stats", help="alert-fatigue statistics from the card and feedback store")
    stats.add_argument("--days", type=int, default=30)
    stats.add_argument("--format", default="text", choices=["text", "json"])


def _add_purge(sub: Subparsers[argparse.ArgumentParser]) -> None:
    sub.add_parser("purge", help="apply every retention rule (comments, cards, upload jobs) and print what it deleted")


def _add_workbench_user(sub: Subparsers[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("workbench-user", help="make an ORDERLINT_WORKBENCH_USERS entry (scrypt hash)")
    user.add_argument("name")
    user.add_argument(
        "--role",
        choices=["pharmacist", "lead"],
        default="pharmacist",
        help="pharmacist: own jobs, dashboard without comments; lead: all jobs, comments, audit (default: %(default)s)",
    )
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


# Each command's parser, in the order `orderlint -h` lists them.
_COMMANDS: dict[str, Callable[[Subparsers[argparse.ArgumentParser]], None]] = {
    "lint": _add_lint,
    "rules": _add_rules,
    "explain": _add_explain,
    "profile": _add_profile,
    "serve": _add_serve,
    "stats": _add_stats,
    "purge": _add_purge,
    "spark": add_spark_parser,
    "workbench-user": _add_workbench_user,
}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command` alone: the one a command line that starts with it can
    reach (its `-h`, errors and usage are those of the full parser; building all ten cost more than the parse,
    ~11 M instructions of a start)."""
    p: argparse.ArgumentParser = _Parser(
        prog="orderlint", description="Order-set linter for BTK angioplasty order sets."
    )
    p.add_argument("--version", action="version", version=f"orderlint {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, add in _COMMANDS.items():
        if command is None or name == command:
            add(sub)
    return p


def _print_error(message: str) -> None:
    print(f"orderlint: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = arguments[0] if arguments and arguments[0] in _COMMANDS else None  # else every command's parser
    if command in LIGHT_COMMANDS:
        logs.configure_on_first_use()  # their code logs through linter.logs, which imports logging when used
    else:
        # Lazy: logging (~5 ms) only for the commands whose modules log through it directly.
        import logging

        logging.basicConfig(level=logging.WARNING, format=logs.CLI_FORMAT)
    args = _parser(command).parse_args(arguments)
    # argv None: this is the orderlint process itself, which ends with the command; a caller passing argv
    # (tests, an embedding program) keeps its garbage collector as it is.
    own_process = argv is None
    try:
        if args.command == "lint":
            if own_process:
                heap.pause()  # while the reader, engine and rules are imported (linter.heap)
            try:
                from linter.cli_lint import lint_command  # lazy: the reader, engine and rules only for lint
            finally:
                if own_process:
                    heap.settle()

            code = lint_command(args)
            if own_process and not args.export:
                _end_process(code)
            return code
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "profile":
            return _profile_check(args)
        if args.command == "serve":
            from linter.api.serve import run_server  # lazy: FastAPI and uvicorn only for serve

            return run_server(args.host, args.port, args.workers, args.insecure_no_auth)
        if args.command == "stats":
            return _stats(args)
        if args.command == "purge":
            return _purge()
        if args.command == "workbench-user":
            return _workbench_user(args)
        if args.command == "spark":
            from linter.spark.entry import spark_command  # pyspark is imported only when this command runs

            return spark_command(args)
    except ProfileError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # `orderlint lint ... | head`
        return EXIT_CLEAN
    except KeyboardInterrupt:
        if not own_process:  # an embedding program decides what an interrupt means
            raise
        # Ctrl-C: a line, not a traceback; --jobs workers have been stopped (linter.batch_fork) by now.
        _print_error("interrupted: the output is incomplete")
        return EXIT_INTERRUPTED
    return EXIT_ERROR


def _end_process(code: int) -> None:
    """End `orderlint lint` once its output is out, without the interpreter's teardown (freeing every module
    and object one by one: ~25 ms of a batch's CPU, on the path no second core shortens). Safe here: the
    report and the archives are closed, the --jobs workers waited for, nothing is registered to run at exit
    that has anything left to do once stdout and stderr are flushed (logging writes straight to stderr). A
    flush that fails raises as before (a closed pipe: main's BrokenPipeError)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _workbench_user(args: argparse.Namespace) -> int:
    from linter.api.workbench_auth import hash_password  # lazy: the linter.api package imports FastAPI

    name = args.name.strip()
    if not name or any(c in name for c in ":,") or name != args.name:
        _print_error("a workbench user name must be non-empty and contain no ':' ',' or spaces around it")
        return EXIT_ERROR
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass  # lazy: only this command asks for a password

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


def _rules(args: argparse.Namespace) -> int:
    # Lazy: docs load the profile and every rule module: only rules and explain need them.
    from linter import docs
    from linter.profiles import load_profile

    profile = load_profile(args.profile)

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
    # Lazy: docs load the profile and every rule module: only rules and explain need them.
    from linter import docs
    from linter.profiles import load_profile
    from linter.rules import RULES_BY_CODE

    profile = load_profile(args.profile)
    code = args.code.strip().upper()
    if code not in RULES_BY_CODE:
        _print_error(f"no rule {code} (see `orderlint rules`)")
        return EXIT_ERROR
    sys.stdout.write(docs.explain_text(code, profile))
    return EXIT_CLEAN


def _profile_check(args: argparse.Namespace) -> int:
    from linter.profiles import load_profile_file  # lazy: the schema (pydantic) and the rule registry only for this

    profile = load_profile_file(Path(args.file), strict_codes=True)
    print(
        f"{args.file}: profile {profile.id} {profile.version} ({profile.status}) is valid: "
        f"{len(profile.enabled_codes())} rules enabled"
    )
    return EXIT_CLEAN


def _stats(args: argparse.Namespace) -> int:
    from linter.stats_cli import stats_command  # lazy: the database stack (SQLAlchemy) only for this command

    return stats_command(args.days, args.format)


def _purge() -> int:
    from linter.purge import purge_command  # lazy, like stats: the database stack only for this command

    return purge_command()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
