"""Message text shared by rules, renderers and docs: the one summary clip, and rule message templates.

A rule's summary (`RuleMeta.summary`) is a template whose `{placeholders}` name the rule's `Options` fields,
so the text says the thresholds the profile sets (ESLint's `meta.messages` with `{{ data }}`):
`"Aspirin maintenance daily dose outside {min_mg_per_day}-{max_mg_per_day} mg/day"` reads "75-325" with the
default profile and "70-300" with one that changes the range. Numbers are written as `fmt` writes them.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

SUMMARY_LIMIT = 139  # CDS Hooks 2.0 Card.summary "<140 characters"; Inferno flags length >= 140


def clip_summary(text: str) -> str:
    """One line, under 140 characters: whitespace collapsed, cut with an ellipsis when longer."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def fmt(value: float, digits: int = 3) -> str:
    """1234.0 -> '1,234'; 2.5 -> '2.5'; 214.2857 -> '214'."""
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{round(value):,}"
    return f"{value:.{digits}g}"


def placeholders(template: str) -> Iterator[str]:
    """The field names a template uses: "outside {lo}-{hi} mg" -> lo, hi."""
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            yield name


def _shown(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return fmt(float(value))


def fill(template: str, values: Mapping[str, Any]) -> str:
    """The template with each `{name}` replaced by `values[name]` (numbers through `fmt`). A name the values
    do not hold raises KeyError: a message never shows an unfilled placeholder."""
    return template.format_map({name: _shown(values[name]) for name in placeholders(template)})
