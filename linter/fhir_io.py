"""FHIR in: Bundle / resource / NDJSON / CDS Hooks request -> the normalized model (linter.model).

The only module that imports fhir.resources. We use its `R4B` models: R4B (4.3) is wire-compatible with
R4 (4.0.1) for every element orderlint reads (MedicationRequest, Medication, ServiceRequest, Procedure,
Observation, Condition, Goal, Patient, Bundle). Limits of that choice: R4B validates a few R4-only shapes
differently (e.g. R4B has no `MedicinalProduct*` resources and renames some evidence resources); none of
them carry order data.

Two modes:
- strict (CLI and upload default): every resource is validated by fhir.resources; one that fails is
  reported (DQ904: which field, why) and not checked.
- fast (service default): only the fields the rules read are read and type-checked here; a wrong type in
  one of them is DQ904 for that resource. Both modes build the same model, so findings are the same on
  valid input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import orjson

from linter import context as ctxmod
from linter.errors import InputError
from linter.model import (
    ActTarget,
    Coding,
    Concept,
    ConditionRecord,
    DataGap,
    Dosage,
    DrugIdentity,
    InvalidResource,
    MedicationOrder,
    OrderSet,
    PatientContext,
    ProcedureOrder,
    Quantity,
    Strength,
    Timing,
    Weight,
)
from linter.terminology import terminology
from linter.units import convert

Mode = Literal["fast", "strict"]
ContextKind = Literal["btk", "pad"]

WEIGHT_LOINC = frozenset({"29463-7", "3141-9", "8349-3"})
ACT_LOINC = frozenset({"3184-9", "80658-8", "96681-2", "96683-8"})
ORDER_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "Procedure"})
# Strict mode validates the resource types orderlint reads; a Claim or an Encounter it never reads is not
# reported (it was not going to be checked anyway).
READ_TYPES = frozenset(
    {"MedicationRequest", "MedicationStatement", "Medication", "ServiceRequest", "Procedure", "Observation",
     "Condition", "Goal", "Patient", "Device"}
)
REVIEW_MED_STATUS = frozenset({"draft", "active", "on-hold"})
REVIEW_PROC_STATUS = frozenset({"preparation", "in-progress"})
HISTORIC_CONDITION = frozenset({"inactive", "resolved", "remission"})
HISTORY_STATUS = frozenset({"completed", "stopped", "cancelled", "entered-in-error", "revoked", "not-done"})


class _Bad(Exception):
    """A field orderlint reads has the wrong shape (fast-mode DQ904)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


# ---------------------------------------------------------------------------------------------------------
# Typed readers over raw JSON (fast mode reads only these fields)
# ---------------------------------------------------------------------------------------------------------


def _obj(v: Any, path: str, sfx: str = "") -> Mapping[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise _Bad(path + sfx, f"expected an object, got {type(v).__name__}")
    return v


def _list(v: Any, path: str, sfx: str = "") -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise _Bad(path + sfx, f"expected an array, got {type(v).__name__}")
    return v


def _str(v: Any, path: str, sfx: str = "") -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise _Bad(path + sfx, f"expected a string, got {type(v).__name__}")
    return v


def _num(v: Any, path: str, sfx: str = "") -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _Bad(path + sfx, f"expected a number, got {type(v).__name__} {v!r}"[:120])
    return float(v)


def _int(v: Any, path: str, sfx: str = "") -> int | None:
    n = _num(v, path, sfx)
    if n is None:
        return None
    if n != int(n):
        raise _Bad(path + sfx, f"expected an integer, got {v!r}")
    return int(n)


def _bool(v: Any, path: str, sfx: str = "") -> bool | None:
    if v is None:
        return None
    if not isinstance(v, bool):
        raise _Bad(path + sfx, f"expected true or false, got {v!r}"[:120])
    return v


_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?")


def _datetime(v: Any, path: str, sfx: str = "") -> datetime | None:
    s = _str(v, path, sfx)
    if not s:
        return None
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
        raise _Bad(path + sfx, f"not a FHIR date/dateTime: {s!r}") from exc


def _coding(v: Any, path: str, sfx: str = "") -> Coding | None:
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return None
    return Coding(
        _str(o.get("system"), path, ".system"),
        _str(o.get("code"), path, ".code"),
        _str(o.get("display"), path, ".display"),
    )


def _concept(v: Any, path: str, sfx: str = "") -> Concept | None:
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return None
    raw_codings = o.get("coding")
    codings: tuple[Coding, ...] = ()
    if raw_codings:
        items = _list(raw_codings, path, ".coding")
        codings = tuple(c for i, raw in enumerate(items) if (c := _coding(raw, f"{path}.coding[{i}]")) is not None)
    return Concept(codings, _str(o.get("text"), path, ".text"))


def _concepts(v: Any, path: str, sfx: str = "") -> tuple[Concept, ...]:
    if sfx:
        path += sfx
    return tuple(
        c for i, raw in enumerate(_list(v, path)) if (c := _concept(raw, f"{path}[{i}]")) is not None
    )


def _quantity(v: Any, path: str, sfx: str = "") -> Quantity | None:
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return None
    value = _num(o.get("value"), path, ".value")
    if value is None:
        raise _Bad(f"{path}.value", "a dose quantity without a value")
    return Quantity(
        value,
        _str(o.get("unit"), path, ".unit"),
        _str(o.get("system"), path, ".system"),
        _str(o.get("code"), path, ".code"),
    )


def _reference(v: Any, path: str, sfx: str = "") -> str | None:
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return None
    return _str(o.get("reference"), path, ".reference")


def _annotation_texts(v: Any, path: str, sfx: str = "") -> tuple[str, ...]:
    if sfx:
        path += sfx
    out = []
    for i, raw in enumerate(_list(v, path)):
        o = _obj(raw, f"{path}[{i}]")
        if o is not None and (t := _str(o.get("text"), f"{path}[{i}].text")):
            out.append(t)
    return tuple(out)


def _duration_days(v: Any, path: str, sfx: str = "") -> float | None:
    if sfx:
        path += sfx
    from linter.units import duration_days

    o = _obj(v, path)
    if o is None:
        return None
    value = _num(o.get("value"), path, ".value")
    unit = _str(o.get("code"), path, ".code") or _str(o.get("unit"), path, ".unit") or "d"
    if value is None:
        return None
    return duration_days(value, unit)


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


def _timing(v: Any, path: str, sfx: str = "") -> Timing:
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return Timing()
    code_concept = _concept(o.get("code"), path, ".code")
    code: str | None = None
    code_text: str | None = None
    if code_concept is not None:
        code, code_text = _timing_code(code_concept)
    rp = _obj(o.get("repeat"), path, ".repeat")
    if rp is None:
        return Timing(code=code, code_text=code_text)
    bp = _obj(rp.get("boundsPeriod"), path, ".repeat.boundsPeriod")
    return Timing(
        frequency=_int(rp.get("frequency"), path, ".repeat.frequency"),
        frequency_max=_int(rp.get("frequencyMax"), path, ".repeat.frequencyMax"),
        period=_num(rp.get("period"), path, ".repeat.period"),
        period_max=_num(rp.get("periodMax"), path, ".repeat.periodMax"),
        period_unit=_str(rp.get("periodUnit"), path, ".repeat.periodUnit"),
        count=_int(rp.get("count"), path, ".repeat.count"),
        code=code,
        code_text=code_text,
        bounds_duration_days=_duration_days(rp.get("boundsDuration"), path, ".repeat.boundsDuration"),
        bounds_start=_datetime(bp.get("start"), path, ".repeat.boundsPeriod.start") if bp else None,
        bounds_end=_datetime(bp.get("end"), path, ".repeat.boundsPeriod.end") if bp else None,
        has_repeat=True,
        when=tuple(
            w
            for i, w in enumerate(_list(rp.get("when"), path, ".repeat.when"))
            if _str(w, f"{path}.repeat.when[{i}]")
        ),
    )


def _dosage(v: Any, path: str, index: int) -> Dosage:
    o = _obj(v, path) or {}
    dose = low = high = rate = None
    rate_text = None
    dar_raw = o.get("doseAndRate")
    if isinstance(dar_raw, dict):  # seen in the wild (and in spec examples): an object instead of an array
        dar_raw = [dar_raw]
    for i, raw in enumerate(_list(dar_raw, path, ".doseAndRate")):
        dar = _obj(raw, f"{path}.doseAndRate[{i}]") or {}
        p = f"{path}.doseAndRate[{i}]"
        if dose is None and low is None:
            dose = _quantity(dar.get("doseQuantity"), p, ".doseQuantity")
            rng = _obj(dar.get("doseRange"), p, ".doseRange")
            if rng is not None:
                low = _quantity(rng.get("low"), p, ".doseRange.low")
                high = _quantity(rng.get("high"), p, ".doseRange.high")
        if rate is None:
            rate = _quantity(dar.get("rateQuantity"), p, ".rateQuantity")
            if rate is None and dar.get("rateRatio") is not None:
                rate_text = "rateRatio"
            if rate is None and dar.get("rateRange") is not None:
                rate_text = "rateRange"
    # STU3 shape (doseQuantity directly on the dosage), as in the CDS Hooks library's R4 example.
    if dose is None and low is None and "doseQuantity" in o:
        dose = _quantity(o.get("doseQuantity"), path, ".doseQuantity")
    if dose is None and low is None and "doseRange" in o:
        rng = _obj(o.get("doseRange"), path, ".doseRange")
        if rng is not None:
            low = _quantity(rng.get("low"), path, ".doseRange.low")
            high = _quantity(rng.get("high"), path, ".doseRange.high")
    if rate is None and "rateQuantity" in o:
        rate = _quantity(o.get("rateQuantity"), path, ".rateQuantity")
    extra: list[str] = []
    for c in _concepts(o.get("additionalInstruction"), path, ".additionalInstruction"):
        if text := c.all_text():
            extra.append(text)
    if pi := _str(o.get("patientInstruction"), path, ".patientInstruction"):
        extra.append(pi)
    as_needed = bool(_bool(o.get("asNeededBoolean"), path, ".asNeededBoolean"))
    as_needed_concept = _concept(o.get("asNeededCodeableConcept"), path, ".asNeededCodeableConcept")
    return Dosage(
        index=index,
        sequence=_int(o.get("sequence"), path, ".sequence"),
        text=_str(o.get("text"), path, ".text"),
        dose=dose,
        dose_low=low,
        dose_high=high,
        rate=rate,
        rate_text=rate_text,
        route=_concept(o.get("route"), path, ".route"),
        method=_concept(o.get("method"), path, ".method"),
        timing=_timing(o.get("timing"), path, ".timing"),
        as_needed=as_needed or as_needed_concept is not None,
        as_needed_text=as_needed_concept.label if as_needed_concept else None,
        extra_text=tuple(extra),
    )


# ---------------------------------------------------------------------------------------------------------
# Resource -> model
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Index:
    """Resources by "Type/id" and by fullUrl, for resolving references (contained first)."""

    by_ref: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def add(self, resource: Mapping[str, Any], full_url: str | None) -> None:
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(rtype, str) and isinstance(rid, str):
            self.by_ref[f"{rtype}/{rid}"] = resource
        if full_url:
            self.by_ref[full_url] = resource

    def resolve(self, ref: str | None, container: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if not ref:
            return None
        if ref.startswith("#"):
            contained = container.get("contained")
            for c in contained if isinstance(contained, list) else ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c
            return None
        if ref in self.by_ref:
            return self.by_ref[ref]
        tail = "/".join(ref.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
        return self.by_ref.get(tail)


def _ref_of(resource: Mapping[str, Any], fallback: str) -> str:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return fallback


def _ratio_strength(v: Any, path: str, sfx: str = "") -> Strength | None:
    """Medication.ingredient.strength (a Ratio): 2.5 mg per 1 tablet, or 1,000 units per 1 mL."""
    if sfx:
        path += sfx
    o = _obj(v, path)
    if o is None:
        return None
    num = _quantity(o.get("numerator"), path, ".numerator")
    den = _quantity(o.get("denominator"), path, ".denominator")
    if num is None:
        return None
    unit = num.code or num.unit or ""
    form: str | None = None
    per_unit: str | None = None
    if den is not None:
        count = terminology().count_form(den.system, den.code, den.unit)
        if count is not None:
            form = count.display if count.key != "each" else None  # "per 1 tablet": a count of the form
        else:
            per_unit = den.code or den.unit or None
    return Strength(num.value, unit, (den.value if den else None) or 1.0, per_unit, source="medication", form=form)


def _product_strength(
    drug: DrugIdentity,
    med_strength: Strength | None,
    med_form: str | None,
    concepts: Sequence[Concept],
) -> Strength | None:
    """The strength per unit of the dose form, in RULES.md's order: the Medication's ingredient.strength, the
    coded SCD/SBD we know, then the strength written in the product's RxNorm name (last resort)."""
    if med_strength is not None:
        return replace(med_strength, form=med_form or med_strength.form or drug.dose_form)
    if drug.strength is not None:
        return drug.strength
    t = terminology()
    names = [c.display for concept in concepts for c in concept.codings if t.system_key(c.system) == "rxnorm"]
    names += [c.display for concept in concepts for c in concept.codings if t.system_key(c.system) != "rxnorm"]
    names += [concept.text for concept in concepts]
    for name in names:
        found = t.strength_from_name(name)
        if found is not None:
            return found
    return None


def _ingredient_strength(strengths: list[tuple[Concept | None, Strength]]) -> Strength | None:
    """The strength of a Medication: its one ingredient's, or, for several, the one ingredient that is a drug
    the rules know (a combination of two known drugs has no single strength: None)."""
    if len(strengths) == 1:
        return strengths[0][1]
    t = terminology()
    known = [st for concept, st in strengths if concept is not None and t.identify_drug([concept]).drugs]
    return known[0] if len(known) == 1 else None


def _medication_order(
    r: Mapping[str, Any], path: str, ref: str, index: _Index, under_review: bool
) -> MedicationOrder:
    t = terminology()
    concepts: list[Concept] = []
    medication = _concept(r.get("medicationCodeableConcept"), path, ".medicationCodeableConcept")
    ingredient_concepts: list[Concept] = []
    med_strength: Strength | None = None
    med_form: str | None = None
    med_ref = _reference(r.get("medicationReference"), path, ".medicationReference")
    if medication is None and med_ref is not None:
        med = index.resolve(med_ref, r)
        display = None
        mr = _obj(r.get("medicationReference"), path, ".medicationReference")
        if mr is not None:
            display = _str(mr.get("display"), path, ".medicationReference.display")
        if med is not None:
            mpath = f"{path}.medicationReference({med_ref})"
            medication = _concept(med.get("code"), mpath, ".code")
            form = _concept(med.get("form"), mpath, ".form")
            med_form = form.label if form else None
            strengths: list[tuple[Concept | None, Strength]] = []
            for i, ing in enumerate(_list(med.get("ingredient"), mpath, ".ingredient")):
                ingo = _obj(ing, f"{mpath}.ingredient[{i}]") or {}
                ic = _concept(ingo.get("itemCodeableConcept"), f"{mpath}.ingredient[{i}].itemCodeableConcept")
                if ic is not None:
                    ingredient_concepts.append(ic)
                st = _ratio_strength(ingo.get("strength"), f"{mpath}.ingredient[{i}].strength")
                if st is not None:
                    origin = f"{_ref_of(med, med_ref)} ingredient.strength"
                    strengths.append((ic, replace(st, origin=origin)))
            med_strength = _ingredient_strength(strengths)
        if medication is None:
            medication = Concept((), display)
    if medication is None:
        medication = Concept()
    concepts.append(medication)
    concepts.extend(ingredient_concepts)
    drug = t.identify_drug(concepts)
    strength = _product_strength(drug, med_strength, med_form, concepts)
    if strength is not None:
        drug = replace(drug, strength=strength, dose_form=drug.dose_form or med_form or strength.form)
    # MedicationStatement (active medications in context) names its dosages "dosage".
    dosage_key = "dosage" if r.get("resourceType") == "MedicationStatement" else "dosageInstruction"
    dosages = tuple(
        _dosage(raw, f"{path}.{dosage_key}[{i}]", i)
        for i, raw in enumerate(_list(r.get(dosage_key), path, "." + dosage_key))
    )
    disp = _obj(r.get("dispenseRequest"), path, ".dispenseRequest")
    supply = validity_start = validity_end = None
    if disp is not None:
        supply = _duration_days(
            disp.get("expectedSupplyDuration"), f"{path}.dispenseRequest.expectedSupplyDuration"
        )
        vp = _obj(disp.get("validityPeriod"), path, ".dispenseRequest.validityPeriod")
        if vp is not None:
            validity_start = _datetime(vp.get("start"), path, ".dispenseRequest.validityPeriod.start")
            validity_end = _datetime(vp.get("end"), path, ".dispenseRequest.validityPeriod.end")
    status = _str(r.get("status"), path, ".status")
    notes = _annotation_texts(r.get("note"), path, ".note")
    return MedicationOrder(
        ref=ref,
        resource_type=str(r.get("resourceType")),
        id=_str(r.get("id"), path, ".id"),
        status=status,
        intent=_str(r.get("intent"), path, ".intent"),
        medication=medication,
        drug=drug,
        dosages=dosages,
        notes=notes,
        expected_supply_days=supply,
        validity_start=validity_start,
        validity_end=validity_end,
        authored_on=_datetime(r.get("authoredOn"), path, ".authoredOn"),
        ingredient_concepts=tuple(ingredient_concepts),
        under_review=under_review,
    )


def _procedure_order(
    r: Mapping[str, Any], path: str, ref: str, index: _Index, under_review: bool
) -> ProcedureOrder:
    rtype = str(r.get("resourceType"))
    code = _concept(r.get("code"), path, ".code") or Concept()
    reasons = _concepts(r.get("reasonCode"), path, ".reasonCode")
    reason_refs = tuple(
        x
        for i, raw in enumerate(_list(r.get("reasonReference"), path, ".reasonReference"))
        if (x := _reference(raw, f"{path}.reasonReference[{i}]"))
    )
    body_sites = _concepts(r.get("bodySite"), path, ".bodySite")
    devices: list[Concept] = []
    if rtype == "Procedure":
        for i, raw in enumerate(_list(r.get("focalDevice"), path, ".focalDevice")):
            fd = _obj(raw, f"{path}.focalDevice[{i}]") or {}
            manip = _obj(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated")
            if manip and (d := _str(manip.get("display"), f"{path}.focalDevice[{i}].manipulated.display")):
                devices.append(Concept((), d))
            dev = index.resolve(_reference(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        devices.extend(_concepts(r.get("usedCode"), path, ".usedCode"))
        for i, raw in enumerate(_list(r.get("usedReference"), path, ".usedReference")):
            dev = index.resolve(_reference(raw, f"{path}.usedReference[{i}]"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        occurrence = _datetime(r.get("performedDateTime"), path, ".performedDateTime")
        if occurrence is None and (pp := _obj(r.get("performedPeriod"), path, ".performedPeriod")):
            occurrence = _datetime(pp.get("start"), path, ".performedPeriod.start")
    else:
        occurrence = _datetime(r.get("occurrenceDateTime"), path, ".occurrenceDateTime")
        if occurrence is None and (op := _obj(r.get("occurrencePeriod"), path, ".occurrencePeriod")):
            occurrence = _datetime(op.get("start"), path, ".occurrencePeriod.start")
        if occurrence is None:
            occurrence = _datetime(r.get("authoredOn"), path, ".authoredOn")
        # ServiceRequest carries devices only by text/extension; orderDetail often names the device.
        devices.extend(_concepts(r.get("orderDetail"), path, ".orderDetail"))
    notes = _annotation_texts(r.get("note"), path, ".note")
    extra = [d.all_text() for d in devices]
    if pi := _str(r.get("patientInstruction"), path, ".patientInstruction"):
        notes = (*notes, pi)  # instructions are read like notes (an ACT target may be written there)
    identity = ctxmod.identify_procedure(code, body_sites, [*extra, *notes])
    return ProcedureOrder(
        ref=ref,
        resource_type=rtype,
        id=_str(r.get("id"), path, ".id"),
        status=_str(r.get("status"), path, ".status"),
        intent=_str(r.get("intent"), path, ".intent"),
        code=code,
        identity=identity,
        reasons=reasons,
        reason_refs=reason_refs,
        body_sites=body_sites,
        devices=tuple(devices),
        occurrence=occurrence,
        notes=notes,
        under_review=under_review,
    )


def _device_concepts(dev: Mapping[str, Any]) -> list[Concept]:
    out: list[Concept] = []
    if isinstance(dev.get("type"), dict):
        c = _concept(dev.get("type"), "Device.type")
        if c is not None:
            out.append(c)
    names = dev.get("deviceName")
    for dn in names if isinstance(names, list) else ():
        if isinstance(dn, dict) and isinstance(dn.get("name"), str):
            out.append(Concept((), dn["name"]))
    if isinstance(dev.get("code"), dict):  # DeviceDefinition-like shapes
        c = _concept(dev.get("code"), "Device.code")
        if c is not None:
            out.append(c)
    return out


def _is_code(concept: Concept | None, system_key: str, codes: frozenset[str]) -> bool:
    if concept is None:
        return False
    t = terminology()
    return any(t.system_key(c.system) == system_key and (c.code or "") in codes for c in concept.codings)


def _mentions_code(r: Mapping[str, Any], codes: frozenset[str]) -> bool:
    """Cheap look at code.coding[].code before reading an Observation in full: most are not weights."""
    code = r.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list):
        return False
    # A code of another JSON type (a list is unhashable) may be the one that matters (a body weight, a
    # goal's ACT): the full read then reports it as DQ904 naming the path, as strict mode would.
    return any(
        isinstance(c, dict) and (c["code"] in codes if isinstance(c.get("code"), str) else "code" in c)
        for c in codings
    )


def _weight(r: Mapping[str, Any], path: str, ref: str) -> tuple[Weight | None, str | None]:
    if not _mentions_code(r, WEIGHT_LOINC):
        return None, None
    code = _concept(r.get("code"), path, ".code")
    if not _is_code(code, "loinc", WEIGHT_LOINC):
        return None, None
    status = _str(r.get("status"), path, ".status")
    if status in ("entered-in-error", "cancelled"):
        return None, None
    q = (
        _quantity(r.get("valueQuantity"), path, ".valueQuantity")
        if r.get("valueQuantity") is not None
        else None
    )
    eff = _datetime(r.get("effectiveDateTime"), path, ".effectiveDateTime")
    if eff is None and (ep := _obj(r.get("effectivePeriod"), path, ".effectivePeriod")):
        eff = _datetime(ep.get("end"), path, ".effectivePeriod.end") or _datetime(
            ep.get("start"), path, ".effectivePeriod.start"
        )
    if eff is None:
        eff = _datetime(r.get("issued"), path, ".issued")
    if q is None:
        return None, f"{ref} has no valueQuantity"
    conv = convert(q, "kg")
    from linter.units import Converted

    if not isinstance(conv, Converted):
        return None, f"{ref}: {conv.message}"
    if conv.value <= 0:
        return None, f"{ref}: a body weight of {q.value} is not plausible"
    return Weight(conv.value, eff, ref, f"{q.value:g} {q.code or q.unit or ''}".strip()), None


def _condition(r: Mapping[str, Any], path: str, ref: str) -> ConditionRecord | None:
    code = _concept(r.get("code"), path, ".code")
    if code is None:
        return None
    clinical = _concept(r.get("clinicalStatus"), path, ".clinicalStatus")
    status = next((c.code for c in clinical.codings if c.code), None) if clinical else None
    verification = _concept(r.get("verificationStatus"), path, ".verificationStatus")
    vstatus = next((c.code for c in verification.codings if c.code), None) if verification else None
    if vstatus in ("refuted", "entered-in-error"):
        return None
    categories, how = terminology().condition_categories(code)
    return ConditionRecord(ref, code, categories, status, how)


_ACT_NAME = r"(?:\bACT\b|\bactivated\s+clotting\s+times?\b(?:\s*\(\s*ACT\s*\))?)"
_SECONDS = r"(?:\s*(?:s|sec|secs|seconds)\b)?"
_ACT_TEXT = re.compile(
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
    out = []
    for m in _ACT_TEXT.finditer(text):
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


def _goal_act_targets(r: Mapping[str, Any], path: str, ref: str) -> list[ActTarget]:
    status = _str(r.get("lifecycleStatus"), path, ".lifecycleStatus")
    if status in ("cancelled", "entered-in-error", "rejected", "completed"):
        return []
    out: list[ActTarget] = []
    for i, raw in enumerate(_list(r.get("target"), path, ".target")):
        tp = f"{path}.target[{i}]"
        tgt = _obj(raw, tp) or {}
        measure = _concept(tgt.get("measure"), tp, ".measure")
        if not _is_code(measure, "loinc", ACT_LOINC):
            continue
        rng = _obj(tgt.get("detailRange"), tp, ".detailRange")
        if rng is not None:
            lo = _quantity(rng.get("low"), tp, ".detailRange.low") if rng.get("low") else None
            hi = _quantity(rng.get("high"), tp, ".detailRange.high") if rng.get("high") else None
            lo_s = _seconds(lo)
            hi_s = _seconds(hi)
            if lo and hi:
                written = f"{lo.value:g}-{hi.value:g} s"
            elif lo:
                written = f">= {lo.value:g} s"
            else:
                written = f"<= {hi.value:g} s" if hi else "(no bounds)"
            out.append(ActTarget(lo_s, hi_s, ref, f"Goal ACT {written}"))
        dq = _obj(tgt.get("detailQuantity"), tp, ".detailQuantity")
        if dq is not None:
            q = _quantity(dq, tp, ".detailQuantity")
            cmp_ = _str(dq.get("comparator"), tp, ".detailQuantity.comparator")
            s = _seconds(q)
            if cmp_ in (">", ">="):
                out.append(ActTarget(s, None, ref, f"Goal ACT {cmp_} {s:g} s" if s else "Goal ACT"))
            elif cmp_ in ("<", "<="):
                out.append(ActTarget(None, s, ref, f"Goal ACT {cmp_} {s:g} s" if s else "Goal ACT"))
            else:
                out.append(ActTarget(s, s, ref, f"Goal ACT {s:g} s" if s else "Goal ACT"))
    if not out:
        desc = _concept(r.get("description"), path, ".description")
        if desc is not None:
            out.extend(act_targets_in_text(desc.all_text(), ref))
    return out


def _seconds(q: Quantity | None) -> float | None:
    from linter.units import Converted

    if q is None:
        return None
    if not (q.code or q.unit):
        return q.value  # ACT is reported in seconds; a bare number is read as seconds
    conv = convert(q, "s")
    return conv.value if isinstance(conv, Converted) else None


# ---------------------------------------------------------------------------------------------------------
# Strict validation (fhir.resources R4B)
# ---------------------------------------------------------------------------------------------------------


class InvalidFhir(InputError):
    """A resource orderlint generated is not valid FHIR. `log_text` is safe to log: the error kind and the
    path with any key the model does not define replaced (the message itself may quote request text)."""

    def __init__(self, message: str, path: str, kind: str, safe_path: str) -> None:
        super().__init__(message, path)
        self.log_text = f"{kind} at {safe_path}"


def _loc_path(loc: Iterable[Any], extra_last: bool = False) -> str:
    items = list(loc)
    parts: list[str] = []
    for n, item in enumerate(items):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            name = "<extra key>" if extra_last and n == len(items) - 1 else str(item)
            parts.append(("." if parts else "") + name)
    return "".join(parts)


def _first_error(resource: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """Validate one resource with fhir.resources R4B: (path, reason, error kind, log-safe path) of the
    first error. pydantic reports a location by the model's field names, except for an extra key (the last
    item of an `extra_forbidden` location), which the log-safe path replaces."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return ("resourceType", "missing resourceType", "missing", "resourceType")
    try:
        cls = get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return ("resourceType", f"'{rtype}' is not a FHIR R4 resource type", "unknown_type", "resourceType")
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = str(err.get("type", "invalid"))
        loc = err.get("loc", ())
        return (_loc_path(loc), str(err.get("msg", "invalid"))[:200], kind,
                _loc_path(loc, extra_last=kind == "extra_forbidden"))
    except Exception as exc:  # fhir.resources raises its own errors for some shapes
        return ("", str(exc)[:200], type(exc).__name__, "")
    return None


def _strict_error(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path, reason) of the first error (DQ904: the clinician's report names the field as sent)."""
    err = _first_error(resource)
    return None if err is None else (err[0], err[1])


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Raise InvalidFhir when `resource` is not valid FHIR R4 (used for suggestions we generate)."""
    err = _first_error(resource)
    if err is not None:
        raise InvalidFhir(f"generated resource is not valid FHIR: {err[1]}", err[0], err[2], err[3] or "$")


# ---------------------------------------------------------------------------------------------------------
# Building an order set
# ---------------------------------------------------------------------------------------------------------

Role = Literal["review", "context", "skip"]


@dataclass
class _Entry:
    resource: Mapping[str, Any]
    path: str
    full_url: str | None = None


def _status_of(r: Mapping[str, Any]) -> str | None:
    """The status as a string, or None when absent or of the wrong type (reading it then reports DQ904)."""
    status = r.get("status")
    return status if isinstance(status, str) else None


def _upload_role(r: Mapping[str, Any]) -> Role:
    """RULES.md "Upload and CLI": which resources are orders under review."""
    rtype = r.get("resourceType")
    status = _status_of(r)
    if rtype in ("MedicationRequest", "ServiceRequest"):
        return "review" if status in REVIEW_MED_STATUS or status is None else "context"
    if rtype == "Procedure":
        return "review" if status in REVIEW_PROC_STATUS else "context"
    return "context"


def build_order_set(
    entries: Sequence[_Entry],
    *,
    source: str,
    role: Callable[[Mapping[str, Any]], Role] = _upload_role,
    mode: Mode = "strict",
    now: datetime | None = None,
    forced_context: ContextKind | None = None,
    gaps: Sequence[DataGap] = (),
    hook: str | None = None,
    subject: str | None = None,
    strict_done: Iterable[str] = (),
) -> OrderSet:
    now = now or datetime.now(UTC)
    index = _Index()
    for e in entries:
        index.add(e.resource, e.full_url)
    invalid: list[InvalidResource] = []
    meds: list[MedicationOrder] = []
    active_meds: list[MedicationOrder] = []
    procs: list[ProcedureOrder] = []
    history: list[ProcedureOrder] = []
    weights: list[Weight] = []
    weight_issues: list[str] = []
    conditions: list[ConditionRecord] = []
    condition_history: list[ConditionRecord] = []
    act_targets: list[ActTarget] = []
    all_gaps = list(gaps)
    raw: dict[str, Mapping[str, Any]] = {}
    paths: dict[str, str] = {}
    patient_ref = subject
    skip_strict = set(strict_done)

    for n, e in enumerate(entries):
        r = e.resource
        rtype = r.get("resourceType")
        ref = _ref_of(r, e.full_url or f"{rtype}/#{n}")
        paths.setdefault(ref, e.path)
        if mode == "strict" and rtype in READ_TYPES and e.path not in skip_strict:
            err = _strict_error(r)
            if err is not None:
                invalid.append(InvalidResource(ref, f"{e.path}.{err[0]}".rstrip("."), err[1]))
                continue
        try:
            which = role(r)
            if which == "skip":
                continue
            if rtype in ("MedicationRequest", "MedicationStatement"):
                under = which == "review" and rtype == "MedicationRequest"
                order = _medication_order(r, e.path, ref, index, under)
                raw[ref] = r
                if under:
                    meds.append(order)
                elif order.status == "active" or (
                    rtype == "MedicationRequest"
                    and which == "context"
                    and order.status in ("draft", "on-hold")
                    and hook
                ):
                    active_meds.append(order)
            elif rtype in ("ServiceRequest", "Procedure"):
                under = which == "review"
                porder = _procedure_order(r, e.path, ref, index, under)
                raw[ref] = r
                (procs if under else history).append(porder)
            elif rtype == "Observation":
                w, issue = _weight(r, e.path, ref)
                if w is not None:
                    weights.append(w)
                elif issue:
                    weight_issues.append(issue)
            elif rtype == "Condition":
                c = _condition(r, e.path, ref)
                if c is not None:
                    (condition_history if c.clinical_status in HISTORIC_CONDITION else conditions).append(c)
            elif rtype == "Goal":
                act_targets.extend(_goal_act_targets(r, e.path, ref))
            elif rtype == "Patient":
                patient_ref = patient_ref or ref
            elif rtype == "OperationOutcome":
                all_gaps.append(DataGap(e.path, _outcome_text(r)))
        except _Bad as bad:
            invalid.append(InvalidResource(ref, bad.path, bad.reason))

    weight = _latest_weight(weights)
    btk = ctxmod.btk_evidence(procs, history, now)
    pad = ctxmod.pad_evidence(btk, conditions)
    if forced_context is not None:
        fb, fp = ctxmod.forced(forced_context)
        btk = btk or fb
        pad = pad or fp
    patient = PatientContext(
        patient_ref=patient_ref,
        weight=weight,
        weight_issue=None if weight else ("; ".join(weight_issues) or None),
        conditions=tuple(conditions),
        condition_history=tuple(condition_history),
        active_medications=tuple(active_meds),
        procedures=tuple(history),
        act_targets=tuple(act_targets),
        gaps=tuple(all_gaps),
    )
    return OrderSet(
        source=source,
        medications=tuple(meds),
        procedures=tuple(procs),
        patient=patient,
        evaluated_at=now,
        btk_context=btk,
        pad_context=pad,
        invalid=tuple(invalid),
        raw_resources=raw,
        resource_paths=paths,
        subject_ref=patient_ref,
        hook=hook,
    )


def _latest_weight(weights: list[Weight]) -> Weight | None:
    if not weights:
        return None
    floor = datetime.min.replace(tzinfo=UTC)
    return max(weights, key=lambda w: w.effective or floor)


def _outcome_text(r: Mapping[str, Any]) -> str:
    texts = []
    issues = r.get("issue")
    for issue in issues if isinstance(issues, list) else ():
        if isinstance(issue, dict):
            details = issue.get("details")
            for d in (issue.get("diagnostics"), details.get("text") if isinstance(details, dict) else None,
                      issue.get("code")):
                if isinstance(d, str) and d:
                    texts.append(d)
                    break
    return "the EHR sent an OperationOutcome instead of data" + (
        f": {'; '.join(texts)}"[:200] if texts else ""
    )


# ---------------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------------


def _bundle_entries(bundle: Mapping[str, Any], path: str) -> list[_Entry]:
    entries_raw = bundle.get("entry")
    if entries_raw is None:
        return []
    if not isinstance(entries_raw, list):
        raise InputError("Bundle.entry must be an array", f"{path}.entry")
    out: list[_Entry] = []
    for i, e in enumerate(entries_raw):
        if not isinstance(e, dict):
            raise InputError("a Bundle entry must be an object", f"{path}.entry[{i}]")
        res = e.get("resource")
        if res is None:
            continue  # e.g. a transaction DELETE entry
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise InputError(
                "entry.resource must be a FHIR resource with a resourceType", f"{path}.entry[{i}].resource"
            )
        full_url = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
        if res.get("resourceType") == "Bundle":
            out.extend(_bundle_entries(res, f"{path}.entry[{i}].resource"))
        else:
            out.append(_Entry(res, f"{path}.entry[{i}].resource", full_url))
    return out


def order_set_from_document(
    doc: Any,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> OrderSet:
    """One JSON document: a Bundle, a single resource, or a CDS Hooks request."""
    if not isinstance(doc, dict):
        raise InputError(
            f"expected a FHIR resource or Bundle (a JSON object), got a JSON {type(doc).__name__}", "$"
        )
    if "hook" in doc and "context" in doc and "resourceType" not in doc:
        return order_set_from_hook(doc, mode=mode, now=now, source=source, forced_context=context)
    rtype = doc.get("resourceType")
    if not isinstance(rtype, str):
        raise InputError(
            "not a FHIR resource: no resourceType (and not a CDS Hooks request)", "$.resourceType"
        )
    if rtype in ("PlanDefinition", "RequestGroup", "Bundle"):
        from linter import orderset_definition as osd  # imported here: it builds on this module

        if osd.is_definition(doc):
            return osd.order_set_from_definition(doc, source, mode=mode, context=context, now=now)
    if rtype == "Bundle":
        entries = _bundle_entries(doc, "Bundle")
        done: list[str] = []
        if mode == "strict" and _strict_error(doc) is None:
            done = [e.path for e in entries]  # valid as a whole (the common case): no per-resource pass
        oset = build_order_set(
            entries, source=source, mode=mode, now=now, forced_context=context, strict_done=done
        )
        if mode == "strict" and not done:
            err = _strict_error({k: v for k, v in doc.items() if k != "entry"})  # the envelope itself
            if err is not None:
                from dataclasses import replace

                bad = InvalidResource("Bundle", f"Bundle.{err[0]}".rstrip("."), err[1])
                oset = replace(oset, invalid=(*oset.invalid, bad))
        return oset
    return build_order_set([_Entry(doc, rtype)], source=source, mode=mode, now=now, forced_context=context)


def order_set_from_hook(
    request: Mapping[str, Any],
    *,
    prefetch: Mapping[str, Any] | None = None,
    gaps: Sequence[DataGap] = (),
    mode: Mode = "fast",
    now: datetime | None = None,
    source: str | None = None,
    forced_context: ContextKind | None = None,
) -> OrderSet:
    """A CDS Hooks order-select / order-sign request (RULES.md: read as the hook would read it)."""
    hook = request.get("hook")
    ctx = request.get("context")
    if not isinstance(ctx, dict):
        raise InputError("a CDS Hooks request needs a 'context' object", "context")
    draft = ctx.get("draftOrders")
    if draft is None:
        raise InputError(
            "context.draftOrders is missing: there are no orders to check", "context.draftOrders"
        )
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise InputError("context.draftOrders must be a FHIR Bundle", "context.draftOrders")
    entries = _bundle_entries(draft, "context.draftOrders")
    selections: set[str] | None = None
    if hook == "order-select":
        sel = ctx.get("selections")
        if not isinstance(sel, list) or not all(isinstance(s, str) for s in sel):
            raise InputError(
                "order-select needs context.selections (a list of 'Type/id')", "context.selections"
            )
        selections = {s.strip() for s in sel}
        drafted = {_ref_of(e.resource, "") for e in entries} | {e.full_url for e in entries if e.full_url}
        missing = sorted(s for s in selections if s not in drafted)
        if missing:
            raise InputError(
                f"context.selections names {', '.join(missing)[:200]}, not found in context.draftOrders "
                "(selections must reference draft orders)", "context.selections",
            )

    draft_ids = {id(e.resource) for e in entries}

    def role(r: Mapping[str, Any]) -> Role:
        if id(r) not in draft_ids:
            if r.get("resourceType") in ORDER_TYPES:
                return "context"
            return "context"
        if r.get("resourceType") not in ORDER_TYPES:
            return "skip"
        if _status_of(r) in HISTORY_STATUS:
            return "context"
        if selections is not None:
            ref = _ref_of(r, "")
            return "review" if ref in selections else "context"
        return "review"

    pf = prefetch if prefetch is not None else request.get("prefetch")
    gap_list = list(gaps)
    if pf is not None and not isinstance(pf, dict):
        raise InputError("prefetch must be an object", "prefetch")
    for key, value in (pf or {}).items():
        path = f"prefetch.{key}"
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            gap_list.append(DataGap(str(key), "the prefetch value is not a FHIR resource"))
            continue
        if value["resourceType"] == "OperationOutcome":
            gap_list.append(DataGap(str(key), _outcome_text(value)))
        elif value["resourceType"] == "Bundle":
            try:
                entries.extend(_bundle_entries(value, path))
            except InputError as exc:
                gap_list.append(DataGap(str(key), f"unreadable prefetch Bundle: {exc}"))
        else:
            entries.append(_Entry(value, path))
    patient_id = ctx.get("patientId")
    subject = f"Patient/{patient_id}" if isinstance(patient_id, str) and patient_id else None
    return build_order_set(
        entries,
        source=source or f"hook:{request.get('hookInstance', '')}",
        role=role,
        mode=mode,
        now=now,
        forced_context=forced_context,
        gaps=gap_list,
        hook=hook if isinstance(hook, str) else None,
        subject=subject,
    )


@dataclass
class LoadResult:
    order_sets: list[OrderSet]
    errors: list[InputError]


def parse_documents(data: bytes, source: str) -> tuple[list[tuple[str, Any]], list[InputError]]:
    """JSON, or NDJSON (one JSON value per line). Returns (label, document) pairs and per-line errors.

    Errors name their place: `not JSON at line 5, column 58: trailing comma is not allowed` for a JSON file,
    `line 7` (the path) with `not JSON at column 45: ...` for a bad NDJSON line. A file that is not one JSON
    document is read as NDJSON when its name says so (.ndjson, .jsonl) or when its first line, or most of its
    lines, each hold a whole JSON object; otherwise the error of the whole document is the one reported."""
    if not data.strip():
        raise InputError("the file is empty", None, source)
    try:
        return [("", orjson.loads(data))], []
    except orjson.JSONDecodeError as whole:
        lines = data.splitlines()
        if not _looks_like_ndjson(lines, source):
            where = f"line {whole.lineno}, column {whole.colno}"
            raise InputError(f"not JSON at {where}: {whole.msg}", None, source) from None
    docs: list[tuple[str, Any]] = []
    errors: list[InputError] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            docs.append((f"line {n}", orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            errors.append(InputError(f"not JSON at column {exc.colno}: {exc.msg}", f"line {n}", source))
    if not docs:
        first = errors[0]
        raise InputError(f"no line of this NDJSON file is JSON; {first.message}", first.path, source)
    return docs, errors


def _looks_like_ndjson(lines: Sequence[bytes], source: str) -> bool:
    """By name, or by content: the first line, or most lines, each hold a whole JSON object (a pretty-printed
    JSON document has at most a few such lines, never its first)."""
    if source.lower().endswith((".ndjson", ".jsonl")):
        return True
    filled = [line.strip() for line in lines if line.strip()]
    whole = [_is_object_line(line) for line in filled[:1000]]
    return bool(whole) and (whole[0] or sum(whole) * 2 > len(whole))


def _is_object_line(line: bytes) -> bool:
    if not (line.startswith(b"{") and line.endswith(b"}")):
        return False
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _subject_of(r: Mapping[str, Any]) -> str:
    if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str):
        return f"Patient/{r['id']}"
    for key in ("subject", "patient"):
        v = r.get(key)
        if isinstance(v, dict) and isinstance(v.get("reference"), str):
            return str(v["reference"])
    return ""


def load_bytes(
    data: bytes,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> LoadResult:
    """Everything in one file. NDJSON resources are grouped by patient (a Bulk Data export holds many);
    NDJSON lines that are Bundles or hook requests are each their own order set."""
    try:
        docs, errors = parse_documents(data, source)
    except InputError as exc:
        exc.source = source
        return LoadResult([], [exc])
    sets: list[OrderSet] = []
    if len(docs) == 1 and docs[0][0] == "":
        try:
            sets.append(order_set_from_document(docs[0][1], source, mode=mode, context=context, now=now))
        except InputError as exc:
            exc.source = source
            errors.append(exc)
        return LoadResult(sets, errors)
    groups: dict[str, list[_Entry]] = {}
    from linter import orderset_definition as osd  # imported here: it builds on this module

    for label, doc in osd.gather_definition_lines(docs):
        if isinstance(doc, dict) and (
            doc.get("resourceType") == "Bundle" or ("hook" in doc and "context" in doc)
        ):
            try:
                sets.append(
                    order_set_from_document(doc, f"{source}:{label}", mode=mode, context=context, now=now)
                )
            except InputError as exc:
                exc.source, exc.path = source, f"{label}: {exc.path or '$'}"
                errors.append(exc)
        elif isinstance(doc, dict) and isinstance(doc.get("resourceType"), str):
            groups.setdefault(_subject_of(doc), []).append(_Entry(doc, f"{label}.{doc['resourceType']}"))
        else:
            errors.append(InputError("not a FHIR resource (no resourceType)", label, source))
    for subject, entries in groups.items():
        name = f"{source} ({subject})" if subject and len(groups) > 1 else source
        sets.append(
            build_order_set(
                entries, source=name, mode=mode, now=now, forced_context=context, subject=subject or None
            )
        )
    return LoadResult(sets, errors)


def order_sets_from_bytes(
    data: bytes,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> list[OrderSet]:
    """Like load_bytes, but any unusable part raises InputError (for the API: all or a clear 400)."""
    result = load_bytes(data, source, mode=mode, context=context, now=now)
    if result.errors:
        raise result.errors[0]
    return result.order_sets


def order_set_from_resources(
    resources: Sequence[tuple[Mapping[str, Any], str]],
    *,
    source: str,
    role: Callable[[Mapping[str, Any]], Role] = _upload_role,
    mode: Mode = "strict",
    now: datetime | None = None,
    context: ContextKind | None = None,
    subject: str | None = None,
) -> OrderSet:
    """One order set from already parsed resources, each with the path reports name it by (a Bulk Data
    export's resources of one patient, gathered from several files: linter.bulk). `role` decides which
    orders are under review (default: the upload rule, as `load_bytes` reads NDJSON)."""
    entries = [_Entry(resource, path) for resource, path in resources]
    return build_order_set(
        entries, source=source, role=role, mode=mode, now=now, forced_context=context, subject=subject
    )


upload_role = _upload_role  # the default role, for callers that wrap it (linter.bulk)


__all__ = [
    "LoadResult",
    "act_targets_in_text",
    "build_order_set",
    "load_bytes",
    "order_set_from_document",
    "order_set_from_hook",
    "order_set_from_resources",
    "order_sets_from_bytes",
    "parse_documents",
    "upload_role",
    "validate_resource",
]
