"""Message text shared by rules, renderers and docs: the one summary clip, and rule message templates.

A rule's summary (`RuleMeta.summary`) is a template whose `{placeholders}` name the rule's `Options` fields,
so the text says the thresholds the profile sets (ESLint's `meta.messages` with `{{ data }}`):
`"Aspirin maintenance daily dose outside {min_mg_per_day}-{max_mg_per_day} mg/day"` reads "75-325" with the
default profile and "70-300" with one that changes the range. Numbers are written as `fmt` writes them;
`{name:daily}` writes a count per day as words ("twice daily"). Finding summaries and details are built
by each rule's `check` from its `Options` and the computed values, so they follow the profile too.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

SUMMARY_LIMIT = 139  # CDS Hooks 2.0 Card.summary "<140 characters"; Inferno flags length >= 140


def clip_summary(text: str) -> str:
    """One line, under 140 characters: whitespace collapsed, cut with an ellipsis when longer."""
    # Already collapsed (nearly every summary) when it holds no whitespace but single inner spaces: then it is its
    # own `" ".join(text.split())`. An ASCII text (nearly every summary) is checked for the other ASCII whitespace
    # in one C pass over its bytes (for 100 characters, ~600 instructions less than `isprintable`, which looks up
    # each character's Unicode class); any other text by `isprintable` (every whitespace character but the space is
    # unprintable).
    # (`strip(" ")` hands back the text itself when it has no outer space: cheaper than slicing off both ends.)
    single_spaced = 0 not in text.encode().translate(_ASCII_SPACE_MARKS) if text.isascii() else text.isprintable()
    if not (single_spaced and "  " not in text and text.strip(" ") == text):
        text = " ".join(text.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rstrip() + "…"


# Each ASCII byte that `str.split()` splits on, but the space, marked 0 (tab, newline, vertical tab, form feed,
# carriage return and the four separators 0x1c-0x1f); every other byte 1.
_ASCII_SPACE_MARKS = bytes(0 if i < 128 and chr(i).isspace() and i != 32 else 1 for i in range(256))


@lru_cache(maxsize=8192)
def fmt(value: float, digits: int = 3) -> str:
    """1234.0 -> '1,234'; 2.5 -> '2.5'; 214.2857 -> '214'.

    Remembered (a finding writes ~10 numbers, most of them the profile's thresholds, the same in every order
    set): equal numbers are written alike (1 and 1.0 both as '1'), so sharing an answer between them is safe."""
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{round(value):,}"
    return f"{value:.{digits}g}"


_EPS = 1e-6  # as the dose reader compares counts
_TIMES = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}


@lru_cache(maxsize=256)  # a pure function of the count; a finding's text asks it a few times
def times_daily(n: float) -> str:
    """2 -> 'twice daily'; 0.5 -> 'every other day'; 5 -> '5 times a day'."""
    if abs(n - round(n)) < _EPS and round(n) in _TIMES:
        return _TIMES[round(n)]
    if abs(n - 0.5) < _EPS:
        return "every other day"
    return f"{fmt(n)} times a day"


def placeholders(template: str) -> Iterator[tuple[str, str]]:
    """The fields a template uses, with their format: "outside {lo}-{hi} mg {n:daily}" -> (lo, ""), (hi, ""),
    (n, "daily")."""
    for _, name, spec, _ in string.Formatter().parse(template):
        if name:
            yield name, spec or ""


def _shown(value: Any, spec: str) -> str:
    if spec == "daily":  # a count per day as words: 2 -> "twice daily"
        return times_daily(float(value))
    if spec:
        raise ValueError(f"unknown message format {spec!r} (known: daily)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return fmt(float(value))


def fill(template: str, values: Mapping[str, Any]) -> str:
    """The template with each `{name}` (or `{name:daily}`) replaced by `values[name]`, numbers written by
    `fmt`. A name the values do not hold raises KeyError: a message never shows an unfilled placeholder."""
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if name:
            out.append(_shown(values[name], spec or ""))
    return "".join(out)


def unfilled(template: str) -> str:
    """The template for a reader with no profile at hand: each field shown as `<name>`."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name:
            out.append(f"<{name}>")
    return "".join(out)
