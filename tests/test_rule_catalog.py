"""The catalog tests itself: codes unique and registered, doc sections present, citations resolve to the
quoted sentence at the cited line, every option cited in the profile, fire and near-miss fixtures exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linter.profiles import load_profile_file, profiles_dir
from linter.rules import RULES, RULES_BY_CODE
from linter.rules._base import REQUIRED_SECTIONS
from tests.conftest import FIXTURES, ROOT

SOURCES = ROOT / "knowledge" / "sources"
CODE_RE = re.compile(r"^[A-Z]{2,3}\d{3}$")


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_rule_metadata_and_docs(rule) -> None:  # type: ignore[no-untyped-def]
    meta = rule.META
    assert CODE_RE.match(meta.code)
    module_file = Path(rule.__file__).name  # type: ignore[attr-defined]
    assert module_file.startswith(meta.code.lower() + "_"), module_file
    assert module_file.removesuffix(".py").endswith(meta.name.replace("-", "_")), (module_file, meta.name)
    doc = rule.__doc__ or ""
    assert doc.splitlines()[0].startswith(f"{meta.code} {meta.name}: "), doc.splitlines()[0]
    for section in REQUIRED_SECTIONS:
        assert f"## {section}" in doc, f"{meta.code}: docstring lacks '## {section}'"
    assert meta.citations, f"{meta.code}: no citation"


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_citations_resolve(rule) -> None:  # type: ignore[no-untyped-def]
    for c in rule.META.citations:
        if not c.source.endswith(".txt"):
            assert (
                c.source.startswith(("RULES.md", "reference/", "external", "FDA", "CDS Hooks", "UCUM"))
                or "reference/" in c.source
            ), f"{rule.META.code}: citation '{c.source}' is neither a source file nor a reference"
            continue
        lines = (SOURCES / c.source).read_text(encoding="utf-8").splitlines()
        assert c.lines, f"{rule.META.code}: {c.source} cited without a line"
        first, _, last = c.lines.partition("-")
        cited = " ".join(lines[int(first) - 1 : int(last or first)])
        assert _norm(c.quote) in _norm(cited), f"{rule.META.code}: quote not found at {c.label}"


def test_codes_unique_and_sorted() -> None:
    codes = [r.META.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)


@pytest.mark.parametrize("path", sorted(profiles_dir().glob("*.toml")), ids=lambda p: p.name)
def test_profiles_cover_every_rule_with_cited_options(path: Path) -> None:
    load_profile_file(path, strict_codes=True)


@pytest.mark.parametrize("rule", RULES, ids=[r.META.code for r in RULES])
def test_fire_and_near_miss_fixtures_exist(rule) -> None:  # type: ignore[no-untyped-def]
    folder = FIXTURES / rule.META.code
    assert list(folder.glob("fail-*.json")), f"{rule.META.code}: no fixtures/{rule.META.code}/fail-*.json"
    assert list(folder.glob("pass-*.json")), f"{rule.META.code}: no fixtures/{rule.META.code}/pass-*.json"


def test_registry_lookup() -> None:
    assert set(RULES_BY_CODE) == {r.META.code for r in RULES}
