"""ACT (activated clotting time) targets written in free text: order notes, instructions, Goal descriptions."""

from __future__ import annotations

import re

from linter.lazy_re import lazy_compile
from linter.model import ActTarget

_ACT_NAME = r"(?:\bACT\b|\bactivated\s+clotting\s+times?\b(?:\s*\(\s*ACT\s*\))?)"
_SECONDS = r"(?:\s*(?:s|sec|secs|seconds)\b)?"
_ACT_TEXT = lazy_compile(
    _ACT_NAME + r"[^\n]{0,40}?(?:"
    r"between\s+(?P<blo>\d{2,3})" + _SECONDS + r"\s+and\s+(?P<bhi>\d{2,3})"
    r"|(?P<lo>\d{2,3})" + _SECONDS + r"\s*(?:-|–|to)\s*(?P<hi>\d{2,3})"
    r"|(?P<cmp>>=|≥|>|<=|≤|<|above|over|greater than|at least|below|under|less than)\s*(?P<one>\d{2,3})"
    r"|(?P<point>\d{3})\b(?!\s*(?:-|–|to)\s*\d))",
    re.IGNORECASE,
)


def act_targets_in_text(text: str, source_ref: str) -> list[ActTarget]:
    """ACT targets written in free text: "ACT 250-300 s", "ACT > 250", "target ACT 250 to 300 seconds",
    "an activated clotting time of 250-300 seconds", "ACT between 250 and 300", "ACT goal 250" (a point)."""
    out: list[ActTarget] = []
    # Every match starts with "ACT" or "activated" (which starts with "act"), in any case: in an ASCII text (its
    # lowered copy has the same offsets) the scan starts at the first "act". A start position, not a slice: the
    # pattern's \b still sees the character before it.
    start = text.lower().find("act") if text.isascii() else 0
    if start < 0:
        return out
    for m in _ACT_TEXT.finditer(text, start):
        written = m.group(0).strip()
        if m.group("blo") or m.group("lo"):
            lo, hi = (m.group("blo"), m.group("bhi")) if m.group("blo") else (m.group("lo"), m.group("hi"))
            out.append(ActTarget(float(lo), float(hi), source_ref, written))
        elif m.group("point"):
            value = float(m.group("point"))
            out.append(ActTarget(value, value, source_ref, written))
        else:
            cmp_ = m.group("cmp").lower()
            value = float(m.group("one"))
            if cmp_ in (">", ">=", "≥", "above", "over", "greater than", "at least"):
                out.append(ActTarget(value, None, source_ref, written))
            else:
                out.append(ActTarget(None, value, source_ref, written))
    return out
