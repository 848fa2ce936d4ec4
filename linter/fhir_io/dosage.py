"""Dosage and Timing: dose quantity or range, rate, route, method, the timing's code and repeat, PRN."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from linter.fhir_io.fields import (
    array,
    boolean,
    concept,
    concepts,
    date_time,
    duration_days,
    integer,
    number,
    obj,
    plain_concept,
    plain_quantity,
    quantity,
    string,
)
from linter.model import Concept, Dosage, Quantity, Timing
from linter.terminology import terminology

# Fields only the checked readers below read: a dosage (or timing repeat) holding any of them takes the checked
# path, so `plain_dosage` and `_plain_timing` read every field they do not hand over.
_CHECKED_ONLY_DOSAGE = frozenset(
    {"doseQuantity", "doseRange", "rateQuantity", "additionalInstruction", "asNeededCodeableConcept"}
)
_CHECKED_ONLY_REPEAT = frozenset({"boundsPeriod", "boundsDuration", "when"})
_NO_TIMING = Timing()  # frozen: one shared "no timing" for every dosage without one

# Plain dosages and timings read, per process: an order-set template's dosages ("81 mg by mouth daily") come
# again and again, and building one costs more than looking it up. All frozen, so order sets share them.
# Timings by their repeat's fields as sent (a zero period is not kept: 0.0 and -0.0 are one key, two reprs);
# dosages by their scalar fields and the identity of their parts (dose, route, method, timing): the dosage
# kept holds those parts, so an id in a key is never reused while the key is there.
_TIMINGS: dict[tuple[Any, ...], Timing] = {}
_DOSAGES: dict[tuple[Any, ...], Dosage] = {}


def _timing_code(concept: Concept) -> tuple[str | None, str | None]:
    """(code, text) of Timing.code. A FHIR timing abbreviation wins; a local code whose display or whose
    text is a known abbreviation or phrase ("BID", "twice daily") is read as that abbreviation; else the first
    code as sent (unknown: the dose rules say they could not read the frequency)."""
    t = terminology()
    first: str | None = None
    for c in concept.codings:
        if c.code and t.timing_code(c.code) is not None:
            return c.code.strip().upper(), concept.text
        first = first or (c.code.strip().upper() if c.code else None)
    for words in [*(c.display for c in concept.codings), concept.text]:
        if words and len(words) <= 40 and (key := t.timing_from_text(words)) is not None:
            return key, concept.text
    return first, concept.text


def timing(v: Any, path: str, sfx: str = "") -> Timing:
    # Absent fields are not handed to their readers (each would return None): the common timing is a bare
    # repeat with a frequency and a period, and the reads that remain are in the same order as the fields
    # below, so a resource with two bad fields still reports the same first one.
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return Timing()
    code: str | None = None
    code_text: str | None = None
    if (raw_code := o.get("code")) is not None:
        code_concept = concept(raw_code, path, ".code")
        if code_concept is not None:
            code, code_text = _timing_code(code_concept)
    rp = obj(o.get("repeat"), path, ".repeat")
    if rp is None:
        return Timing(code=code, code_text=code_text)
    get = rp.get
    bp = obj(get("boundsPeriod"), path, ".repeat.boundsPeriod")
    frequency = integer(get("frequency"), path, ".repeat.frequency")
    frequency_max = integer(get("frequencyMax"), path, ".repeat.frequencyMax")
    period = number(get("period"), path, ".repeat.period")
    period_max = number(get("periodMax"), path, ".repeat.periodMax")
    period_unit = string(get("periodUnit"), path, ".repeat.periodUnit")
    count = integer(get("count"), path, ".repeat.count")
    bounds = get("boundsDuration")
    bounds_days = duration_days(bounds, path, ".repeat.boundsDuration") if bounds is not None else None
    when_raw = get("when")
    return Timing(
        frequency,
        frequency_max,
        period,
        period_max,
        period_unit,
        count,
        code,
        code_text,
        bounds_days,
        date_time(bp.get("start"), path, ".repeat.boundsPeriod.start") if bp else None,
        date_time(bp.get("end"), path, ".repeat.boundsPeriod.end") if bp else None,
        True,
        ()
        if when_raw is None
        else tuple(
            w for i, w in enumerate(array(when_raw, path, ".repeat.when")) if string(w, f"{path}.repeat.when[{i}]")
        ),
    )


def dosage(v: Any, path: str, index: int) -> Dosage:
    # As in `timing`: absent fields skip their readers, and the fields are read in the order they always were.
    o = obj(v, path) or {}
    get = o.get
    dose = low = high = rate = None
    rate_text = None
    dar_raw = get("doseAndRate")
    if isinstance(dar_raw, dict):  # seen in the wild (and in spec examples): an object instead of an array
        dar_raw = [dar_raw]
    for i, raw in enumerate(array(dar_raw, path, ".doseAndRate")):
        dar = raw if type(raw) is dict else (obj(raw, f"{path}.doseAndRate[{i}]") or {})
        dose_q, dose_range, rate_q = dar.get("doseQuantity"), dar.get("doseRange"), dar.get("rateQuantity")
        if dose is None and low is None:
            if dose_q is not None:
                dose = quantity(dose_q, f"{path}.doseAndRate[{i}]", ".doseQuantity")
            if dose_range is not None:
                p = f"{path}.doseAndRate[{i}]"
                rng = obj(dose_range, p, ".doseRange")
                if rng is not None:
                    low = quantity(rng.get("low"), p, ".doseRange.low")
                    high = quantity(rng.get("high"), p, ".doseRange.high")
        if rate is None:
            if rate_q is not None:
                rate = quantity(rate_q, f"{path}.doseAndRate[{i}]", ".rateQuantity")
            if rate is None and dar.get("rateRatio") is not None:
                rate_text = "rateRatio"
            if rate is None and dar.get("rateRange") is not None:
                rate_text = "rateRange"
    # STU3 shape (doseQuantity directly on the dosage), as in the CDS Hooks library's R4 example.
    if dose is None and low is None and "doseQuantity" in o:
        dose = quantity(get("doseQuantity"), path, ".doseQuantity")
    if dose is None and low is None and "doseRange" in o:
        rng = obj(get("doseRange"), path, ".doseRange")
        if rng is not None:
            low = quantity(rng.get("low"), path, ".doseRange.low")
            high = quantity(rng.get("high"), path, ".doseRange.high")
    if rate is None and "rateQuantity" in o:
        rate = quantity(get("rateQuantity"), path, ".rateQuantity")
    extra: list[str] = []
    if (additional := get("additionalInstruction")) is not None:
        for c in concepts(additional, path, ".additionalInstruction"):
            if instruction := c.all_text():
                extra.append(instruction)
    if pi := string(get("patientInstruction"), path, ".patientInstruction"):
        extra.append(pi)
    as_needed = bool(boolean(get("asNeededBoolean"), path, ".asNeededBoolean"))
    as_needed_raw = get("asNeededCodeableConcept")
    as_needed_concept = concept(as_needed_raw, path, ".asNeededCodeableConcept") if as_needed_raw is not None else None
    sequence = integer(get("sequence"), path, ".sequence")
    text = string(get("text"), path, ".text")
    route_raw, method_raw = get("route"), get("method")
    route = concept(route_raw, path, ".route") if route_raw is not None else None
    method = concept(method_raw, path, ".method") if method_raw is not None else None
    timing_raw = get("timing")
    return Dosage(
        index,
        sequence,
        text,
        dose,
        low,
        high,
        rate,
        rate_text,
        route,
        method,
        timing(timing_raw, path, ".timing") if timing_raw is not None else Timing(),
        as_needed or as_needed_concept is not None,
        as_needed_concept.label if as_needed_concept else None,
        tuple(extra),
    )


def plain_dosage(o: dict[str, Any], index: int) -> Dosage | None:
    """`dosage` for the common shape, with no path built: one doseAndRate with a plain doseQuantity, plain
    text, route, method, sequence, asNeededBoolean, patientInstruction and a plain timing. None for any other
    shape or type, and the checked `dosage` then reads it (naming the first bad field, as it always did)."""
    if not _CHECKED_ONLY_DOSAGE.isdisjoint(o):
        return None
    get = o.get
    dose: Quantity | None = None
    dar_raw = get("doseAndRate")
    if dar_raw is not None:
        if type(dar_raw) is not list or len(dar_raw) != 1 or type(dar := dar_raw[0]) is not dict:
            return None
        if len(dar) != ("doseQuantity" in dar) + ("type" in dar):  # a dose (and its type), no rate, no range
            return None
        dose_q = dar.get("doseQuantity")
        if dose_q is not None and (type(dose_q) is not dict or (dose := plain_quantity(dose_q)) is None):
            return None
    pi, as_needed, sequence, text = get("patientInstruction"), get("asNeededBoolean"), get("sequence"), get("text")
    if not (
        (pi is None or type(pi) is str)
        and (as_needed is None or type(as_needed) is bool)
        and (sequence is None or type(sequence) is int)
        and (text is None or type(text) is str)
    ):
        return None
    route = method = None
    route_raw, method_raw = get("route"), get("method")
    if route_raw is not None and (type(route_raw) is not dict or (route := plain_concept(route_raw)) is None):
        return None
    if method_raw is not None and (type(method_raw) is not dict or (method := plain_concept(method_raw)) is None):
        return None
    timing_raw = get("timing")
    if timing_raw is None:
        t = _NO_TIMING
    elif type(timing_raw) is not dict or (plain_t := _plain_timing(timing_raw)) is None:
        return None
    else:
        t = plain_t
    # A patient's own instruction is not kept (free text written for one patient); the dosage is built anew.
    key = None if pi else (index, sequence, text, id(dose), id(route), id(method), id(t), as_needed)
    known = _DOSAGES.get(key) if key is not None else None
    if known is None:
        known = Dosage(
            index,
            None if sequence is None else int(float(sequence)),  # as `integer` reads an int
            text,
            dose,
            None,
            None,
            None,
            None,
            route,
            method,
            t,
            bool(as_needed),
            None,
            (pi,) if pi else (),
        )
        if key is not None:
            if len(_DOSAGES) >= 4096:
                _DOSAGES.clear()
            _DOSAGES[key] = known
    return known


def _plain_timing(o: dict[str, Any]) -> Timing | None:
    """`timing` for a plain repeat (integer frequencies and count, numeric periods, a string unit) and an
    optional plain code; None for any other shape or type."""
    code: str | None = None
    code_text: str | None = None
    raw_code = o.get("code")
    if raw_code is not None:
        if type(raw_code) is not dict or (code_concept := plain_concept(raw_code)) is None:
            return None
        code, code_text = _timing_code(code_concept)
    rp = o.get("repeat")
    if rp is None:
        return Timing(code=code, code_text=code_text)
    if type(rp) is not dict or not _CHECKED_ONLY_REPEAT.isdisjoint(rp):
        return None
    get = rp.get
    frequency, frequency_max, count = get("frequency"), get("frequencyMax"), get("count")
    period, period_max, period_unit = get("period"), get("periodMax"), get("periodUnit")
    if not (
        (frequency is None or type(frequency) is int)
        and (frequency_max is None or type(frequency_max) is int)
        and (count is None or type(count) is int)
        and (period is None or type(period) is float or type(period) is int)  # not bool
        and (period_max is None or type(period_max) is float or type(period_max) is int)
        and (period_unit is None or type(period_unit) is str)
    ):
        return None
    key = None
    if raw_code is None and (period is None or period) and (period_max is None or period_max):
        key = (frequency, frequency_max, count, period, period_max, period_unit)
        if (known := _TIMINGS.get(key)) is not None:
            return known
    read = Timing(
        None if frequency is None else int(float(frequency)),  # as `integer` reads an int
        None if frequency_max is None else int(float(frequency_max)),
        None if period is None else float(period),
        None if period_max is None else float(period_max),
        period_unit,
        None if count is None else int(float(count)),
        code,
        code_text,
        None,
        None,
        None,
        True,
        (),
    )
    if key is not None:
        if len(_TIMINGS) >= 4096:
            _TIMINGS.clear()
        _TIMINGS[key] = read
    return read


# The fields `plain_dosage` reads, by object (`only_read`).
_READ_DOSAGE = frozenset({"text", "sequence", "asNeededBoolean", "route", "method", "timing", "doseAndRate"})
_READ_CONCEPT = frozenset({"coding", "text"})
_READ_CODING = frozenset({"system", "code", "display"})
_READ_QUANTITY = frozenset({"value", "unit", "system", "code"})
_READ_TIMING = frozenset({"repeat", "code"})
_READ_REPEAT = frozenset({"frequency", "frequencyMax", "count", "period", "periodMax", "periodUnit"})


def plain_dosages(raw_dosages: list[Any]) -> tuple[Dosage, ...] | None:
    """`plain_dosage` of each dosage of an order (its index its place), or None when any is not plain."""
    read = []
    for i, raw in enumerate(raw_dosages):
        if type(raw) is not dict or (d := plain_dosage(raw, i)) is None:
            return None
        read.append(d)
    return tuple(read)


def only_read(raw_dosages: Iterable[dict[str, Any]]) -> bool:
    """Every field of these plain dosages (read by `plain_dosages`) is one the plain reader reads: no
    patientInstruction (free text for one patient), no extension, nothing it does not show."""
    return all(_only_read(raw) for raw in raw_dosages)


def _only_read(o: dict[str, Any]) -> bool:
    """Every field of a plain dosage (read by `plain_dosage`) is one it reads."""
    if not _READ_DOSAGE.issuperset(o):
        return False
    for name in ("route", "method"):
        c = o.get(name)
        if c is not None and not only_read_concept(c):
            return False
    dar = o.get("doseAndRate")  # plain: one object, its doseQuantity (and an unread `type`)
    if dar is not None and not (
        dar[0].keys() == {"doseQuantity"} and _READ_QUANTITY.issuperset(dar[0]["doseQuantity"])
    ):
        return False
    timing = o.get("timing")
    if timing is None:
        return True
    repeat, code = timing.get("repeat"), timing.get("code")
    return (
        _READ_TIMING.issuperset(timing)
        and (repeat is None or _READ_REPEAT.issuperset(repeat))
        and (code is None or only_read_concept(code))
    )


def only_read_concept(c: dict[str, Any]) -> bool:
    """Every field of a plain concept is one `plain_concept` reads."""
    return _READ_CONCEPT.issuperset(c) and all(_READ_CODING.issuperset(x) for x in c.get("coding") or ())
