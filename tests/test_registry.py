"""The registry meta-test (ESLint's rule-file check): linter/rules/__init__.py RULE_MODULES is the one sorted
list of rule modules; every rule module under linter/rules/ is in it, and every rule in it lands complete:
fixtures that fire and stay silent, docs (docstring sections, a docs/rules.md entry), and an entry in every
profile under profiles/ (an `extends` profile may inherit it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.profiles import load_profile_file, profiles_dir
from linter.rules import RULE_MODULES, RULES, RULES_BY_CODE
from linter.rules._base import REQUIRED_SECTIONS
from tests.conftest import FIXTURES, ROOT
from tests.fixture_cases import CODE_RE, STUB_MARK

RULES_DIR = ROOT / "linter" / "rules"
DOCS_MD = ROOT / "docs" / "rules.md"
PROFILES = sorted(profiles_dir().glob("*.toml"))


def _module_files() -> list[str]:
    """Every rule module under linter/rules/: a .py file in a family folder, not starting with `_`."""
    return sorted(
        ".".join(p.relative_to(RULES_DIR).with_suffix("").parts)
        for p in RULES_DIR.rglob("*.py")
        if not any(part.startswith("_") for part in p.relative_to(RULES_DIR).parts)
    )


def test_every_rule_module_is_registered_and_every_registered_module_exists() -> None:
    files = set(_module_files())
    listed = set(RULE_MODULES)
    assert not files - listed, (
        f"rule modules missing from RULE_MODULES in linter/rules/__init__.py: {sorted(files - listed)}"
    )
    assert not listed - files, f"RULE_MODULES lists modules that do not exist: {sorted(listed - files)}"
    assert len(RULE_MODULES) == len(listed), "a module is listed twice in RULE_MODULES"


def test_registry_is_sorted_by_code() -> None:
    assert list(RULE_MODULES) == sorted(RULE_MODULES, key=lambda m: m.rsplit(".", 1)[-1]), (
        "RULE_MODULES is not sorted by code"
    )
    codes = [r.META.code for r in RULES]
    assert codes == sorted(codes) and len(codes) == len(set(codes)) == len(RULES_BY_CODE)


@pytest.mark.parametrize("name", RULE_MODULES)
def test_module_sits_in_its_family_and_is_named_for_its_code(name: str) -> None:
    family, module = name.split(".")
    rule = RULES[RULE_MODULES.index(name)]
    assert rule.META.family == family, f"{name}: META.family is {rule.META.family!r}"
    assert module.startswith(rule.META.code.lower() + "_"), f"{name}: not named for {rule.META.code}"


@pytest.mark.parametrize("code", list(RULES_BY_CODE))
def test_rule_has_fire_and_near_miss_fixtures(code: str) -> None:
    folder = FIXTURES / code
    assert sorted(folder.glob("fail-*.json")), f"{code}: no fixtures/{code}/fail-*.json"
    assert sorted(folder.glob("pass-*.json")), f"{code}: no fixtures/{code}/pass-*.json"


def test_no_fixture_folder_for_an_unknown_code() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir() and CODE_RE.match(p.name)}
    assert folders <= set(RULES_BY_CODE), f"fixtures for unregistered codes: {sorted(folders - set(RULES_BY_CODE))}"


@pytest.mark.parametrize("code", list(RULES_BY_CODE))
def test_rule_has_docs(code: str) -> None:
    rule = RULES_BY_CODE[code]
    doc = rule.__doc__ or ""
    missing = [s for s in REQUIRED_SECTIONS if f"## {s}" not in doc]
    assert not missing, f"{code}: docstring lacks {missing}"
    heading = f"## {code} {rule.META.name}"
    assert heading in DOCS_MD.read_text(encoding="utf-8").splitlines(), (
        f"docs/rules.md has no '{heading}': run `orderlint rules --format markdown > docs/rules.md`"
    )


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_every_profile_has_an_entry_for_every_rule(path: Path) -> None:
    profile = load_profile_file(path, strict_codes=False)
    missing = [code for code in RULES_BY_CODE if code not in profile.rules]
    assert not missing, f"{path.name}: no [rules.CODE] entry for {missing} (write `enabled = false` to switch off)"


def test_no_new_rule_stub_left() -> None:
    """scripts/new-rule marks what must be filled by hand; a marked rule module or profile fails here."""
    files = [RULES_DIR / (name.replace(".", "/") + ".py") for name in RULE_MODULES] + PROFILES
    left = [str(p.relative_to(ROOT)) for p in files if STUB_MARK in p.read_text(encoding="utf-8")]
    assert not left, f"still the scripts/new-rule stub (search for {STUB_MARK}): {left}"
