"""The precomputed unit table (linter/ucum_table.py) gives exactly the library's answers, and linting every
fixture needs nothing outside it, so an ordinary lint never builds the pint registry (issue 8 §5, issue 11 §5).
When a new fixture or rule brings a unit the table lacks, regenerate it: python scripts/gen_ucum_table.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from linter import ucum_table, units
from linter.engine import run
from linter.fhir_io import load_bytes
from linter.model import Quantity, Strength
from linter.profiles import available_profiles
from tests.conftest import FIXTURE_NOW, FIXTURES, ROOT


def _clear_caches() -> None:
    for fn in (units._parse, units._factor, units._library_quantity):
        fn.cache_clear()


@pytest.fixture
def library_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every code that had to go to the ucumvert/pint library (caches cleared before and after)."""
    calls: list[str] = []
    real = units._library_quantity

    def recording(code: str) -> Any:
        calls.append(code)
        return real(code)

    _clear_caches()
    monkeypatch.setattr(units, "_library_quantity", recording)
    yield calls
    monkeypatch.undo()
    _clear_caches()


def test_every_table_unit_has_the_library_dimensions() -> None:
    for code, dims in ucum_table.UNITS.items():
        q = units._library_quantity(code)
        assert q is not None, code
        assert dims == tuple(sorted((str(k), v) for k, v in dict(q.dimensionality).items())), code
    for code in ucum_table.NOT_UCUM:
        assert units._library_quantity(code) is None, code


def test_table_factors_equal_the_library_on_every_pair() -> None:
    codes = list(ucum_table.UNITS) + sorted(ucum_table.NOT_UCUM)
    checked = 0
    for src in codes:
        for dst in codes:
            found, factor = units._table_factor(src, dst)
            assert found, (src, dst)  # every pair of table codes is answered without the library
            assert factor == units._library_factor(src, dst), (src, dst)
            checked += 1
    assert checked >= 50 * 50


def test_conversions_are_the_same_with_and_without_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = [
        (Quantity(0.1, code="mg"), "ug", {}),
        (Quantity(2, unit="g"), "mg", {}),
        (Quantity(154, code="[lb_av]"), "kg", {}),
        (Quantity(80, unit="units/kg"), "[iU]/kg", {"heparin": True}),
        (Quantity(5, code="mL"), "[iU]", {"heparin": True, "strength": Strength(1000, "[iU]", 1, "mL")}),
        (Quantity(2, code="{tbl}"), "mg", {"strength": Strength(81, "mg")}),
        (Quantity(50, code="mg"), "[iU]", {"heparin": True}),
        (Quantity(3, code="IE"), "[iU]", {"heparin": True}),
    ]
    _clear_caches()
    with_table = [units.convert(q, t, **kw) for q, t, kw in samples]  # type: ignore[arg-type]
    monkeypatch.setattr(ucum_table, "UNITS", {})
    monkeypatch.setattr(ucum_table, "NOT_UCUM", frozenset())
    monkeypatch.setattr(ucum_table, "FACTORS", {})
    _clear_caches()
    library_only = [units.convert(q, t, **kw) for q, t, kw in samples]  # type: ignore[arg-type]
    monkeypatch.undo()
    _clear_caches()
    assert with_table == library_only


def test_linting_every_fixture_needs_no_unit_outside_the_table(library_calls: list[str]) -> None:
    profiles = list(available_profiles().values())
    linted = 0
    for path in sorted(FIXTURES.rglob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        for mode in ("fast", "strict"):
            try:
                result = load_bytes(path.read_bytes(), path.name, now=FIXTURE_NOW, mode=mode)  # type: ignore[arg-type]
            except Exception:  # noqa: S112 - the unusable-input fixtures read no units
                continue
            for order_set in result.order_sets:
                for profile in profiles:
                    run(order_set, profile)
                    linted += 1
    assert linted > 100
    assert not library_calls, (
        f"units outside linter/ucum_table.py: {sorted(set(library_calls))}; run python scripts/gen_ucum_table.py"
    )


def test_a_one_file_lint_never_imports_pint() -> None:
    fixture = next(p for p in sorted((FIXTURES / "HEP201").glob("fail-*.json")) if "expected" not in p.name)
    code = (
        "import sys\n"
        "from linter.cli import main\n"
        f"rc = main(['lint', '-q', {str(fixture)!r}])\n"
        "print('pint' in sys.modules, 'ucumvert' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert "HEP201" in out.stdout, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stdout
