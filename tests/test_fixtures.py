"""Every fixture gives exactly the findings and the messages of its `<name>.expected.md`, in strict and in fast
mode. A fixtures/<CODE>/ case is judged by rule CODE alone (plus the DQ901-DQ903 findings CODE produces
through the could-not-verify mechanism); scenario folders by the whole profile. See tests/fixture_cases.py.

Messages clinicians read are reviewed content: a wording change shows up in the artifact's diff. After a
deliberate change: `ORDERLINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_fixtures.py`, then review
`git diff fixtures/`."""

from __future__ import annotations

import pytest

from tests.fixture_cases import (
    DQ_COMPANIONS,
    LEGACY_SNAPSHOTS,
    STUB_MARK,
    UPDATE_ENV,
    Case,
    Expected,
    cases,
    is_stub_fixture,
    lint,
    orphan_artifacts,
    read_expected,
    remove_orphans,
    render_messages,
    rows,
    update_artifact,
    updating,
)

CASES = cases()
HINT = f"run {UPDATE_ENV}=1 python -m pytest tests/test_fixtures.py, then review `git diff fixtures/`"


def expected(case: Case) -> Expected:
    """The case's expectations; updates the artifact first when ORDERLINT_UPDATE_SNAPSHOTS is set."""
    assert not is_stub_fixture(case), f"{case.id}: still the scripts/new-rule stub ({STUB_MARK}): write its orders"
    if updating():
        update_artifact(case)
    assert not case.legacy.exists(), f"{case.id}: legacy {case.legacy.name}: {HINT} to migrate it"
    exp = read_expected(case)
    if exp is None:
        assert case.is_pass, f"{case.id}: no {case.artifact.name}: {HINT}"
        return Expected()
    assert not exp.stub, f"{case.id}: {case.artifact.name} is the scripts/new-rule stub: {HINT}"
    if case.rule_code in DQ_COMPANIONS:
        assert exp.settings.get("with"), f"{case.id}: name the rules that need the dose or drug in 'with'"
    return exp


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture_findings(case: Case) -> None:
    exp = expected(case)
    found = lint(case, exp.settings)
    assert rows(found) == exp.rows(), f"{case.id}: findings changed: {HINT}"
    details = {(f.code, f.primary_ref): f.detail for f in found}
    for (code, ref), texts in exp.detail_contains().items():
        for text in texts:
            assert text in details[(code, ref)], f"{code} {ref}: '{text}' not in detail"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture_messages(case: Case) -> None:
    exp = expected(case)
    assert render_messages(lint(case, exp.settings)) == exp.messages, f"{case.id}: messages changed: {HINT}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fast_mode_gives_the_same_findings(case: Case) -> None:
    exp = expected(case)
    if "mode" in exp.settings:
        pytest.skip(f"{case.id} is judged in {exp.settings['mode']} mode only")
    assert rows(lint(case, exp.settings, "strict")) == rows(lint(case, exp.settings, "fast"))


@pytest.mark.parametrize("case", [c for c in CASES if c.rule_code], ids=lambda c: c.id)
def test_fail_fixture_fires_its_rule_and_pass_fixture_does_not(case: Case) -> None:
    exp = expected(case)
    codes = {code for code, _, _ in exp.rows()}
    if case.is_fail:
        assert case.rule_code in codes, f"{case.id} does not expect {case.rule_code}"
    elif case.is_pass:
        assert case.rule_code not in codes, f"{case.id} expects {case.rule_code}"
    else:
        pytest.fail(f"{case.id}: a rule's fixture is named fail-* (fires) or pass-* (near miss)")


def test_no_orphan_or_legacy_artifacts() -> None:
    if updating():
        remove_orphans()
    orphans = orphan_artifacts()
    assert not orphans, f"artifacts without a fixture: {[str(p) for p in orphans]}"
    legacy = sorted(LEGACY_SNAPSHOTS.rglob("*.md")) if LEGACY_SNAPSHOTS.exists() else []
    assert not legacy, f"tests/snapshots/ is gone (messages live in fixtures/**/*.expected.md): {HINT}"
