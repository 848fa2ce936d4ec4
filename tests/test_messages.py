"""Rule messages say the profile's thresholds: a profile that changes a range changes the finding's summary and
detail and the rule's one-line summary; no rule summary hard-codes a number its options set; findings carry
their rule's name and sources, so render/ and store/ never read the rule registry; one summary clip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from linter.docs import rules_table
from linter.engine import run
from linter.fhir_io import load_bytes
from linter.messages import SUMMARY_LIMIT, clip_summary, fill, fmt, placeholders, unfilled
from linter.model import Finding
from linter.profiles import Profile, load_profile, profiles_dir
from linter.render.cards import cards_response
from linter.render.report import finding_json, text_line
from linter.rules import RULES, RULES_BY_CODE
from linter.rules._base import rule_summary
from tests.conftest import FIXTURE_NOW, FIXTURES, ROOT

# A site that narrows five thresholds (each option cited, as every profile must).
CHANGED_PROFILE = """
extends = "btk-angioplasty"
id = "test-changed-thresholds"
title = "Changed thresholds (test)"
description = "btk-angioplasty with other aspirin, ACT and nitroglycerin ranges."
version = "2026.11.0"
status = "draft"
date = 2026-11-29
publisher = "tests"

[rules.AT101]
options = { min_mg_per_day = 70, max_mg_per_day = 300 }
cite = { min_mg_per_day = "test", max_mg_per_day = "test" }

[rules.HEP204]
options = { min_act_seconds = 260, max_act_seconds = 310 }
cite = { min_act_seconds = "test", max_act_seconds = "test" }

[rules.VD301]
options = { min_ug = 150, max_ug = 250 }
cite = { min_ug = "test", max_ug = "test" }

[rules.HEP201]
options = { critical_above_units_per_kg = 150 }
cite = { critical_above_units_per_kg = "test" }

[rules.AT114]
options = { max_duration_days = 90 }
cite = { max_duration_days = "test" }
"""


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Profile:
    folder = tmp_path_factory.mktemp("profiles")
    # `extends` is looked up in the profiles directory first, so the temp file extends the shipped default.
    assert (profiles_dir() / "btk-angioplasty.toml").exists()
    path = folder / "test-changed-thresholds.toml"
    path.write_text(CHANGED_PROFILE, encoding="utf-8")
    return load_profile(str(path))


def _findings(fixture: str, profile: Profile, code: str) -> list[Finding]:
    result = load_bytes((FIXTURES / fixture).read_bytes(), fixture, now=FIXTURE_NOW)
    assert not result.errors
    return [f for order_set in result.order_sets for f in run(order_set, profile) if f.code == code]


@pytest.mark.parametrize(
    ("fixture", "code", "old", "new"),
    [
        ("AT101/fail-325mg-twice-daily.json", "AT101", "75-325 mg/day", "70-300 mg/day"),
        ("HEP204/fail-act-200-300.json", "HEP204", "250-300 s", "260-310 s"),
    ],
)
def test_a_changed_range_changes_summary_and_detail(
    fixture: str, code: str, old: str, new: str, profile: Profile, changed: Profile
) -> None:
    [before] = _findings(fixture, profile, code)
    [after] = _findings(fixture, changed, code)
    # the detail's own words; the quoted source sentence after them keeps the source's numbers, as it must
    own_before, own_after = (f.detail.split("**Source**")[0] for f in (before, after))
    assert old in before.summary and old in own_before  # the shipped profile's range, as before
    assert new in after.summary and new in own_after
    assert old not in after.summary and old not in own_after


def test_words_derived_from_thresholds_follow_them(profile: Profile, changed: Profile) -> None:
    """HEP201's critical band is named relative to the upper bound, AT114's limit in months as well as days."""
    [hep_before] = _findings("HEP201/fail-15000-units-70kg.json", profile, "HEP201")
    [hep_after] = _findings("HEP201/fail-15000-units-70kg.json", changed, "HEP201")
    assert "more than 200 units/kg (twice the upper bound" in hep_before.detail  # 214 units/kg
    assert "twice" not in hep_after.detail
    assert "more than 150 units/kg (1.5 times the upper bound" in hep_after.detail
    [at_before] = _findings("AT114/fail-dpi-clopidogrel-184-days.json", profile, "AT114")
    [at_after] = _findings("AT114/fail-dpi-clopidogrel-184-days.json", changed, "AT114")
    assert at_before.summary.endswith("limit to 183 days (6 months)")
    assert at_after.summary.endswith("limit to 90 days (3 months)")


def test_a_changed_range_changes_the_rule_summary(profile: Profile, changed: Profile) -> None:
    default_rows = {r["code"]: r["summary"] for r in rules_table(profile)}
    changed_rows = {r["code"]: r["summary"] for r in rules_table(changed)}
    assert default_rows["AT101"] == "Aspirin maintenance daily dose outside 75-325 mg/day"
    assert changed_rows["AT101"] == "Aspirin maintenance daily dose outside 70-300 mg/day"
    assert "260-310 s" in changed_rows["HEP204"] and "250" not in changed_rows["HEP204"]
    assert changed_rows["VD301"].endswith("outside 150-250 mcg") and "100-200" not in changed_rows["VD301"]
    assert default_rows["AT105"].endswith("no rivaroxaban 2.5 mg twice daily")
    # rules the profile leaves alone read as before
    assert changed_rows["HEP201"] == default_rows["HEP201"] == "Procedural heparin bolus outside 70-100 units/kg"


def test_every_summary_placeholder_is_an_option_of_its_rule(profile: Profile) -> None:
    for rule in RULES:
        fields = set(rule.Options.FIELDS)
        for name, spec in placeholders(rule.META.summary):
            assert name in fields, f"{rule.META.code}: summary names {{{name}}}, not an option"
            assert spec in ("", "daily"), f"{rule.META.code}: unknown format {spec!r}"
        text = rule_summary(rule, profile.options(rule.META.code) if profile.rule(rule.META.code) else None)
        assert not re.search(r"[{}]|<\w+>", text) and len(text) <= SUMMARY_LIMIT


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w.])", text))


def test_no_rule_summary_hard_codes_a_threshold_of_its_options(profile: Profile) -> None:
    """A number in a summary that equals one of the rule's numeric options must come from the option."""
    offenders = []
    for rule in RULES:
        if profile.rule(rule.META.code) is None:
            continue
        options = profile.options(rule.META.code).as_dict()
        values = {fmt(float(v)) for v in options.values() if isinstance(v, int | float) and not isinstance(v, bool)}
        literal = unfilled(rule.META.summary)
        hard = _numbers(literal) & values
        if hard:
            offenders.append(f"{rule.META.code}: {literal!r} writes {sorted(hard)}")
    assert offenders == []


def test_fill_formats_numbers_and_daily_counts() -> None:
    assert (
        fill("outside {lo}-{hi} mg, {n:daily}", {"lo": 75.0, "hi": 1000, "n": 2}) == "outside 75-1,000 mg, twice daily"
    )
    assert fill("{x}", {"x": 2.5}) == "2.5"
    assert unfilled("under {min_duration_days} days") == "under <min_duration_days> days"
    with pytest.raises(KeyError):
        fill("{missing}", {})
    with pytest.raises(ValueError, match="unknown message format"):
        fill("{n:weekly}", {"n": 1})


def test_one_clip_for_every_summary() -> None:
    assert clip_summary("  a \n b  ") == "a b"
    long = "x" * 200
    assert len(clip_summary(long)) == SUMMARY_LIMIT and clip_summary(long).endswith("…")
    assert clip_summary("y" * SUMMARY_LIMIT) == "y" * SUMMARY_LIMIT
    # Every whitespace character, ASCII or not, next to single spaces and alone: collapsed as split() would.
    for space in [chr(c) for c in range(0x3001) if chr(c).isspace()]:
        for text in (f"a{space}b", f"a {space}b", f"{space}a b", f"a b{space}", f"a{space}\x00b", f"é{space}b"):
            assert clip_summary(text) == " ".join(text.split()), repr(text)
    assert clip_summary("a\x00b \x7f c") == "a\x00b \x7f c"  # control characters that are not whitespace stay


def test_findings_carry_their_rule_name_and_sources(profile: Profile) -> None:
    [f] = _findings("AT101/fail-325mg-twice-daily.json", profile, "AT101")
    meta = RULES_BY_CODE["AT101"].META
    assert (f.rule_name, f.citations) == (meta.name, meta.citations)
    result = load_bytes((FIXTURES / "AT101/fail-325mg-twice-daily.json").read_bytes(), "x", now=FIXTURE_NOW)
    order_set = result.order_sets[0]
    assert finding_json(f, order_set)["name"] == "aspirin-daily-dose"
    assert finding_json(f, order_set)["citation"] == "; ".join(c.label for c in meta.citations)
    assert text_line(f, "x.json").endswith(f"[{meta.citations[0].label}]")
    [card] = cards_response([f], order_set, profile, actions_for=lambda *_: [])["cards"]
    assert card["source"]["topic"]["display"] == "aspirin-daily-dose"


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("package", ["render", "store"])
def test_render_and_store_import_nothing_from_rules(package: str) -> None:
    files = sorted((ROOT / "linter" / package).rglob("*.py"))
    assert files
    bad = {
        str(p.relative_to(ROOT)): m
        for p in files
        for m in _imports(p)
        if m == "linter.rules" or m.startswith("linter.rules.")
    }
    assert bad == {}
