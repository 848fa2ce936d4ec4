"""Dosage and Timing: dose quantity or range, rate, route, method, the timing's code and repeat, PRN."""

from __future__ import annotations

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
    quantity,
    string,
)
from linter.model import Concept, Dosage, Timing
from linter.terminology import terminology


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
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return Timing()
    code_concept = concept(o.get("code"), path, ".code")
    code: str | None = None
    code_text: str | None = None
    if code_concept is not None:
        code, code_text = _timing_code(code_concept)
    rp = obj(o.get("repeat"), path, ".repeat")
    if rp is None:
        return Timing(code=code, code_text=code_text)
    bp = obj(rp.get("boundsPeriod"), path, ".repeat.boundsPeriod")
    return Timing(
        frequency=integer(rp.get("frequency"), path, ".repeat.frequency"),
        frequency_max=integer(rp.get("frequencyMax"), path, ".repeat.frequencyMax"),
        period=number(rp.get("period"), path, ".repeat.period"),
        period_max=number(rp.get("periodMax"), path, ".repeat.periodMax"),
        period_unit=string(rp.get("periodUnit"), path, ".repeat.periodUnit"),
        count=integer(rp.get("count"), path, ".repeat.count"),
        code=code,
        code_text=code_text,
        bounds_duration_days=duration_days(rp.get("boundsDuration"), path, ".repeat.boundsDuration"),
        bounds_start=date_time(bp.get("start"), path, ".repeat.boundsPeriod.start") if bp else None,
        bounds_end=date_time(bp.get("end"), path, ".repeat.boundsPeriod.end") if bp else None,
        has_repeat=True,
        when=tuple(
            w
            for i, w in enumerate(array(rp.get("when"), path, ".repeat.when"))
            if string(w, f"{path}.repeat.when[{i}]")
        ),
    )


def dosage(v: Any, path: str, index: int) -> Dosage:
    o = obj(v, path) or {}
    dose = low = high = rate = None
    rate_text = None
    dar_raw = o.get("doseAndRate")
    if isinstance(dar_raw, dict):  # seen in the wild (and in spec examples): an object instead of an array
        dar_raw = [dar_raw]
    for i, raw in enumerate(array(dar_raw, path, ".doseAndRate")):
        dar = obj(raw, f"{path}.doseAndRate[{i}]") or {}
        p = f"{path}.doseAndRate[{i}]"
        if dose is None and low is None:
            dose = quantity(dar.get("doseQuantity"), p, ".doseQuantity")
            rng = obj(dar.get("doseRange"), p, ".doseRange")
            if rng is not None:
                low = quantity(rng.get("low"), p, ".doseRange.low")
                high = quantity(rng.get("high"), p, ".doseRange.high")
        if rate is None:
            rate = quantity(dar.get("rateQuantity"), p, ".rateQuantity")
            if rate is None and dar.get("rateRatio") is not None:
                rate_text = "rateRatio"
            if rate is None and dar.get("rateRange") is not None:
                rate_text = "rateRange"
    # STU3 shape (doseQuantity directly on the dosage), as in the CDS Hooks library's R4 example.
    if dose is None and low is None and "doseQuantity" in o:
        dose = quantity(o.get("doseQuantity"), path, ".doseQuantity")
    if dose is None and low is None and "doseRange" in o:
        rng = obj(o.get("doseRange"), path, ".doseRange")
        if rng is not None:
            low = quantity(rng.get("low"), path, ".doseRange.low")
            high = quantity(rng.get("high"), path, ".doseRange.high")
    if rate is None and "rateQuantity" in o:
        rate = quantity(o.get("rateQuantity"), path, ".rateQuantity")
    extra: list[str] = []
    for c in concepts(o.get("additionalInstruction"), path, ".additionalInstruction"):
        if text := c.all_text():
            extra.append(text)
    if pi := string(o.get("patientInstruction"), path, ".patientInstruction"):
        extra.append(pi)
    as_needed = bool(boolean(o.get("asNeededBoolean"), path, ".asNeededBoolean"))
    as_needed_concept = concept(o.get("asNeededCodeableConcept"), path, ".asNeededCodeableConcept")
    return Dosage(
        index=index,
        sequence=integer(o.get("sequence"), path, ".sequence"),
        text=string(o.get("text"), path, ".text"),
        dose=dose,
        dose_low=low,
        dose_high=high,
        rate=rate,
        rate_text=rate_text,
        route=concept(o.get("route"), path, ".route"),
        method=concept(o.get("method"), path, ".method"),
        timing=timing(o.get("timing"), path, ".timing"),
        as_needed=as_needed or as_needed_concept is not None,
        as_needed_text=as_needed_concept.label if as_needed_concept else None,
        extra_text=tuple(extra),
    )
