"""linter.lazy_re: a pattern compiled on first use reads like the compiled pattern, and every module-level
pattern of the rules and texts is one (compiled when an order set first needs it, not at import)."""

from __future__ import annotations

import re

from linter.lazy_re import CREATED, _LazyPattern, compile_all, lazy_compile
from linter.rules.data_quality import dq905_code_contradicts_dose as dq905
from linter.rules.heparin import _bolus
from linter.rules.procedure import pr504_stent_without_documented_indication as pr504
from linter.text import act


def test_a_lazy_pattern_matches_as_the_compiled_one() -> None:
    text = "ACT 250-300 s; act > 200; Activated clotting time between 180 and 220"
    lazy, compiled = lazy_compile(act._ACT_TEXT.pattern, re.IGNORECASE), re.compile(act._ACT_TEXT.pattern, re.I)
    assert vars(lazy)["_compiled"] is None  # nothing compiled before the first use
    assert [m.groupdict() for m in lazy.finditer(text)] == [m.groupdict() for m in compiled.finditer(text)]
    assert lazy.search(text).span() == compiled.search(text).span()  # type: ignore[union-attr]
    assert lazy.findall(text) == compiled.findall(text) and lazy.sub("x", text) == compiled.sub("x", text)
    assert (lazy.pattern, lazy.flags, lazy.groups) == (compiled.pattern, compiled.flags, compiled.groups)
    assert vars(lazy)["finditer"].__self__ is vars(lazy)["_compiled"]  # later calls: the compiled pattern's own


def test_the_rules_module_level_patterns_are_lazy() -> None:
    for pattern in (act._ACT_TEXT, pr504._DISSECTION, pr504._RESIDUAL, dq905._STRENGTH_TEXT, _bolus._FLUSH):
        assert isinstance(pattern, _LazyPattern)
    assert "lazy_compile(" in repr(pr504._RESIDUAL)


def test_compile_all_compiles_every_lazy_pattern_as_re_does() -> None:
    """What scripts/gen_validated.py calls to store every module pattern's compiled form (linter.patterns)."""
    compile_all()
    assert len(CREATED) >= 6
    for lazy in CREATED:
        compiled = vars(lazy)["_compiled"]
        assert compiled is not None and compiled == re.compile(*lazy._args)
