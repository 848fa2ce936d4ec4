"""linter.cli builds the parser of the command in use only (issue 11 §5): that parser reads every command line
as the parser of every command does, with the same help, usage and errors."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from linter import __version__
from linter.cli import _COMMANDS, _parser, _terminal_columns

LINES = [
    ["lint", "a.json", "b", "--mode", "fast", "-q", "--format", "csv", "--jobs", "2", "--since", "2024-01-02"],
    ["lint", "-", "--no-summary", "--select", "HEP,AT101", "--context", "btk", "--show-source", "-o", "x.html"],
    ["rules", "--format", "json"],
    ["explain", "HEP201", "--profile", "p.toml"],
    ["profile", "check", "p.toml"],
    ["serve", "--port", "9000", "--workers", "2", "--insecure-no-auth"],
    ["stats", "--days", "7"],
    ["purge"],
    ["spark", "export/", "-o", "out", "--conf", "a=b", "--conf", "c=d"],
    ["workbench-user", "ann", "--role", "lead", "--password-stdin"],
]
BAD = [["lint"], ["lint", "a", "--mode", "slow"], ["rules", "--format", "yaml"], ["profile"], ["stats", "--days", "x"]]


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = vars(parser.parse_args(argv))
        except SystemExit as exc:
            result = ("exit", exc.code)
    return result, out.getvalue(), err.getvalue()


def test_every_command_is_registered() -> None:
    full = _run(_parser(), ["-h"])[1]
    assert all(name in full for name in _COMMANDS)


@pytest.mark.parametrize("argv", LINES + BAD + [[name, "-h"] for name in _COMMANDS], ids=" ".join)
def test_the_command_parser_reads_a_line_as_the_full_parser_does(argv: list[str]) -> None:
    assert argv[0] in _COMMANDS
    assert _run(_parser(argv[0]), argv) == _run(_parser(), argv)


@pytest.mark.parametrize("columns", [None, "57", "0", "wide"])
def test_help_is_as_wide_as_argparse_makes_it(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    """The CLI's formatter reads the terminal's width without shutil: the same width, so the same help."""
    import shutil  # here only: the CLI reads the width without it (linter.cli._terminal_columns)

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns
    for name, add in _COMMANDS.items():
        plain = argparse.ArgumentParser(
            prog="orderlint", description="Order-set linter for BTK angioplasty order sets."
        )
        plain.add_argument("--version", action="version", version=f"orderlint {__version__}")
        add(plain.add_subparsers(dest="command", required=True))
        for argv in ([name, "-h"], [name, "--no-such-option"], ["-h"]):
            assert _run(_parser(name), argv) == _run(plain, argv)
