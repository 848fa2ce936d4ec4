"""Typed readers over raw JSON: the fields orderlint reads, each checked for its FHIR JSON type.

Fast mode reads only these fields (strict mode has validated the whole resource first). A field of the wrong
type raises `FieldError` with the path as sent (`MedicationRequest.dosageInstruction[0].timing.repeat.period`):
the reader turns it into DQ904 for that resource. Every reader takes the parent's path and an optional suffix
(`sfx`) naming the field, so the common call `string(o.get("code"), path, ".code")` builds the path only on error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from linter import units
from linter.model import Coding, Concept, Quantity


class FieldError(Exception):
    """A field orderlint reads has the wrong shape (fast-mode DQ904)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def obj(v: Any, path: str, sfx: str = "") -> Mapping[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise FieldError(path + sfx, f"expected an object, got {type(v).__name__}")
    return v


def array(v: Any, path: str, sfx: str = "") -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise FieldError(path + sfx, f"expected an array, got {type(v).__name__}")
    return v


def string(v: Any, path: str, sfx: str = "") -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise FieldError(path + sfx, f"expected a string, got {type(v).__name__}")
    return v


def number(v: Any, path: str, sfx: str = "") -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise FieldError(path + sfx, f"expected a number, got {type(v).__name__} {v!r}"[:120])
    return float(v)


def integer(v: Any, path: str, sfx: str = "") -> int | None:
    if type(v) is int:  # the common case, as `number` then the check below would read it
        return int(float(v))
    n = number(v, path, sfx)
    if n is None:
        return None
    if n != int(n):
        raise FieldError(path + sfx, f"expected an integer, got {v!r}")
    return int(n)


def boolean(v: Any, path: str, sfx: str = "") -> bool | None:
    if v is None:
        return None
    if not isinstance(v, bool):
        raise FieldError(path + sfx, f"expected true or false, got {v!r}"[:120])
    return v


# The dateTimes read, by the string as sent, per process (an order set repeats its authoredOn and effective
# times, and a service reads the same ones again): datetimes are immutable, so the readers share them.
_DATES: dict[str, datetime] = {}
known_date_time = _DATES.get  # a dateTime already read, by the string as sent (a C-level look-up; None if not)


def date_time(v: Any, path: str, sfx: str = "") -> datetime | None:
    if type(v) is str and (known := _DATES.get(v)) is not None:
        return known
    s = string(v, path, sfx)
    if not s:
        return None
    read = _parse_date_time(s, path, sfx)
    if len(_DATES) >= 4096:
        _DATES.clear()
    _DATES[s] = read
    return read


def _parse_date_time(s: str, path: str, sfx: str) -> datetime:
    try:
        if len(s) == 4:
            return datetime(int(s), 1, 1, tzinfo=UTC)
        if len(s) == 7:
            return datetime(int(s[:4]), int(s[5:7]), 1, tzinfo=UTC)
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    except ValueError as exc:
        raise FieldError(path + sfx, f"not a FHIR date/dateTime: {s!r}") from exc


def _plain_coding(v: Any) -> Coding | None:
    """The fast path: a dict whose fields are strings or absent (nearly every coding sent); None otherwise,
    and the checked reader below then names the bad field."""
    system, code, display = v.get("system"), v.get("code"), v.get("display")
    if (
        (system is None or type(system) is str)
        and (code is None or type(code) is str)
        and (display is None or type(display) is str)
    ):
        return Coding(system, code, display)
    return None


def coding(v: Any, path: str, sfx: str = "") -> Coding | None:
    if type(v) is dict and (fast := _plain_coding(v)) is not None:
        return fast
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return None
    return Coding(
        string(o.get("system"), path, ".system"),
        string(o.get("code"), path, ".code"),
        string(o.get("display"), path, ".display"),
    )


def concept(v: Any, path: str, sfx: str = "") -> Concept | None:
    if v is None:
        return None
    if type(v) is dict and (fast := plain_concept(v)) is not None:  # no path built
        return fast
    return _checked_concept(v, path + sfx)


# Concepts of one plain coding (a route, a condition's code, a status), by (system, code, display, text) as
# sent, per process: frozen, so every order set shares them.
_ONE_CODING: dict[tuple[Any, ...], Concept] = {}
_CODINGS: dict[tuple[Any, ...], Concept] = {}  # the same, of several codings: (text, then each one's three)


def plain_concept(v: dict[str, Any]) -> Concept | None:
    """The fast path of `concept`: a dict of plain codings and a string (or absent) text; None otherwise, and
    the checked reader then names the bad field."""
    raw_codings, text = v.get("coding"), v.get("text")
    if type(raw_codings) is list and len(raw_codings) == 1 and type(raw := raw_codings[0]) is dict:
        one = (raw.get("system"), raw.get("code"), raw.get("display"), text)
        try:
            known = _ONE_CODING.get(one)
        except TypeError:  # a list or an object where a string belongs: not plain
            return None
        if known is not None:  # stored only below, after every field was read as a string (or absent)
            return known
        if (text is None or type(text) is str) and (c := _plain_coding(raw)) is not None:
            if len(_ONE_CODING) >= 4096:
                _ONE_CODING.clear()
            known = _ONE_CODING[one] = Concept((c,), text)
        return known
    key: tuple[Any, ...] | None = None
    if type(raw_codings) is list and raw_codings:  # several codings (a procedure's CPT and SNOMED CT codes)
        parts = [text]
        for raw in raw_codings:
            if type(raw) is not dict:
                break
            parts += raw.get("system"), raw.get("code"), raw.get("display")
        else:
            key = tuple(parts)
            try:
                known = _CODINGS.get(key)
            except TypeError:  # a list or an object where a string belongs: not plain
                return None
            if known is not None:  # stored only below, after every field was read as a string (or absent)
                return known
    if text is None or type(text) is str:
        if not raw_codings:
            return Concept((), text)
        if type(raw_codings) is list:
            out = []
            for raw in raw_codings:
                if raw is None:
                    continue
                c = _plain_coding(raw) if type(raw) is dict else None
                if c is None:
                    return None
                out.append(c)
            read = Concept(tuple(out), text)
            if key is not None:
                if len(_CODINGS) >= 4096:
                    _CODINGS.clear()
                _CODINGS[key] = read
            return read
    return None


def _checked_concept(v: Any, path: str) -> Concept | None:
    o = obj(v, path)
    if o is None:
        return None
    raw_codings = o.get("coding")
    codings: tuple[Coding, ...] = ()
    if raw_codings:
        items = array(raw_codings, path, ".coding")
        codings = tuple(c for i, raw in enumerate(items) if (c := coding(raw, f"{path}.coding[{i}]")) is not None)
    return Concept(codings, string(o.get("text"), path, ".text"))


def concepts(v: Any, path: str, sfx: str = "") -> tuple[Concept, ...]:
    if type(v) is list:  # the common list, of plain concepts: read with no path built
        out = []
        for raw in v:
            if type(raw) is not dict or (c := plain_concept(raw)) is None:
                break
            out.append(c)
        else:
            return tuple(out)
    if sfx:
        path += sfx
    return tuple(c for i, raw in enumerate(array(v, path)) if (c := concept(raw, f"{path}[{i}]")) is not None)


def quantity(v: Any, path: str, sfx: str = "") -> Quantity | None:
    if v is None:
        return None
    if type(v) is dict and (fast := plain_quantity(v)) is not None:
        return fast
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return None
    number_value = number(o.get("value"), path, ".value")
    if number_value is None:
        raise FieldError(f"{path}.value", "a dose quantity without a value")
    return Quantity(
        number_value,
        string(o.get("unit"), path, ".unit"),
        string(o.get("system"), path, ".system"),
        string(o.get("code"), path, ".code"),
    )


# Plain quantities by (value, unit, system, code) as sent, per process (doses of an order-set template, weights):
# frozen, so shared. A zero value is not kept: 0.0 and -0.0 are one key but two reprs.
_QUANTITIES: dict[tuple[Any, ...], Quantity] = {}


def plain_quantity(v: dict[str, Any]) -> Quantity | None:
    """The fast path of `quantity`: a numeric value and string (or absent) unit, system, code; None otherwise."""
    value, unit, system, code = v.get("value"), v.get("unit"), v.get("system"), v.get("code")
    if (
        (type(value) is float or type(value) is int)  # not bool (a subclass of int)
        and (unit is None or type(unit) is str)
        and (system is None or type(system) is str)
        and (code is None or type(code) is str)
    ):
        if not value:
            return Quantity(float(value), unit, system, code)
        key = (value, unit, system, code)  # 81 and 81.0 are one key, and read as one value (81.0)
        known = _QUANTITIES.get(key)
        if known is None:
            if len(_QUANTITIES) >= 4096:
                _QUANTITIES.clear()
            known = _QUANTITIES[key] = Quantity(float(value), unit, system, code)
        return known
    return None


def reference(v: Any, path: str, sfx: str = "") -> str | None:
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return None
    return string(o.get("reference"), path, ".reference")


def annotation_texts(v: Any, path: str, sfx: str = "") -> tuple[str, ...]:
    if sfx:
        path += sfx
    out = []
    for i, raw in enumerate(array(v, path)):
        o = obj(raw, f"{path}[{i}]")
        if o is not None and (t := string(o.get("text"), f"{path}[{i}].text")):
            out.append(t)
    return tuple(out)


def duration_days(v: Any, path: str, sfx: str = "") -> float | None:
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return None
    value = number(o.get("value"), path, ".value")
    unit = string(o.get("code"), path, ".code") or string(o.get("unit"), path, ".unit") or "d"
    if value is None:
        return None
    return units.duration_days(value, unit)
