"""scripts/new-rule in a temporary copy of the checkout: the scaffolded rule is registered, has its profile
entry, changelog line and docs, changes no other rule's expectations, and the suite fails on every stub
(module, citation, fixtures, expectations) until it is filled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fixture_cases import STUB_MARK, UPDATE_ENV

CODE, NAME, FAMILY = "AT199", "scaffold-check", "antithrombotic"
COPIED = ("linter", "profiles", "fixtures", "docs", "tests", "scripts", "pyproject.toml")


def _copy(tmp: Path) -> Path:
    root = tmp / "checkout"
    root.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=skip)
        else:
            shutil.copy2(src, root / name)
    return root


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERLINT_", "PYTEST_"))}
    env["PYTHONPATH"] = str(root)
    return env


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*args], cwd=root, env=_env(root), capture_output=True, text=True, timeout=300)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _copy(tmp_path_factory.mktemp("new-rule"))
    out = _run(root, sys.executable, "scripts/new-rule", CODE, NAME, FAMILY)
    assert out.returncode == 0, out.stderr
    return root


def test_scaffolded_rule_is_registered_with_profile_changelog_and_docs(scaffolded: Path) -> None:
    out = _run(
        scaffolded,
        sys.executable,
        "-c",
        "from linter.rules import RULES_BY_CODE as R; from linter.profiles import load_profile as P; "
        f"import linter.rules as m; print(m.__file__); print('{CODE}' in R, '{CODE}' in P('btk-angioplasty').rules,"
        f" '{CODE}' in P('btk-angioplasty-jp').rules)",
    )
    assert out.returncode == 0, out.stderr
    where, flags = out.stdout.splitlines()
    assert where.startswith(str(scaffolded)), where
    assert flags == "True True True"
    assert (
        f'"{FAMILY}.{CODE.lower()}_{NAME.replace("-", "_")}",' in (scaffolded / "linter/rules/__init__.py").read_text()
    )
    assert f"new rule {CODE} {NAME}" in (scaffolded / "profiles/CHANGELOG.md").read_text()
    assert f"## {CODE} {NAME}" in (scaffolded / "docs/rules.md").read_text().splitlines()
    for stem in ("fail-example", "pass-example"):
        assert STUB_MARK in (scaffolded / f"fixtures/{CODE}/{stem}.json").read_text()
        assert STUB_MARK in (scaffolded / f"fixtures/{CODE}/{stem}.expected.md").read_text()


def test_no_other_rules_expectations_change(scaffolded: Path) -> None:
    before = _files(ROOT / "fixtures")
    after = {k: v for k, v in _files(scaffolded / "fixtures").items() if not k.startswith(f"{CODE}/")}
    assert after == before


def test_scaffold_passes_the_static_checks_ci_runs(scaffolded: Path) -> None:
    # CI runs ruff check and ruff format --check on the tree: the scaffold must not be the first thing to fail.
    ruff = Path(sys.executable).with_name("ruff")
    written = [str(p.relative_to(scaffolded)) for p in (scaffolded / "linter" / "rules").rglob(f"{CODE.lower()}_*.py")]
    assert written, "the scaffold wrote no rule module"
    for args in (("check",), ("format", "--check")):
        out = _run(scaffolded, str(ruff), *args, *written, "linter/rules/__init__.py")
        assert out.returncode == 0, out.stdout + out.stderr


def test_existing_code_is_refused(scaffolded: Path) -> None:
    out = _run(scaffolded, sys.executable, "scripts/new-rule", "AT101", "anything", FAMILY)
    assert out.returncode == 2 and "already registered" in out.stderr


def test_stubs_fail_until_filled_and_an_unregistered_module_is_caught(scaffolded: Path) -> None:
    # A rule module nobody registered must be caught by the registry meta-test.
    stray = scaffolded / "linter/rules" / FAMILY / "at198_stray.py"
    stray.write_text('"""AT198 stray: not registered."""\n')
    # The fail fixture filled (tag dropped) but its expectations not generated: still fails.
    fail_fixture = scaffolded / f"fixtures/{CODE}/fail-example.json"
    original = fail_fixture.read_text()
    fail_fixture.write_text(original.replace(STUB_MARK, "filled"))
    try:
        out = _run(
            scaffolded,
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            "addopts=",
            "tests/test_registry.py",
            "tests/test_rule_catalog.py",
            "tests/test_fixtures.py",
            "-k",
            f"{CODE} or registered or stub_left or every_profile",
        )
    finally:
        stray.unlink()
        fail_fixture.write_text(original)
    failed = {line.split(" ")[1] for line in out.stdout.splitlines() if line.startswith("FAILED ")}
    must_fail = {
        "tests/test_registry.py::test_every_rule_module_is_registered_and_every_registered_module_exists",
        "tests/test_registry.py::test_no_new_rule_stub_left",
        f"tests/test_rule_catalog.py::test_citations_resolve[{CODE}]",
        f"tests/test_fixtures.py::test_fixture_findings[{CODE}/fail-example.json]",
        f"tests/test_fixtures.py::test_fixture_findings[{CODE}/pass-example.json]",
        f"tests/test_fixtures.py::test_fixture_messages[{CODE}/fail-example.json]",
        f"tests/test_fixtures.py::test_fail_fixture_fires_its_rule_and_pass_fixture_does_not[{CODE}/fail-example.json]",
    }
    assert must_fail <= failed, (sorted(must_fail - failed), out.stdout[-3000:])
    # Nothing else fails: the profiles still cover every rule, the scaffolded docs and module are well formed.
    unexpected = {f for f in failed if CODE not in f} - must_fail
    assert not unexpected, (sorted(unexpected), out.stdout[-3000:])
    assert "stub" in out.stdout


def test_writing_rules_names_the_tools_that_exist() -> None:
    text = (ROOT / "docs" / "writing-rules.md").read_text(encoding="utf-8")
    script = ROOT / "scripts" / "new-rule"
    assert script.exists() and os.access(script, os.X_OK)
    for needle in (
        "scripts/new-rule CODE NAME FAMILY",
        UPDATE_ENV + "=1",
        "RULE_MODULES",
        STUB_MARK,
        "orderlint rules --format markdown > docs/rules.md",
        "scripts/check",
    ):
        assert needle in text, needle
