"""Module-level regular expressions compiled on first use, not at import.

A rule's pattern compiled at import cost the CLI's start 0.6-6 M instructions each (10 M for the five in
linter/rules and linter/text), paid before a `--jobs N` run forks even when no order set of the run has the
text the pattern looks for (a free-text ACT target, a stent's residual stenosis). `lazy_compile(pattern,
flags)` stands for `re.compile(pattern, flags)`: the first read of any attribute (`.search`, `.finditer`...)
compiles it and stores that attribute on the object, so every later call goes straight to the compiled
pattern's method, as if it had been compiled at import.
"""

from __future__ import annotations

import re
from typing import Any, cast

from linter.patterns import compile_pattern


class _LazyPattern:
    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:  # only for a name not stored yet (see the module docstring)
        if name.startswith("__"):  # copy, pickle and the like probe dunders: not a pattern's attributes
            raise AttributeError(name)
        if self._compiled is None:
            self._compiled = compile_pattern(*self._args)
        value = getattr(self._compiled, name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy_compile({self._args[0]!r}, {self._args[1]!r})"


CREATED: list[_LazyPattern] = []  # every lazy pattern, in the order the modules made them


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, compiled when first used (see the module docstring)."""
    lazy = _LazyPattern(pattern, flags)
    CREATED.append(lazy)
    return cast("re.Pattern[str]", lazy)


def compile_all() -> None:
    """Compile every lazy pattern made so far (scripts/gen_validated.py: the table of stored patterns)."""
    for lazy in CREATED:
        lazy.pattern  # noqa: B018 - reading an attribute compiles it
