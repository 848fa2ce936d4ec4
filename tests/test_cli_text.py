"""The text format names each finding's first source; --show-source quotes the sentences."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import FIXTURES


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "-q", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_claudication_only_order_set_shows_pr501_with_its_source_sentence() -> None:
    path = str(FIXTURES / "orders" / "claudication-only.json")
    plain = _lint(path)
    assert plain.returncode == 1
    line = next(x for x in plain.stdout.splitlines() if " PR501 " in x)
    assert " PR501 critical " in line and line.endswith("[001_f5986088b79218a7.txt:46]")
    quoted = _lint("--show-source", path)
    assert '    > "Do NOT revascularize for claudication' in quoted.stdout
    assert "(001_f5986088b79218a7.txt:46)" in quoted.stdout


def test_clean_order_set_prints_nothing_and_exits_0() -> None:
    result = _lint(str(FIXTURES / "clean" / "pass-btk-order-set-complete.json"))
    assert (result.returncode, result.stdout) == (0, "")


def test_outcome_format_gives_an_error_outcome_for_an_unreadable_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    bad = tmp_path / "b-bad.json"
    bad.write_text("{not json")
    clean = tmp_path / "a-clean.json"
    clean.write_bytes((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes())
    result = _lint("--format", "outcome", str(bad), str(clean))
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    issues = [e["resource"]["issue"][0] for e in doc["entry"]]
    # the one report order (linter.render.ordering): inputs by name, whatever order they were given in
    assert [i["severity"] for i in issues] == ["information", "error"]
    assert "b-bad.json: not JSON" in issues[1]["diagnostics"]


def test_outcome_format_is_valid_fhir_with_an_expression_per_finding() -> None:
    import json

    from fhir.resources.R4B.bundle import Bundle

    result = _lint(
        "--format",
        "outcome",
        str(FIXTURES / "scenarios" / "issue2-new-user-btk-order-set.json"),
        str(FIXTURES / "hooks" / "order-sign-heparin-overdose.json"),
    )
    bundle = Bundle.model_validate(json.loads(result.stdout))
    issues = [i for e in bundle.entry for i in e.resource.issue]
    assert {i.severity for i in issues} == {"error", "warning", "information"}
    assert all(i.expression for i in issues)
    assert any(i.expression == ["context.draftOrders.entry[1].resource"] for i in issues)
