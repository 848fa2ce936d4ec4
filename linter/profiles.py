"""Profiles: which rules run, their thresholds (each with its citation), indicator overrides, and the
regimen templates used by "create" suggestions. TOML files in `profiles/`, read with tomllib, validated
with pydantic (linter.profile_schema: unknown keys rejected), and checked against each rule's Options
(linter.rules._base.RuleOptions).

A profile is kept as plain frozen dataclasses with the schema's fields. The shipped profiles' validated form
is stored in linter/profiles_validated.py (scripts/gen_validated.py): a profile file whose bytes, and its
parents', have the digest it was generated from is read from there without pydantic; any other file is
parsed and validated.

A profile may `extends = "<other profile id>"`: it then writes only its differences (tables are merged
key by key; lists and values replace).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from linter import DEFAULT_PROFILE as DEFAULT_PROFILE  # re-exported: callers import it from here too
from linter.errors import ProfileError
from linter.model import Indicator
from linter.regimen_words import Regimen, regimen_words
from linter.terminology import drug_keys
from linter.terminology.records import digest

PROFILE_DIR_ENV = "ORDERLINT_PROFILES_DIR"


def profiles_dir() -> Path:
    """ORDERLINT_PROFILES_DIR, else the checkout's profiles/ (editable install), else the copy a regular
    install puts in <prefix>/share/orderlint/profiles."""
    env = os.environ.get(PROFILE_DIR_ENV)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "profiles"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "orderlint" / "profiles"


class _Frozen:
    """A validated table of a profile: keyword fields in the order annotated, defaults in DEFAULTS (a type
    there, dict or list, makes a new empty one), frozen, shown and compared like a dataclass. Plain class
    attributes, not @dataclass: building a dataclass costs some 5 M instructions at import."""

    FIELDS: ClassVar[tuple[str, ...]] = ()
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls) -> None:
        cls.FIELDS = tuple(k for k, v in cls.__annotations__.items() if not str(v).startswith("ClassVar"))

    def __init__(self, **values: Any) -> None:
        for name in self.FIELDS:
            if name in values:
                value = values.pop(name)
            elif name in self.DEFAULTS:
                default = self.DEFAULTS[name]
                value = default() if isinstance(default, type) else default
            else:
                raise TypeError(f"{type(self).__qualname__}() missing keyword argument: {name!r}")
            object.__setattr__(self, name, value)
        if values:
            raise TypeError(f"{type(self).__qualname__}() got unexpected keyword arguments: {', '.join(values)}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__qualname__} is frozen: cannot assign to field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.__class__ is self.__class__ and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self.FIELDS)})"


# The validated profile: the fields of linter.profile_schema's models, in their order and with their defaults.


class RuleConfig(_Frozen):
    enabled: bool
    # Map the indicator a rule produces to the one this institution wants (e.g. {"warning" = "info"}).
    indicator_overrides: dict[Indicator, Indicator]
    options: dict[str, Any]
    cite: dict[str, str]
    note: str
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "enabled": True,
        "indicator_overrides": dict,
        "options": dict,
        "cite": dict,
        "note": "",
    }


class RegimenTemplate(_Frozen):
    """A MedicationRequest that a "create" suggestion proposes (e.g. aspirin 81 mg daily)."""

    drug: str
    rxnorm: str
    display: str
    dose: float
    unit: str
    unit_display: str
    frequency: int
    period: float
    period_unit: Literal["h", "d", "wk"]
    route: Literal["oral", "intravenous", "intra_arterial", "subcutaneous"]
    duration_days: int | None
    text: str
    cite: str
    DEFAULTS: ClassVar[dict[str, Any]] = {"duration_days": None}


class OrderTemplate(_Frozen):
    """A ServiceRequest that a "create" suggestion proposes (e.g. a toe-brachial index)."""

    text: str
    codings: list[dict[str, str]]  # {system, code, display}; verified codes only
    category_text: str
    cite: str
    DEFAULTS: ClassVar[dict[str, Any]] = {"codings": list, "category_text": ""}


class Profile(_Frozen):
    id: str
    title: str
    description: str
    version: str
    status: Literal["draft", "active", "retired"]
    date: date
    publisher: str
    extends: str | None
    regimens: dict[str, RegimenTemplate]
    orders: dict[str, OrderTemplate]
    rules: dict[str, RuleConfig]
    path: str
    DEFAULTS: ClassVar[dict[str, Any]] = {"extends": None, "regimens": dict, "orders": dict, "rules": dict, "path": ""}

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        # Each rule's Options, validated when first asked for (not a field: not shown, not compared).
        object.__setattr__(self, "_options_cache", {})
        self._options_cache: dict[str, Any]

    def options(self, code: str) -> Any:
        """The rule's Options, validated once from this profile (linter.rules._base.OptionsError if not)."""
        if code not in self._options_cache:
            # Lazy: profiles sit below the rule registry (render and fixes import them without every rule).
            from linter.rules import RULES_BY_CODE

            cfg = self.rules.get(code)
            options = RULES_BY_CODE[code].Options(code, cfg.options if cfg else {}, self._regimen_words())
            self._options_cache[code] = options
        return self._options_cache[code]

    def _regimen_words(self) -> dict[str, Regimen]:
        return {
            key: regimen_words(t.drug, t.dose, t.unit_display, t.frequency, t.period, t.period_unit, t.text)
            for key, t in self.regimens.items()
        }

    def rule(self, code: str) -> RuleConfig | None:
        return self.rules.get(code)

    def enabled_codes(self) -> list[str]:
        return sorted(code for code, cfg in self.rules.items() if cfg.enabled)

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Profile:
        """`data` validated as a profile file is (without the check against the rules)."""
        # Lazy: pydantic and the schema only to validate.
        from linter.profile_schema import validated

        return profile_from_dump(validated(dict(data), Path(str(data.get("path", "")))))

    def model_dump(self) -> dict[str, Any]:
        """The profile as the schema dumps it: plain dicts (dates and enums kept), what model_validate takes."""
        dump = {name: getattr(self, name) for name in self.FIELDS}
        for key in ("regimens", "orders", "rules"):
            dump[key] = {k: dict(zip(v.FIELDS, v._values(), strict=True)) for k, v in dump[key].items()}
        return dump

    def model_copy(self, *, update: Mapping[str, Any]) -> Profile:
        """A copy with some fields replaced (its rules' options validated again when asked for)."""
        return Profile(**{**dict(zip(self.FIELDS, self._values(), strict=True)), **update})


def profile_from_dump(dump: Mapping[str, Any]) -> Profile:
    """The profile from the schema's dump, or from the JSON form of it stored for a shipped profile (the date
    as ISO text, the indicators as their values)."""
    when = dump["date"]
    return Profile(
        **{k: v for k, v in dump.items() if k not in ("date", "regimens", "orders", "rules")},
        date=date.fromisoformat(when) if isinstance(when, str) else when,
        regimens={k: RegimenTemplate(**v) for k, v in dump["regimens"].items()},
        orders={k: OrderTemplate(**v) for k, v in dump["orders"].items()},
        rules={
            code: RuleConfig(
                **{k: v for k, v in cfg.items() if k != "indicator_overrides"},
                indicator_overrides={Indicator(a): Indicator(b) for a, b in cfg["indicator_overrides"].items()},
            )
            for code, cfg in dump["rules"].items()
        },
    )


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # lazy: only for a profile that is not stored validated (a shipped one is read as JSON)

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ProfileError(f"{path}: no such profile file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc


def _parent_path(path: Path, parent: str) -> Path:
    """The file of the profile `parent` that the profile at `path` extends."""
    found = profiles_dir() / f"{parent}.toml"
    return found if found.exists() else path.parent / f"{parent}.toml"


def _resolve_raw(path: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    raw = _read_toml(path)
    parent = raw.get("extends")
    if parent:
        if parent in seen:
            raise ProfileError(f"{path}: profiles extend each other in a cycle: {' -> '.join((*seen, parent))}")
        base = _resolve_raw(_parent_path(path, parent), (*seen, str(raw.get("id", path.stem))))
        base.pop("path", None)
        merged = _merge(base, raw)
        merged["extends"] = parent
        return merged
    return raw


def file_digest(path: Path) -> str | None:
    """The digest of the file's bytes (linter.terminology.records.digest; None when it cannot be read)."""
    try:
        return digest(path.read_bytes())
    except OSError:
        return None


def _stored_dump(path: Path) -> dict[str, Any] | None:
    """The validated form stored for a shipped profile (linter/profiles_validated.py), when the file and every
    profile it extends have the bytes it was generated from."""
    # Lazy: the stored profiles only once a profile is loaded, not when this module is imported.
    from linter import profiles_validated

    key = file_digest(path)
    chain = profiles_validated.SOURCES.get(key or "")
    if chain is None:
        return None
    current = path
    for parent, parent_digest in chain:
        current = _parent_path(current, parent)
        if file_digest(current) != parent_digest:
            return None
    stored: dict[str, Any] = json.loads(profiles_validated.DATA[key or ""])
    return stored


def validated_dump(path: Path) -> dict[str, Any]:
    """The profile file (and those it extends) parsed and validated: linter.profile_schema's dump."""
    # Lazy: pydantic and the schema only for a profile that is not stored validated.
    from linter.profile_schema import validated

    raw = _resolve_raw(path)
    raw["path"] = str(path)
    return validated(raw, path)


def load_profile_file(path: Path, *, strict_codes: bool | None = None) -> Profile:
    stored = _stored_dump(path)
    dump = validated_dump(path) if stored is None else {**stored, "path": str(path)}
    profile = profile_from_dump(dump)
    _check_against_rules(profile, path, strict_codes)
    for key, tmpl in profile.regimens.items():
        if tmpl.drug not in _known_drugs():
            raise ProfileError(f"{path}: regimens.{key}.drug: unknown drug '{tmpl.drug}'")
    return profile


def _known_drugs() -> frozenset[str]:
    return drug_keys()


# A profile must name every registered rule (`enabled = false` to switch one off) and no unknown one: a
# typo in a rule code must not silently leave a rule unconfigured.
STRICT_CODES = True


def _check_against_rules(profile: Profile, path: Path, strict_codes: bool | None = None) -> None:
    """Every configured rule exists, its options validate, and every option has a citation."""
    # Lazy: profiles sit below the rule registry (render and fixes import them without every rule).
    from linter.rules import RULES_BY_CODE
    from linter.rules._base import OptionsError

    problems: list[str] = []
    for code, cfg in profile.rules.items():
        rule = RULES_BY_CODE.get(code)
        strict = STRICT_CODES if strict_codes is None else strict_codes
        if rule is None:
            if strict:
                problems.append(f"{path}: rules.{code}: no such rule (see `orderlint rules`)")
            continue
        try:
            rule.Options(code, cfg.options)
        except OptionsError as exc:
            problems.extend(f"{path}: rules.{code}.options.{name}: {message}" for name, message in exc.problems)
        for key in cfg.options:
            if key not in cfg.cite:
                problems.append(f"{path}: rules.{code}.cite.{key}: every threshold needs a citation")
        for key in cfg.cite:
            if key not in cfg.options:
                problems.append(f"{path}: rules.{code}.cite.{key}: cites an option that does not exist")
    for code in RULES_BY_CODE:
        if code not in profile.rules and (STRICT_CODES if strict_codes is None else strict_codes):
            problems.append(f"{path}: rules.{code}: missing (write `enabled = false` to switch a rule off)")
    if problems:
        raise ProfileError("\n".join(problems))


def load_profile(name_or_path: str) -> Profile:
    """A profile by id (file in the profiles directory) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return load_profile_file(candidate)
    return _load_named(name_or_path)


@cache
def _load_named(name: str) -> Profile:
    path = profiles_dir() / f"{name}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in profiles_dir().glob("*.toml"))) or "none"
        raise ProfileError(f"no profile named '{name}' (known: {known})")
    return load_profile_file(path)


def available_profiles() -> dict[str, Profile]:
    """Every profile in the profiles directory, by id, the default first."""
    out: dict[str, Profile] = {}
    paths = sorted(profiles_dir().glob("*.toml"), key=lambda p: (p.stem != DEFAULT_PROFILE, p.stem))
    for path in paths:
        profile = _load_named(path.stem)
        out[profile.id] = profile
    return out
