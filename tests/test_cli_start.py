"""The CLI imports only what its command uses (issue 11 §5): read from `python -X importtime`, run as a real
process, so this is a structural check, not a timed one (the start-up time is measured in
bench/first_call.py --cli-only). Each command's imports are listed by the interpreter itself; a module
imported by a heavy stack anywhere below fails the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONE_FILE = ROOT / "fixtures" / "HEP201" / "fail-15000-units-70kg.json"

# Never for rules, explain, --version and a fast-mode lint written as text: the service stack, the database,
# the HTML templates, the unit library (the registry is precomputed in linter/ucum_table.py), the FHIR models.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "markdown_it",
    "fhir.resources",
    "fhir_core",
    "pint",
    "ucumvert",
    "pyspark",
    "pandas",
    "httpx",
    "linter.api",
    "linter.store",
    "linter.workbench",
    "linter.fixes",
    "linter.settings",
)
# pydantic (and what it brings: its core, annotated_types, importlib.metadata for its plugins) only for strict
# mode's FHIR models, the service and a profile that is not stored validated: rule options are plain classes.
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")
# The reader, the engine and the batch runner are for lint only; rich for a terminal's tables and bar only.
LINT_ONLY = ("linter.batch", "linter.engine", "linter.fhir_io", "linter.cli_lint", "multiprocessing", "rich")


def imported_modules(*args: str) -> set[str]:
    """Every module the command imports, from the interpreter's own -X importtime list."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linter.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert out.returncode in (0, 1), out.stderr[-2000:]
    modules = {
        line.split("|")[-1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and not line.rstrip().endswith("imported package")
    }
    assert "linter.errors" in modules, out.stderr[-2000:]  # the listing is there (linter.cli runs as __main__)
    return modules


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize(
    "args",
    [["rules"], ["rules", "--format", "json"], ["explain", "HEP201"], ["--version"]],
    ids=["rules", "rules-json", "explain", "version"],
)
def test_rules_and_explain_load_neither_the_reader_nor_a_heavy_stack(args: list[str]) -> None:
    modules = imported_modules(*args)
    assert _loaded(modules, HEAVY + LINT_ONLY + PYDANTIC) == []


def test_a_fast_one_file_lint_loads_no_heavy_stack() -> None:
    modules = imported_modules("lint", "-q", "--mode", "fast", str(ONE_FILE))
    assert "linter.engine" in modules and "linter.fhir_io" in modules  # it did lint
    assert _loaded(modules, (*HEAVY, *PYDANTIC, "rich")) == []


# What a fast lint's start paid for messages it writes only when something fails, and for files it reads from
# their stored form (linter.logs, linter.terminology.records, linter.patterns): never imported on the way.
NOT_ON_THE_FAST_PATH = ("logging", "traceback", "tomllib", "hashlib", "_hashlib")


def test_a_fast_lint_imports_no_logging_toml_parser_or_openssl() -> None:
    modules = imported_modules("lint", "-q", "--mode", "fast", "--format", "csv", str(ONE_FILE), str(ONE_FILE))
    assert "linter.patterns" in modules  # it did compile patterns, from their stored code
    assert _loaded(modules, NOT_ON_THE_FAST_PATH) == []


def test_a_parallel_lint_forks_without_a_process_pool() -> None:
    """`--jobs 2` forks its worker itself (linter.batch_fork): neither multiprocessing nor concurrent.futures."""
    modules = imported_modules("lint", "-q", "--mode", "fast", "--jobs", "2", str(ONE_FILE), str(ONE_FILE))
    assert "linter.batch_fork" in modules
    assert _loaded(modules, ("multiprocessing", "concurrent", *HEAVY, *PYDANTIC)) == []


def test_a_strict_lint_loads_the_fhir_models_and_nothing_of_the_service() -> None:
    modules = imported_modules("lint", "-q", str(ONE_FILE))
    assert "fhir.resources" in modules or any(m.startswith("fhir.resources.") for m in modules)
    service = tuple(n for n in HEAVY if not n.startswith(("fhir", "linter.fixes")))
    assert _loaded(modules, service) == []


def test_the_version_needs_no_profile() -> None:
    modules = imported_modules("--version")
    assert _loaded(modules, ("pydantic", "linter.profiles", "linter.rules")) == []


def test_a_profile_check_reads_the_drug_keys_the_terminology_indexes() -> None:
    """`rules` and `explain` check a profile's regimens against drugs.toml's keys without building the
    terminology (tests/test_profiles.py covers the unknown-drug error); the keys are the indexed drugs."""
    from linter.terminology import drug_keys, terminology

    assert drug_keys() == frozenset(terminology().drugs)
    assert "aspirin" in drug_keys()


def test_rules_builds_no_terminology_and_no_unit_registry() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from linter.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['rules'])\n"
        "from linter.terminology import terminology\n"
        "print(rc, terminology.cache_info().currsize, 'pint' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.stdout.split() == ["0", "0", "False"], out.stderr[-2000:]


@pytest.mark.parametrize(
    "args",
    [["rules"], ["explain", "HEP201"], ["lint", "-q", "--mode", "fast", str(ONE_FILE)], ["lint", "-q", str(ONE_FILE)]],
    ids=["rules", "explain", "fast-lint", "strict-lint"],
)
def test_the_shipped_profile_and_terminology_are_read_without_their_schemas(args: list[str]) -> None:
    """linter/profiles_validated.py and linter/terminology/validated.py hold them validated (gen_validated.py)."""
    modules = imported_modules(*args)
    assert _loaded(modules, ("linter.profile_schema", "linter.terminology.schema")) == []
