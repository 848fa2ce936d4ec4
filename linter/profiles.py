"""Profiles: which rules run, their thresholds (each with its citation), indicator overrides, and the
regimen templates used by "create" suggestions. TOML files in `profiles/`, read with tomllib, validated
with pydantic (unknown keys rejected), and checked against each rule's Options model.

A profile may `extends = "<other profile id>"`: it then writes only its differences (tables are merged
key by key; lists and values replace).
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from linter import DEFAULT_PROFILE as DEFAULT_PROFILE  # re-exported: callers import it from here too
from linter.errors import ProfileError
from linter.model import Indicator
from linter.regimen_words import Regimen, regimen_words
from linter.terminology import drug_keys

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConfig(_Strict):
    enabled: bool = True
    # Map the indicator a rule produces to the one this institution wants (e.g. {"warning" = "info"}).
    indicator_overrides: dict[Indicator, Indicator] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    cite: dict[str, str] = Field(default_factory=dict)
    note: str = ""


class RegimenTemplate(_Strict):
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
    duration_days: int | None = None
    text: str
    cite: str


class OrderTemplate(_Strict):
    """A ServiceRequest that a "create" suggestion proposes (e.g. a toe-brachial index)."""

    text: str
    codings: list[dict[str, str]] = Field(default_factory=list)  # {system, code, display}; verified codes only
    category_text: str = ""
    cite: str


class Profile(_Strict):
    id: str
    title: str
    description: str
    version: str
    status: Literal["draft", "active", "retired"]
    date: date
    publisher: str
    extends: str | None = None
    regimens: dict[str, RegimenTemplate] = Field(default_factory=dict)
    orders: dict[str, OrderTemplate] = Field(default_factory=dict)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)
    path: str = ""
    _options_cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    def options(self, code: str) -> Any:
        """The rule's Options model, validated once from this profile."""
        if code not in self._options_cache:
            # Lazy: profiles sit below the rule registry (render and fixes import them without every rule).
            from linter.rules import RULES_BY_CODE

            cfg = self.rules.get(code)
            options = RULES_BY_CODE[code].Options.model_validate(cfg.options if cfg else {})
            options._regimens = self._regimen_words()
            self._options_cache[code] = options
        return self._options_cache[code]

    def _regimen_words(self) -> dict[str, Regimen]:
        return {
            key: regimen_words(t.drug, t.dose, t.unit_display, t.frequency, t.period, t.period_unit, t.text)
            for key, t in self.regimens.items()
        }

    @field_validator("version")
    @classmethod
    def _calendar_version(cls, v: str) -> str:
        parts = v.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            raise ValueError("version must be a calendar version YYYY.MINOR.PATCH, e.g. 2026.1.0")
        return v

    def rule(self, code: str) -> RuleConfig | None:
        return self.rules.get(code)

    def enabled_codes(self) -> list[str]:
        return sorted(code for code, cfg in self.rules.items() if cfg.enabled)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ProfileError(f"{path}: no such profile file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc


def _resolve_raw(path: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    raw = _read_toml(path)
    parent = raw.get("extends")
    if parent:
        if parent in seen:
            raise ProfileError(f"{path}: profiles extend each other in a cycle: {' -> '.join((*seen, parent))}")
        parent_path = profiles_dir() / f"{parent}.toml"
        if not parent_path.exists():
            parent_path = path.parent / f"{parent}.toml"
        base = _resolve_raw(parent_path, (*seen, str(raw.get("id", path.stem))))
        base.pop("path", None)
        merged = _merge(base, raw)
        merged["extends"] = parent
        return merged
    return raw


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        lines.append(f"{path}: {loc}: {err['msg']}")
    return "\n".join(lines)


def load_profile_file(path: Path, *, strict_codes: bool | None = None) -> Profile:
    raw = _resolve_raw(path)
    raw["path"] = str(path)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(_format_errors(path, exc)) from exc
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

    problems: list[str] = []
    for code, cfg in profile.rules.items():
        rule = RULES_BY_CODE.get(code)
        strict = STRICT_CODES if strict_codes is None else strict_codes
        if rule is None:
            if strict:
                problems.append(f"{path}: rules.{code}: no such rule (see `orderlint rules`)")
            continue
        try:
            rule.Options.model_validate(cfg.options)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                problems.append(f"{path}: rules.{code}.options.{loc}: {err['msg']}")
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
