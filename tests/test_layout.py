"""The layout the issue asks for, read from the source: rules import nothing from the reader, only the strict
validator imports fhir.resources, and no module in linter/ is over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

LINTER = Path(__file__).resolve().parent.parent / "linter"
MAX_LINES = 500


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_rules_import_nothing_from_the_reader() -> None:
    offenders = {
        str(p.relative_to(LINTER)): sorted(m for m in _imported_modules(p) if m.startswith("linter.fhir_io"))
        for p in (LINTER / "rules").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_strict_validator_imports_fhir_resources() -> None:
    importers = sorted(
        str(p.relative_to(LINTER))
        for p in LINTER.rglob("*.py")
        if any(m == "fhir.resources" or m.startswith("fhir.resources.") for m in _imported_modules(p))
    )
    assert importers == ["fhir_io/strict.py"]


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(LINTER)): n
        for p in LINTER.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
