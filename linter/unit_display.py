"""How units are shown to people: one mapping from UCUM codes to what clinicians write, used wherever text a
clinician reads is built (card summaries, details, suggestion labels, the rule pages). UCUM codes are for
machines: "[iU]" is "units", "ug" is "mcg" (ISMP: never "ug" in clinical text), "d" is "day"."""

from __future__ import annotations

_DISPLAY_UNITS: dict[str, str] = {
    "[iU]": "units",
    "[IU]": "units",
    "[USP'U]": "USP units",
    "U": "units",
    "UNT": "units",
    "ug": "mcg",
    "[lb_av]": "lb",
    "[oz_av]": "oz",
    "[in_i]": "in",
    "s": "s",
    "min": "min",
    "h": "hour",
    "d": "day",
    "wk": "week",
    "mo": "month",
    "a": "year",
    "{tbl}": "tablet",
    "{tab}": "tablet",
    "{cap}": "capsule",
}


def display_unit(code: str) -> str:
    """A UCUM code (or an alias as sent) as people write it: "[iU]" -> "units", "ug" -> "mcg",
    "[iU]/kg" -> "units/kg", "mg/d" -> "mg/day", "{pill}" -> "pill"; anything else as given ("mg", "mL")."""
    text = code.strip()
    if "/" in text and text not in _DISPLAY_UNITS:
        return "/".join(display_unit(part) if part else part for part in text.split("/"))
    shown = _DISPLAY_UNITS.get(text)
    if shown is not None:
        return shown
    if len(text) > 2 and text.startswith("{") and text.endswith("}"):
        return text[1:-1]  # a UCUM annotation is the word itself: {pill} -> pill
    return text
