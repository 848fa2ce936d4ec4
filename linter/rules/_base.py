"""What every rule module provides, and the shared vocabulary of rule options.

A rule module defines:
- `META: RuleMeta` (code, name, family, scope, default indicator, citations, since, status), whose
  `summary` is a template over the `Options` fields (`{max_mg_per_day}`, see linter.messages), and, when
  check() can only emit for orders of some drugs, `applies_to` (the engine then calls it only when the order
  set has one of them; tests/test_engine_dispatch.py checks the declaration changes nothing);
- `Options`, a subclass of RuleOptions (below) filled from the profile;
- `check(order_set, options) -> Iterable[Finding | CouldNotVerify]`: pure, no I/O, no clock (the
  evaluation time is `order_set.evaluated_at`).
and a docstring whose first line is `CODE name: one line`, with the sections listed in REQUIRED_SECTIONS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any, ClassVar, Protocol, Self, cast

from linter.messages import fill, unfilled
from linter.model import CouldNotVerify, Finding, OrderSet, RuleMeta
from linter.regimen_words import Regimen

REQUIRED_SECTIONS = ("What it checks", "Why it matters", "Example", "Options", "Source", "Limitations")

# The types an option may have, by the name its annotation spells, and how an error message names each.
_TYPES: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool}
_EXPECTED = {
    float: "a number (float)",
    int: "a whole number (int)",
    str: "a string (str)",
    bool: "true or false (bool)",
}


def _wrong_type(kind: type, value: object) -> str | None:
    """Why `value` is not an option of type `kind`, or None when it is. A TOML or JSON value must have the
    type itself: a quoted number is a string, not a number; an integer is a number (for a float option); a
    boolean is never a number; a number with a fraction part, even .0, is not an int; nan and inf are no
    threshold."""
    if kind is float and type(value) in (int, float):
        # TOML spells nan and inf: a threshold that compares false with every dose would never fire.
        return None if math.isfinite(value) else f"expected a finite number, got {value!r}"  # type: ignore[arg-type]
    if type(value) is kind:
        return None
    return f"expected {_EXPECTED[kind]}, got {type(value).__name__} {value!r}"


class OptionsError(ValueError):
    """A rule's options that do not validate: `problems` holds (option name, message) pairs; the text names
    the rule code, each option and the type it expects."""

    def __init__(self, code: str, problems: list[tuple[str, str]]) -> None:
        self.code = code
        self.problems = problems
        super().__init__("; ".join(f"{code} option {name}: {message}" for name, message in problems))


class RuleOptions:
    """Base of every rule's options: thresholds come from the profile, never from code.

    A subclass declares its options as class annotations (`max_mg_per_day: float`; float, int, str or bool),
    each required unless the class gives it a value (the default). An instance is built from the profile's
    `[rules.CODE] options` table and checked: no option missing, none unknown, each of its type (an int is
    accepted for a float option, and stored as a float); frozen once built. Plain Python, not pydantic: the
    rule modules are imported at every start of the CLI (issue 11)."""

    FIELDS: ClassVar[dict[str, type]] = {}  # option name -> type, in the order declared
    DEFAULTS: ClassVar[dict[str, object]] = {}  # option name -> default, for the options that have one
    _code: str
    _regimens: Mapping[str, Regimen]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, defaults = dict(cls.FIELDS), dict(cls.DEFAULTS)
        for name, annotation in cls.__annotations__.items():  # its own (an empty dict when it declares none)
            spelled = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
            if spelled.startswith("ClassVar"):
                continue
            kind = _TYPES.get(spelled)
            if kind is None:
                raise TypeError(f"{cls.__module__}.{cls.__qualname__}.{name}: an option is float, int, str or bool")
            fields[name] = kind
            if name in cls.__dict__:
                default = cls.__dict__[name]
                if (problem := _wrong_type(kind, default)) is not None:
                    raise TypeError(f"{cls.__module__}.{cls.__qualname__}.{name}: the default: {problem}")
                defaults[name] = float(default) if kind is float else default
        cls.FIELDS, cls.DEFAULTS = fields, defaults

    def __init__(self, code: str, values: Mapping[str, object], regimens: Mapping[str, Regimen] | None = None) -> None:
        """The options of rule `code` from the profile's table `values` (OptionsError when they do not
        validate), with the profile's regimens in words (`regimen()`)."""
        problems: list[tuple[str, str]] = []
        checked: dict[str, object] = {}
        for name, kind in self.FIELDS.items():
            if name not in values:
                if name in self.DEFAULTS:
                    checked[name] = self.DEFAULTS[name]
                else:
                    problems.append((name, f"missing: expected {_EXPECTED[kind]}"))
                continue
            value = values[name]
            problem = _wrong_type(kind, value)
            if problem is not None:
                problems.append((name, problem))
            else:
                checked[name] = float(value) if kind is float else value  # type: ignore[arg-type]
        for name in values:
            if name not in self.FIELDS:
                known = ", ".join(self.FIELDS) or "none"
                problems.append((str(name), f"not an option of this rule (its options: {known})"))
        if problems:
            raise OptionsError(code, problems)
        checked["_code"] = code
        checked["_regimens"] = dict(regimens or {})
        self.__dict__.update(checked)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"the options of {self._code} are frozen: cannot assign {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"the options of {self._code} are frozen: cannot delete {name!r}")

    def as_dict(self) -> dict[str, Any]:
        """The options by name, in the order declared."""
        return {name: self.__dict__[name] for name in self.FIELDS}

    def replace(self, **changes: object) -> Self:
        """A copy with some options changed (checked again), the same regimens."""
        return type(self)(self._code, {**self.as_dict(), **changes}, self._regimens)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.as_dict().items())))

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{k}={v!r}' for k, v in self.as_dict().items())})"

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
    return fill(rule.META.summary, options.as_dict())


def as_rule(module: ModuleType) -> RuleModule:
    for attr in ("META", "Options", "check"):
        if not hasattr(module, attr):
            raise TypeError(f"rule module {module.__name__} has no {attr}")
    return cast(RuleModule, module)
