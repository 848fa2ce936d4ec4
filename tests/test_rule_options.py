"""Rule options (linter.rules._base.RuleOptions): a plain class, not pydantic. Every rule's Options takes the
shipped profiles' options and refuses an unknown key, a missing one and a value of the wrong type, with a
message that names the rule, the option and the type it expects; a profile with such an option fails to load
with that message under its file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linter.errors import ProfileError
from linter.profiles import load_profile, load_profile_file, profiles_dir
from linter.regimen_words import Regimen
from linter.rules import RULES
from linter.rules._base import NoOptions, OptionsError, RuleOptions

SHIPPED = sorted(p.stem for p in profiles_dir().glob("*.toml"))
WITH_OPTIONS = [r for r in RULES if r.Options.FIELDS]
# A value of the wrong type for each option type, and how the message names the type expected.
WRONG = {float: "75", int: 2.0, str: 81, bool: "true"}
EXPECTED = {float: "a number (float)", int: "a whole number (int)", str: "a string (str)", bool: "true or false (bool)"}


def _default_options(code: str) -> dict[str, Any]:
    return dict(load_profile("btk-angioplasty").rules[code].options)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_rule_takes_the_shipped_profiles_options(name: str) -> None:
    profile = load_profile(name)
    for rule in RULES:
        code = rule.META.code
        cfg = profile.rule(code)
        assert cfg is not None, code
        options = profile.options(code)
        assert type(options) is rule.Options
        assert options.as_dict() == cfg.options, code
        assert list(options.as_dict()) == list(rule.Options.FIELDS), code
        for key, kind in rule.Options.FIELDS.items():
            assert type(getattr(options, key)) is kind, (code, key)  # ints written for floats are floats


def test_the_option_types_are_those_a_profile_can_write() -> None:
    kinds = {kind for rule in RULES for kind in rule.Options.FIELDS.values()}
    assert kinds == {float, int, str, bool}  # each has its case below
    assert NoOptions.FIELDS == {}


@pytest.mark.parametrize("rule", WITH_OPTIONS, ids=lambda r: r.META.code)
def test_every_rule_refuses_an_unknown_key(rule: Any) -> None:
    code = rule.META.code
    with pytest.raises(OptionsError) as exc:
        rule.Options(code, {**_default_options(code), "max_mg_per_dy": 325})
    assert exc.value.problems == [
        ("max_mg_per_dy", f"not an option of this rule (its options: {', '.join(rule.Options.FIELDS)})")
    ]
    assert exc.value.code == code
    assert str(exc.value).startswith(f"{code} option max_mg_per_dy: not an option of this rule")


@pytest.mark.parametrize("rule", WITH_OPTIONS, ids=lambda r: r.META.code)
def test_every_rule_refuses_a_missing_key(rule: Any) -> None:
    code = rule.META.code
    values = _default_options(code)
    name, kind = next(iter(rule.Options.FIELDS.items()))
    del values[name]
    with pytest.raises(OptionsError) as exc:
        rule.Options(code, values)
    assert str(exc.value) == f"{code} option {name}: missing: expected {EXPECTED[kind]}"


@pytest.mark.parametrize("rule", WITH_OPTIONS, ids=lambda r: r.META.code)
def test_every_rule_refuses_a_value_of_the_wrong_type(rule: Any) -> None:
    code = rule.META.code
    for name, kind in rule.Options.FIELDS.items():
        wrong = WRONG[kind]
        with pytest.raises(OptionsError) as exc:
            rule.Options(code, {**_default_options(code), name: wrong})
        message = f"expected {EXPECTED[kind]}, got {type(wrong).__name__} {wrong!r}"
        assert exc.value.problems == [(name, message)], (code, name)
        assert str(exc.value) == f"{code} option {name}: {message}"


def test_no_rule_accepts_options_when_it_has_none() -> None:
    with pytest.raises(OptionsError, match=r"^DQ901 option x: not an option of this rule \(its options: none\)$"):
        NoOptions("DQ901", {"x": 1})
    assert NoOptions("DQ901", {}).as_dict() == {}


class _Sample(RuleOptions):
    limit_mg: float
    per_day: int
    template: str
    counts: bool
    note: str = "profile default"


def test_numbers_are_checked_not_converted() -> None:
    ok = {"limit_mg": 75, "per_day": 2, "template": "t", "counts": False}
    sample = _Sample("X1", ok)
    assert sample.limit_mg == 75.0 and type(sample.limit_mg) is float  # an int is a number, stored as a float
    assert type(_Sample("X1", {**ok, "limit_mg": 2.5}).limit_mg) is float
    for name, wrong, got in [
        ("limit_mg", True, "bool True"),  # a boolean is never a number
        ("limit_mg", "75", "str '75'"),  # a quoted number is a string
        ("per_day", True, "bool True"),
        ("per_day", 2.0, "float 2.0"),  # a whole number is written without a fraction
        ("per_day", "2", "str '2'"),
        ("template", 81, "int 81"),
        ("counts", 1, "int 1"),
        ("counts", "false", "str 'false'"),
    ]:
        with pytest.raises(OptionsError) as exc:
            _Sample("X1", {**ok, name: wrong})
        assert exc.value.problems == [(name, f"expected {EXPECTED[_Sample.FIELDS[name]]}, got {got}")]


def test_a_threshold_is_a_finite_number() -> None:
    ok = {"limit_mg": 75, "per_day": 2, "template": "t", "counts": False}
    for wrong in (float("nan"), float("inf"), float("-inf")):  # TOML writes them nan, inf, -inf
        with pytest.raises(OptionsError) as exc:
            _Sample("X1", {**ok, "limit_mg": wrong})
        assert exc.value.problems == [("limit_mg", f"expected a finite number, got {wrong!r}")]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(OptionsError) as exc:
        _Sample("X1", {"limit_mg": "high", "template": "t", "counts": True, "extra": 1})
    assert [name for name, _ in exc.value.problems] == ["limit_mg", "per_day", "extra"]
    assert str(exc.value).count("X1 option ") == 3


def test_defaults_required_keys_and_frozen() -> None:
    sample = _Sample("X1", {"limit_mg": 1, "per_day": 1, "template": "t", "counts": True})
    assert sample.note == "profile default"
    assert sample.as_dict() == {
        "limit_mg": 1.0,
        "per_day": 1,
        "template": "t",
        "counts": True,
        "note": "profile default",
    }
    assert list(_Sample.FIELDS.items()) == [
        ("limit_mg", float),
        ("per_day", int),
        ("template", str),
        ("counts", bool),
        ("note", str),
    ]
    with pytest.raises(AttributeError, match="the options of X1 are frozen"):
        sample.limit_mg = 2.0
    with pytest.raises(AttributeError, match="frozen"):
        del sample.per_day
    assert sample == _Sample("X1", sample.as_dict()) and hash(sample) == hash(_Sample("X1", sample.as_dict()))
    assert repr(sample).startswith("_Sample(limit_mg=1.0, per_day=1, ")


def test_replace_checks_again_and_keeps_the_regimens() -> None:
    regimen = Regimen("aspirin 81 mg daily", "aspirin 81 mg once daily", "aspirin 81 mg by mouth once daily")
    sample = _Sample("X1", {"limit_mg": 1, "per_day": 1, "template": "t", "counts": True}, {"a81": regimen})
    changed = sample.replace(counts=False)
    assert changed.counts is False and sample.counts is True
    assert changed.regimen("a81") == regimen
    with pytest.raises(OptionsError, match="X1 option counts: expected true or false"):
        sample.replace(counts="no")
    with pytest.raises(KeyError, match="regimen 'b' is not in the profile"):
        sample.regimen("b")


def test_an_option_type_a_profile_cannot_write_is_refused_when_declared() -> None:
    # Declared as `class _Bad(RuleOptions): when: list[str]` would (the annotation as a string, as a rule module
    # with `from __future__ import annotations` spells it).
    with pytest.raises(TypeError, match=r"\._Bad\.when: an option is float, int, str or bool"):
        type("_Bad", (RuleOptions,), {"__annotations__": {"when": "list[str]"}})
    with pytest.raises(TypeError, match=r"\.limit: the default: expected a number \(float\), got str '1'"):
        type("_BadDefault", (RuleOptions,), {"__annotations__": {"limit": "float"}, "limit": "1"})


def test_a_profile_with_a_wrong_option_fails_to_load_naming_file_rule_option_and_type(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        'extends = "btk-angioplasty"\nid = "site"\n\n'
        '[rules.AT101.options]\nmax_mg_per_day = "325"\nmax_mg_per_dy = 300\n\n'
        '[rules.AT101.cite]\nmax_mg_per_dy = "site decision"\n\n'
        "[rules.AT111.options]\nsuggest_per_day = 2.0\n"
    )
    with pytest.raises(ProfileError) as exc:
        load_profile_file(path)
    assert str(exc.value).splitlines() == [
        f"{path}: rules.AT101.options.max_mg_per_day: expected a number (float), got str '325'",
        f"{path}: rules.AT101.options.max_mg_per_dy: not an option of this rule (its options: min_mg_per_day, "
        "max_mg_per_day, critical_at_or_above_mg_per_day, critical_below_mg_per_day, loading_min_mg, "
        "loading_max_mg, suggest_mg)",
        f"{path}: rules.AT111.options.suggest_per_day: expected a whole number (int), got float 2.0",
    ]
