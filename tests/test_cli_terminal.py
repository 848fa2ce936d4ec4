"""`orderlint lint` behaves like the linters people know, through the real console script, on a pseudo-terminal
and piped: -q prints findings only; the summary tables only on a terminal (or with --summary); a one-file lint
ends with one line; tables fold to the terminal's width instead of cutting; `rules` has a header row;
`explain` speaks of the rule, its thresholds under the chosen profile and its sources."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from linter.docs import explain_text
from linter.profiles import load_profile
from linter.rules import RULES_BY_CODE
from tests.cli_run import DATA, on_terminal, piped

FINDING_LINE = re.compile(r"^\S+: \S+: [A-Z]+\d+ (critical|warning|info) ")
GOOD = ["clean-order-set.json", "heparin-low.json", "heparin-overdose.json"]


def test_one_file_on_a_terminal_is_its_findings_then_one_line() -> None:
    run = on_terminal("lint", "heparin-overdose.json")
    assert run.returncode == 1
    lines = [line for line in run.lines if line]
    assert all(FINDING_LINE.match(line) for line in lines[:-1]), lines
    assert lines[-1] == "heparin-overdose.json: findings: 2 orders checked, 5 findings (2 critical, 2 warning, 1 info)."
    assert "Files" not in run.text and "Findings by rule" not in run.text  # no table for one file


def test_a_clean_file_on_a_terminal_is_one_line_with_its_order_count() -> None:
    run = on_terminal("lint", "clean-order-set.json")
    assert run.returncode == 0
    assert [line for line in run.lines if line] == ["clean-order-set.json: clean: 6 orders checked, no findings."]


def test_quiet_prints_the_findings_only_on_a_terminal_and_piped() -> None:
    tty = on_terminal("lint", "-q", *GOOD)
    pipe = piped("lint", "-q", *GOOD)
    assert tty.returncode == pipe.returncode == 1
    assert pipe.stderr == ""
    assert pipe.stdout.splitlines() == [line for line in tty.lines if line]
    assert len(pipe.stdout.splitlines()) == 10 and all(FINDING_LINE.match(x) for x in pipe.stdout.splitlines())
    assert "Found" not in tty.text and "finding(s)" not in tty.text


def test_several_files_on_a_terminal_get_the_tables_and_one_closing_line() -> None:
    run = on_terminal("lint", *GOOD, "not-fhir.json", columns=120)
    assert run.returncode == 2
    text = run.text
    assert "Files" in text and "Findings by rule" in text
    names = (*GOOD, "not-fhir.json")
    rows = {parts[0]: parts[1:] for parts in (line.split() for line in run.lines) if parts and parts[0] in names}
    assert rows["clean-order-set.json"] == ["clean", "1", "6", "0", "0", "0", "0"]
    assert rows["heparin-overdose.json"] == ["findings", "1", "2", "2", "2", "1", "0"]
    assert rows["not-fhir.json"] == ["error", "0", "0", "0", "0", "0", "1"]
    total = next(line.split() for line in run.lines if line.strip().startswith("all 4"))
    assert total == ["all", "4", "3", "10", "3", "5", "2", "1"]  # the column sums
    assert [line for line in run.lines if line][-1] == (
        "4 files: 1 clean, 2 with findings, 1 with errors; 3 order sets, 10 orders checked; "
        "10 findings (3 critical, 5 warning, 2 info)."
    )
    no_table = on_terminal("lint", "--no-summary", *GOOD)
    assert "Files" not in no_table.text and "Findings by rule" not in no_table.text


@pytest.mark.parametrize("columns", [50, 79, 200])
def test_tables_fold_long_names_to_the_terminal_width(tmp_path: Path, columns: int) -> None:
    long_name = "order-set-for-the-below-the-knee-angioplasty-of-the-left-leg-" + "x" * 40 + ".json"
    shutil.copy(DATA / "heparin-overdose.json", tmp_path / long_name)
    shutil.copy(DATA / "clean-order-set.json", tmp_path / "clean.json")
    run = on_terminal("lint", "-q", "--summary", long_name, "clean.json", columns=columns, cwd=tmp_path)
    table = run.lines[run.lines.index("Files") :]
    assert table and max(len(line) for line in table) <= columns
    assert "…" not in run.text  # nothing cut with an ellipsis
    header = next(line for line in table if line.split()[:2] == ["file", "status"])
    file_column = "".join(line[: header.index("status")].strip() for line in table)
    assert long_name in file_column  # the whole name, folded over several lines when narrow
    rules = run.lines[run.lines.index("Findings by rule") :]
    header = next(line for line in rules if line.split()[:2] == ["rule", "name"])
    name_column = "".join(line[header.index("name") : header.index("name") + 30].split()[0] for line in rules
                          if len(line) > header.index("name") and line[header.index("name")] != " ")  # fmt: skip
    for name in ("heparin-bolus-dose", "antiplatelet-missing", "no-symptomatic-indication"):
        assert name in name_column
    if columns >= 200:
        assert any(long_name in line for line in table)  # wide enough: on one line


def test_columns_sets_the_width_of_an_asked_summary_when_piped() -> None:
    run = piped("lint", "-q", "--summary", *GOOD, COLUMNS="60")
    assert run.returncode == 1
    assert "Files" in run.stderr and "\x1b[" not in run.stderr
    assert max(len(line) for line in run.stderr.splitlines()) <= 60
    assert run.stdout.count("\n") == 10


def test_rules_prints_a_header_row_and_aligned_columns() -> None:
    run = piped("rules")
    assert run.returncode == 0
    header, *rows = run.stdout.splitlines()
    assert header.split() == ["CODE", "INDICATOR", "SCOPE", "STATUS", "NAME", "SOURCE"]
    starts = [header.index(word) for word in ("INDICATOR", "SCOPE", "STATUS", "NAME", "SOURCE")]
    hep201 = next(row for row in rows if row.startswith("HEP201 "))
    assert [hep201[s - 2 : s] for s in starts] == ["  "] * 5 and hep201[starts[0] :].startswith("warning ")
    assert len(rows) >= len(RULES_BY_CODE)


IMPLEMENTATION = re.compile(r"\.py\b|\bhelper\b|\blinter[./]|\b_[a-z]+|\border_set\.|\bdef |\bclass [A-Z]")


@pytest.mark.parametrize("code", sorted(RULES_BY_CODE))
def test_explain_never_names_an_implementation_file(code: str) -> None:
    text = explain_text(code, load_profile("btk-angioplasty"))
    assert not IMPLEMENTATION.findall(text), f"{code}: {IMPLEMENTATION.findall(text)}"
    for heading in ("WHAT IT CHECKS", "WHY IT MATTERS", "SOURCE", "THRESHOLDS (profile btk-angioplasty", "LIMITATIONS"):
        assert heading in text


def test_explain_hep201_speaks_of_the_rule_its_thresholds_and_sources(tmp_path: Path) -> None:
    run = piped("explain", "HEP201")
    assert run.returncode == 0
    assert "_bolus" not in run.stdout and ".py" not in run.stdout
    assert "shared by the heparin bolus rules HEP201-HEP206" in run.stdout
    assert "  max_units_per_kg = 100\n      cited: 000_db9ef64a206b36dc.txt:24" in run.stdout
    assert "unfractionated heparin 70-100 units/kg" in run.stdout  # the quoted source sentence
    # under another profile: its own thresholds, and the ones that differ from the text's numbers are marked
    default = Path(__file__).resolve().parents[1] / "profiles" / "btk-angioplasty.toml"
    wide = tmp_path / "wide.toml"
    wide.write_text(
        default.read_text(encoding="utf-8")
        .replace('id = "btk-angioplasty"', 'id = "test-wide"', 1)
        .replace("max_units_per_kg = 100,", "max_units_per_kg = 120,", 1),
        encoding="utf-8",
    )
    other = piped("explain", "HEP201", "--profile", str(wide))
    assert other.returncode == 0, other.stderr
    assert "THRESHOLDS (profile test-wide" in other.stdout
    changed = "  max_units_per_kg = 120\n      cited: 000_db9ef64a206b36dc.txt:24\n      default profile: 100"
    assert changed in other.stdout
    assert "the values listed here are the ones this profile applies" in other.stdout
