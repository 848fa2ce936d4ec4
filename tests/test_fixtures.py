"""Every fixture gives exactly the findings its .expected.json lists, in strict and in fast mode."""

from __future__ import annotations

import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.profiles import load_profile
from tests.conftest import FIXTURE_NOW
from tests.fixture_cases import Case, cases

CASES = cases()


def _lint(case: Case, mode: str) -> list[tuple[str, str, str, str]]:
    profile = load_profile(case.expected.get("profile", "btk-angioplasty"))
    result = load_bytes(
        case.path.read_bytes(),
        str(case.path),
        mode=mode,  # type: ignore[arg-type]
        context=case.expected.get("context"),
        now=FIXTURE_NOW,
    )
    assert not result.errors, [str(e) for e in result.errors]
    out = []
    for order_set in result.order_sets:
        for f in run(order_set, profile):
            out.append((f.code, f.indicator.value, f.primary_ref, f.detail))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture_has_expected_file(case: Case) -> None:
    assert "findings" in case.expected, f"{case.id}: missing {case.path.stem}.expected.json with 'findings'"


@pytest.mark.parametrize("case", [c for c in CASES if "findings" in c.expected], ids=lambda c: c.id)
def test_fixture_findings(case: Case) -> None:
    found = _lint(case, case.expected.get("mode", "strict"))
    got = sorted((code, ind, ref) for code, ind, ref, _ in found)
    want = sorted((f["code"], f["indicator"], f.get("ref", "")) for f in case.expected["findings"])
    assert got == want
    details = {(code, ref): detail for code, _, ref, detail in found}
    for f in case.expected["findings"]:
        for text in f.get("detail_contains", []):
            assert text in details[(f["code"], f.get("ref", ""))], f"{f['code']}: '{text}' not in detail"


@pytest.mark.parametrize(
    "case", [c for c in CASES if "findings" in c.expected and "mode" not in c.expected], ids=lambda c: c.id
)
def test_fast_mode_gives_the_same_findings(case: Case) -> None:
    strict = sorted((c, i, r) for c, i, r, _ in _lint(case, "strict"))
    fast = sorted((c, i, r) for c, i, r, _ in _lint(case, "fast"))
    assert strict == fast


def test_every_fail_fixture_fires_its_rule() -> None:
    for case in CASES:
        code = case.path.parent.name
        if case.path.name.startswith("fail-") and "findings" in case.expected:
            assert any(f["code"] == code for f in case.expected["findings"]), (
                f"{case.id} does not expect {code}"
            )
        if case.path.name.startswith("pass-") and "findings" in case.expected:
            assert not any(f["code"] == code for f in case.expected["findings"]), f"{case.id} expects {code}"
