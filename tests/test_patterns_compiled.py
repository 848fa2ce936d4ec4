"""The stored compiled patterns (linter/patterns_compiled.py, read by linter.patterns) are what re compiles: each
stored pattern equals re.compile's (CPython compares patterns by source, flags and code), the table holds every
pattern the shipped data and code ask for, and anything else (another interpreter, a pattern not stored) is
compiled by re. When the coverage test fails after editing a data file or a pattern, regenerate:
python scripts/gen_validated.py."""

from __future__ import annotations

import _sre
import importlib.util
import itertools
import re
import sys
from array import array
from binascii import b2a_base64
from pathlib import Path
from types import ModuleType

import pytest

from linter import patterns
from linter import patterns_compiled as stored
from linter.terminology import phrase_pattern

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "stale: run python scripts/gen_validated.py"

on_the_interpreter_stored = pytest.mark.skipif(
    not patterns.USABLE, reason="the table was generated on another interpreter: every pattern is compiled by re"
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_validated", ROOT / "scripts" / "gen_validated.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@on_the_interpreter_stored
def test_every_stored_pattern_is_the_pattern_re_compiles() -> None:
    assert len(stored.PATTERNS) > 80
    for pattern, flags in stored.PATTERNS:
        built, compiled = patterns.compile_pattern(pattern, flags), re.compile(pattern, flags)
        assert built == compiled, pattern  # source, flags and the code itself
        assert (built.groups, built.groupindex, built.flags) == (compiled.groups, compiled.groupindex, compiled.flags)


@on_the_interpreter_stored
def test_a_stored_pattern_matches_as_re_compiles_it() -> None:
    act = next(key for key in stored.PATTERNS if "clotting" in key[0])
    built, compiled = patterns.compile_pattern(*act), re.compile(*act)
    for text in ("Target ACT 250-300 seconds", "activated clotting time between 250 and 300 s", "ACT > 250", "none"):
        found, expected = built.search(text), compiled.search(text)
        assert (found and (found.span(), found.groupdict())) == (expected and (expected.span(), expected.groupdict()))


@on_the_interpreter_stored
def test_the_table_holds_every_pattern_the_shipped_data_and_code_compile() -> None:
    """What the generator records with an empty table (every phrase group, every lazy pattern, every fixture
    linted in both modes with its texts read) is what is stored, each entry as re's compiler makes it now."""
    generator = _generator()
    keys = generator.pattern_keys()
    assert sorted(stored.PATTERNS) == sorted(keys), REGENERATE
    for key in keys:
        assert stored.PATTERNS[key] == patterns.sre_entry(*key), REGENERATE
    assert (sys.version_info[:2], _sre.MAGIC, sys.byteorder) == (stored.PYTHON, stored.SRE_MAGIC, stored.BYTEORDER)


def test_a_pattern_not_stored_is_compiled_by_re_and_recorded() -> None:
    source = r"(?<![\w-])(?:a phrase no data file has)(?![\w-])"
    assert (source, int(re.IGNORECASE)) not in stored.PATTERNS
    built = patterns.compile_pattern(source, re.IGNORECASE)
    assert built == re.compile(source, re.IGNORECASE)
    assert (source, int(re.IGNORECASE)) in patterns.MISSED
    patterns.MISSED.discard((source, int(re.IGNORECASE)))


def test_a_table_from_another_interpreter_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, other in (("PYTHON", (3, 99)), ("SRE_MAGIC", 1), ("SRE_CODESIZE", 8), ("BYTEORDER", "middle")):
        with monkeypatch.context() as m:
            m.setattr(stored, name, other)
            assert not patterns._table_usable(), name
    monkeypatch.setattr(patterns, "USABLE", False)
    key = next(iter(stored.PATTERNS))
    assert patterns.compile_pattern(*key) == re.compile(*key)
    patterns.MISSED.discard(key)


def test_a_phrase_pattern_is_the_same_text_whatever_order_the_phrases_come_in() -> None:
    """Longest first, then alphabetical: the stored table is looked up by the pattern's text, which must not
    depend on the order of a set (string hashing differs between processes)."""
    phrases = ["pta", "angioplasty", "balloon angioplasty", "ptA", "dcb", "abi"]
    texts = {phrase_pattern(list(p)).pattern for p in itertools.permutations(phrases)}  # type: ignore[union-attr]
    assert len(texts) == 1
    (text,) = texts
    assert text.index("balloon\\ angioplasty") < text.index("angioplasty|") < text.index("abi") < text.index("dcb")


@on_the_interpreter_stored
def test_stored_code_the_engine_refuses_falls_back_to_re(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_sre.compile` validates the code it is given: a stored entry it refuses (a damaged table, an engine
    that changed without a new magic number) is compiled by re instead of failing the lint."""
    key = next(iter(stored.PATTERNS))
    final_flags, _code, groups, groupindex, indexgroup = stored.PATTERNS[key]
    damaged = b2a_base64(array("I", [0xFFFF] * 8).tobytes(), newline=False).decode("ascii")
    monkeypatch.setitem(stored.PATTERNS, key, (final_flags, damaged, groups, groupindex, indexgroup))
    assert patterns.compile_pattern(*key) == re.compile(*key)
    assert key in patterns.MISSED
    patterns.MISSED.discard(key)
