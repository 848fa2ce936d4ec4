"""The sig text of a corrected dosage: rewritten to say the new dose, or generated from the coded fields.

A suggestion that changes a dose (or frequency, route, duration) must not leave the order's free text saying
the old one, and must not delete it silently either (issue 12 §3). For each changed dosage, `text` and
`patientInstruction` are judged on their own:
- a text that states no dose (no number with a dose unit, no dose in words, not the old dose's number) is
  kept as it is: it contradicts nothing;
- a text whose only dose is the old coded dose, written as a number and a unit ("15,000 units IV once"), gets
  the new dose in its place ("5,600 units IV once"), when nothing else the suggestion changed (frequency,
  route, duration) is also written in it (a text that says no frequency, route or duration contradicts none);
- any other text (two quantities, a range, a dose in words, a changed frequency) is replaced by a sig
  generated from the coded dose, route, timing and as-needed of the corrected dosage ("5,600 units IV once").
Every number is written exactly (never rounded), so the text and the coded dose say the same thing; the
result is checked: every dose the new text states is the new coded dose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from linter.messages import times_daily
from linter.model import FixChange, SetDose, SetDuration, SetFrequency, SetRoute
from linter.unit_display import display_unit

SIG_KEYS = ("text", "patientInstruction")

# Dose units as people and EHRs write them -> one canonical code (UCUM where there is one).
_UNIT_WORDS: dict[str, str] = {
    "units": "[iU]",
    "unit": "[iU]",
    "u": "[iU]",
    "iu": "[iU]",
    "[iu]": "[iU]",
    "unt": "[iU]",
    "usp units": "[iU]",
    "[usp'u]": "[iU]",
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "mcg": "ug",
    "ug": "ug",
    "µg": "ug",
    "microgram": "ug",
    "micrograms": "ug",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "ml": "mL",
    "milliliter": "mL",
    "milliliters": "mL",
    "millilitre": "mL",
    "millilitres": "mL",
    "l": "L",
    "kg": "kg",
    "mmol": "mmol",
    "meq": "meq",
    "tablet": "{tbl}",
    "tablets": "{tbl}",
    "tab": "{tbl}",
    "tabs": "{tbl}",
    "{tbl}": "{tbl}",
    "{tab}": "{tbl}",
    "capsule": "{cap}",
    "capsules": "{cap}",
    "cap": "{cap}",
    "caps": "{cap}",
    "{cap}": "{cap}",
    "pill": "{pill}",
    "pills": "{pill}",
    "{pill}": "{pill}",
    "vial": "{vial}",
    "vials": "{vial}",
    "puff": "{puff}",
    "puffs": "{puff}",
    "drop": "{drop}",
    "drops": "{drop}",
}
_UNIT_RE = "|".join(re.escape(w) for w in sorted(_UNIT_WORDS, key=len, reverse=True))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_PER = r"(?:\s*/\s*|\s+per\s+)(kg|ml|h|hr|hour|min|d|day)\b"
_TRAILING_PER = re.compile(_PER + r"\s*$", re.IGNORECASE)
# A quantity: a number (or a range "a-b", "a to b"), an optional space, a unit, an optional "/kg" or "per kg".
_QUANTITY = re.compile(
    rf"(?<![\w.,])({_NUM})(?:\s*(?:-|–|to)\s*({_NUM}))?\s*({_UNIT_RE})(?![\w\]}}'])(?:{_PER})?",
    re.IGNORECASE,
)
_WORD_NUMBERS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|half|quarter"
)
_DOSE_IN_WORDS = re.compile(rf"\b(?:{_WORD_NUMBERS})\b[\s-]*(?:{_UNIT_RE})(?![\w\]}}'])", re.IGNORECASE)
_BARE_NUMBER = re.compile(rf"(?<![\w.,])({_NUM})(?![\w,]|\.\d)")
# Words that state how often: a changed frequency contradicts a text that has any of them.
_FREQUENCY = re.compile(
    r"\b(?:daily|once|twice|thrice|times|every|each|hourly|nightly|weekly|monthly|morning|evening|bedtime|"
    r"q\.?\s?\d+\s?h(?:rs?)?|q\.?[dh]|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|qhs|qam|qpm|qod|od|bd|tds|"
    r"per\s+(?:day|week|hour)|a\s+(?:day|week))\b|/\s*(?:day|d|week|wk)\b",
    re.IGNORECASE,
)
_DURATION = re.compile(r"\b\d+\s*(?:days?|d|weeks?|wks?|months?|mos?)\b|\bfor\s+(?:life|ever)\b", re.IGNORECASE)
_ROUTE_WORDS = {
    "intravenous": re.compile(r"\b(?:iv|i\.v\.|intravenous(?:ly)?)\b", re.IGNORECASE),
    "intra_arterial": re.compile(r"\b(?:ia|i\.a\.|intra-?arterial(?:ly)?)\b", re.IGNORECASE),
    "oral": re.compile(r"\b(?:po|p\.o\.|oral(?:ly)?|by mouth)\b", re.IGNORECASE),
    "subcutaneous": re.compile(r"\b(?:sc|sq|s\.c\.|subcut(?:aneous(?:ly)?)?)\b", re.IGNORECASE),
}
# SNOMED route code -> how a sig says it (linter.fixes.ROUTES holds the codes a suggestion writes).
_ROUTE_SIG = {
    "26643006": ("oral", "by mouth"),
    "47625008": ("intravenous", "IV"),
    "58100008": ("intra_arterial", "intra-arterially"),
    "34206005": ("subcutaneous", "subcutaneously"),
}
_PERIOD_WORDS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month", "a": "year"}


@dataclass(frozen=True, slots=True)
class Dose:
    value: Decimal  # the dose, or a range's low
    unit: str  # canonical: "[iU]", "mg", "[iU]/kg"
    high: Decimal | None = None  # a doseRange's high


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    low: Decimal
    high: Decimal | None
    unit: str


@dataclass(frozen=True, slots=True)
class Changed:
    """What a suggestion changed in one dosage."""

    dose: bool = False
    frequency: bool = False
    route: str | None = None  # the new route's key in _ROUTE_WORDS, when the route changed
    duration: bool = False


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


@lru_cache(maxsize=1024)  # a pure function of a short text; a few units recur in every order set
def canonical_unit(unit: str) -> str:
    """A unit as sent (UCUM code or words) -> its canonical code; "[iU]/kg" and "units per kg" alike."""
    text = " ".join(unit.strip().split())
    per = ""
    m = _TRAILING_PER.search(text)
    if m:
        per = "/" + {"ml": "mL", "hr": "h", "hour": "h", "day": "d"}.get(m.group(1).lower(), m.group(1).lower())
        text = text[: m.start()]
    base = _UNIT_WORDS.get(text.lower(), text)
    return base + per


def exact_number(value: float | int | Decimal) -> str:
    """A number written in full, never rounded: 5600.0 -> "5,600"; 0.5 -> "0.5"; 1e-06 -> "0.000001"."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    whole, _, frac = format(d.normalize(), "f").partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-') or 0):,}.{frac}"


def dose_text(value: float | int | Decimal, unit: str) -> str:
    """ "5,600 units", "80 units/kg", "100 mcg": the exact number and the unit as clinicians write it."""
    return f"{exact_number(value)} {display_unit(unit)}"


def mentions(text: str) -> list[Mention]:
    """Every quantity with a unit the text states, in order."""
    out = []
    for m in _QUANTITY.finditer(text):
        low = _decimal(m.group(1))
        if low is None:
            continue
        high = _decimal(m.group(2)) if m.group(2) else None
        unit = _UNIT_WORDS.get(m.group(3).lower(), m.group(3))
        if m.group(4):
            unit += "/" + {"ml": "mL", "hr": "h", "hour": "h", "day": "d"}.get(m.group(4).lower(), m.group(4).lower())
        out.append(Mention(m.start(), m.end(), low, high, unit))
    return out


def states_a_dose(text: str, old: Dose | None) -> bool:
    """Whether the text states some dose: a quantity with a unit, a dose in words, or the old dose's number."""
    if mentions(text) or _DOSE_IN_WORDS.search(text):
        return True
    if old is None:
        return False
    return any(_decimal(m.group(1)) in (old.value, old.high) for m in _BARE_NUMBER.finditer(text))


def _quantity(q: Any) -> tuple[Decimal, str] | None:
    if not isinstance(q, dict) or isinstance(q.get("value"), bool) or not isinstance(q.get("value"), int | float):
        return None
    unit = q.get("code") or q.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        return None
    value = q["value"]
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value), canonical_unit(unit)


def coded_dose(dosage: Mapping[str, Any]) -> Dose | None:
    """The dosage's coded dose: doseAndRate[0].doseQuantity (or the STU3 doseQuantity), or a doseRange with
    one unit; None when there is none."""
    dar = dosage.get("doseAndRate")
    first = dar[0] if isinstance(dar, list) and dar and isinstance(dar[0], dict) else dar
    if not isinstance(first, dict):
        first = dosage  # the STU3 shape: doseQuantity / doseRange on the dosage itself
    single = _quantity(first.get("doseQuantity"))
    if single is not None:
        return Dose(*single)
    rng = first.get("doseRange")
    if isinstance(rng, dict):
        low, high = _quantity(rng.get("low")), _quantity(rng.get("high"))
        if low is not None and high is not None and low[1] == high[1]:
            return Dose(low[0], low[1], high[0])
    return None


def rewritten(text: str, old: Dose | None, new: Dose | None, new_text: str, changed: Changed) -> str | None:
    """The text with its one statement of the old dose replaced by the new dose; None when that cannot be done
    safely (the caller generates a sig instead)."""
    if changed.frequency and _FREQUENCY.search(text):
        return None  # frequencies are written in too many ways to replace one safely
    if changed.duration and _DURATION.search(text):
        return None
    if changed.route is not None and any(
        pattern.search(text) for key, pattern in _ROUTE_WORDS.items() if key != changed.route
    ):
        return None
    if not changed.dose:
        return text
    if _DOSE_IN_WORDS.search(text) or old is None or new is None:
        return None
    found = mentions(text)
    if len(found) != 1:
        return None
    (m,) = found
    if m.low != old.value or m.high != old.high or m.unit != old.unit or new.high is not None:
        return None
    out = text[: m.start] + new_text + text[m.end :]
    rest = out[: m.start] + out[m.start + len(new_text) :]
    if any(_decimal(b.group(1)) in (old.value, old.high) for b in _BARE_NUMBER.finditer(rest)):
        return None  # the old number is written again elsewhere ("15,000 units (15000) IV")
    return out


def generated_sig(dosage: Mapping[str, Any]) -> str:
    """A sig from the dosage's coded fields only: dose, route, timing, duration, as needed."""
    parts: list[str] = []
    dar = dosage.get("doseAndRate")
    first = dar[0] if isinstance(dar, list) and dar and isinstance(dar[0], dict) else {}
    q = first.get("doseQuantity") if isinstance(first, dict) else None
    rng = first.get("doseRange") if isinstance(first, dict) else None
    if isinstance(q, dict) and isinstance(q.get("value"), int | float):
        parts.append(dose_text(q["value"], str(q.get("code") or q.get("unit") or "")).strip())
    elif isinstance(rng, dict):
        low, high = rng.get("low") or {}, rng.get("high") or {}
        if isinstance(low.get("value"), int | float) and isinstance(high.get("value"), int | float):
            unit = str(high.get("code") or high.get("unit") or "")
            parts.append(f"{exact_number(low['value'])}-{dose_text(high['value'], unit)}".strip())
    parts.extend(_route_words(dosage.get("route")))
    parts.extend(_timing_words(dosage.get("timing")))
    if dosage.get("asNeededBoolean") is True:
        parts.append("as needed")
    concept = dosage.get("asNeededCodeableConcept")
    if isinstance(concept, dict) and isinstance(concept.get("text"), str) and concept["text"].strip():
        parts.append(f"as needed for {concept['text'].strip()}")
    return " ".join(p for p in parts if p)


def _route_words(route: Any) -> list[str]:
    if not isinstance(route, dict):
        return []
    for coding in route.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code") in _ROUTE_SIG:
            return [_ROUTE_SIG[coding["code"]][1]]
    if isinstance(route.get("text"), str) and route["text"].strip():
        return [route["text"].strip()]
    for coding in route.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str) and coding["display"].strip():
            return [coding["display"].strip().lower()]
    return []


def _period(value: Any, unit: Any) -> str:
    word = _PERIOD_WORDS.get(str(unit), str(unit))
    if value == 1:
        return word
    return f"{exact_number(value)} {word}s"


def _timing_words(timing: Any) -> list[str]:
    if not isinstance(timing, dict):
        return []
    repeat = timing.get("repeat") if isinstance(timing.get("repeat"), dict) else {}
    assert isinstance(repeat, dict)  # noqa: S101 - narrowed above
    out: list[str] = []
    freq, period, unit = repeat.get("frequency"), repeat.get("period"), repeat.get("periodUnit")
    if repeat.get("count") == 1 and freq in (None, 1):
        out.append("once")
    elif isinstance(freq, int) and isinstance(period, int | float) and unit:
        if unit == "d" and period == 1:
            out.append(times_daily(freq))
        elif freq == 1:
            out.append(f"every {_period(period, unit)}")
        else:
            out.append(f"{freq} times every {_period(period, unit)}")
    else:
        code = timing.get("code")
        if isinstance(code, dict) and isinstance(code.get("text"), str) and code["text"].strip():
            out.append(code["text"].strip())
    bounds = repeat.get("boundsDuration")
    if isinstance(bounds, dict) and isinstance(bounds.get("value"), int | float):
        out.append(f"for {_period(bounds['value'], bounds.get('code') or bounds.get('unit'))}")
    return out


def agrees(text: str, new: Dose) -> bool:
    """Every dose the text states is the new dose (the check each rewritten or generated sig passes)."""
    return all(m.high is None and m.low == new.value and m.unit == new.unit for m in mentions(text) if m.unit != "kg")


def refresh_sig(before: Mapping[str, Any], after: dict[str, Any], changed: Changed) -> None:
    """Make `after`'s text and patientInstruction agree with its coded fields (see the module docstring):
    kept, rewritten in place, or replaced by a sig generated from the coded fields, never removed."""
    old = coded_dose(before)
    new = coded_dose(after) if changed.dose else None
    for key in SIG_KEYS:
        text = after.get(key)
        if not isinstance(text, str):
            continue
        out = _kept_or_rewritten(text, old, new, changed)
        if out is not text:
            after[key] = (generated_sig(after) or text) if out is None else out


@lru_cache(maxsize=4096)
def _kept_or_rewritten(text: str, old: Dose | None, new: Dose | None, changed: Changed) -> str | None:
    """The sig text as it may stay (`text` itself), rewritten in place, or None for a sig generated from the
    coded fields. A function of its arguments only (Decimals equal in value write and compare alike): cached,
    since the same draft sig is refreshed at each order-select and at order-sign."""
    if not text.strip() or not _touches(text, old, changed):
        return text
    out: str | None = None
    if not changed.dose or new is not None:  # a new dose that is not one coded quantity is never written in
        out = rewritten(text, old, new, dose_text(new.value, new.unit) if new else "", changed)
    if out is None or (new is not None and not agrees(out, new)):
        return None
    return out


def _touches(text: str, old: Dose | None, changed: Changed) -> bool:
    """Whether the change can contradict this text at all."""
    if changed.dose and states_a_dose(text, old):
        return True
    if changed.frequency and _FREQUENCY.search(text):
        return True
    if changed.duration and _DURATION.search(text):
        return True
    return changed.route is not None and any(p.search(text) for p in _ROUTE_WORDS.values())


def changes_by_dosage(changes: Iterable[FixChange], n_dosages: int) -> dict[int, Changed]:
    """Dosage index -> what the changes do there (a duration applies to every dosage)."""
    flags: dict[int, dict[str, Any]] = {}  # Changed's fields, set as the changes come (the last route wins)
    for c in changes:
        indexes = range(n_dosages) if isinstance(c, SetDuration) else [c.dosage_index]
        for i in indexes:
            cur = flags.setdefault(i, {})
            if isinstance(c, SetDose):
                cur["dose"] = True
            elif isinstance(c, SetFrequency):
                cur["frequency"] = True
            elif isinstance(c, SetRoute):
                cur["route"] = _ROUTE_SIG.get(c.route.code or "", ("other", ""))[0]
            else:
                cur["duration"] = True
    return {i: Changed(**fields) for i, fields in flags.items()}
