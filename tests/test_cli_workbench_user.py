"""`orderlint workbench-user` prints a line the settings accept and the gate verifies."""

from __future__ import annotations

import subprocess
import sys

from linter.api.workbench_auth import check_password
from linter.settings import Settings


def _run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linter.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_entry_round_trips_through_settings_and_check() -> None:
    result = _run("workbench-user", "pharm1", "--password-stdin", stdin="correct horse battery\n")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    settings = Settings(workbench_users=line)  # type: ignore[arg-type]
    assert check_password("correct horse battery", settings.workbench_users["pharm1"].password_hash)
    assert "correct horse" not in result.stdout + result.stderr


def test_the_role_goes_into_the_entry() -> None:
    lead = _run("workbench-user", "lea", "--role", "lead", "--password-stdin", stdin="correct horse battery\n")
    assert lead.returncode == 0, lead.stderr
    assert lead.stdout.startswith("lea:lead:scrypt$")
    settings = Settings(workbench_users=lead.stdout.strip())  # type: ignore[arg-type]
    assert settings.workbench_users["lea"].role == "lead"
    bad_role = _run("workbench-user", "x", "--role", "admin", "--password-stdin", stdin="correct horse battery\n")
    assert bad_role.returncode == 2


def test_short_password_and_bad_name_are_usage_errors() -> None:
    assert _run("workbench-user", "pharm1", "--password-stdin", stdin="short\n").returncode == 2
    assert _run("workbench-user", "a:b", "--password-stdin", stdin="correct horse battery\n").returncode == 2
