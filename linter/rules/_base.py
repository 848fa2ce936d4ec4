"""What every rule module provides, and the shared vocabulary of rule options.

A rule module defines:
- `META: RuleMeta` (code, name, family, scope, default indicator, citations, since, status), whose
  `summary` is a template over the `Options` fields (`{max_mg_per_day}`, see linter.messages), and, when
  check() can only emit for orders of some drugs, `applies_to` (the engine then calls it only when the order
  set has one of them; tests/test_engine_dispatch.py checks the declaration changes nothing);
- `Options`, a pydantic model (subclass of RuleOptions, extra keys rejected) filled from the profile;
- `check(order_set, options) -> Iterable[Finding | CouldNotVerify]`: pure, no I/O, no clock (the
  evaluation time is `order_set.evaluated_at`).
and a docstring whose first line is `CODE name: one line`, with the sections listed in REQUIRED_SECTIONS.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Protocol, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr

from linter.messages import fill, unfilled
from linter.model import CouldNotVerify, Finding, OrderSet, RuleMeta
from linter.regimen_words import Regimen

REQUIRED_SECTIONS = ("What it checks", "Why it matters", "Example", "Options", "Source", "Limitations")


class RuleOptions(BaseModel):
    """Base of every rule's options: thresholds come from the profile, never from code."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _regimens: dict[str, Regimen] = PrivateAttr(default_factory=dict)

    def regimen(self, key: str) -> Regimen:
        """The profile's regimen `key` in words (set by the profile that built these options)."""
        try:
            return self._regimens[key]
        except KeyError:
            raise KeyError(f"regimen {key!r} is not in the profile that built these options") from None


class NoOptions(RuleOptions):
    pass


Emitted = Finding | CouldNotVerify


class RuleModule(Protocol):
    META: RuleMeta
    Options: type[RuleOptions]
    __doc__: str | None

    def check(self, order_set: OrderSet, options: RuleOptions, /) -> Iterable[Emitted]: ...


def rule_summary(rule: RuleModule, options: RuleOptions | None) -> str:
    """The rule's one-line summary with the thresholds of `options` (the profile's); without options (a
    profile that does not configure the rule) each threshold is shown by its option name, `<max_mg_per_day>`."""
    if options is None:
        return unfilled(rule.META.summary)
    return fill(rule.META.summary, options.model_dump())


def as_rule(module: ModuleType) -> RuleModule:
    for attr in ("META", "Options", "check"):
        if not hasattr(module, attr):
            raise TypeError(f"rule module {module.__name__} has no {attr}")
    return cast(RuleModule, module)
