"""MedicationRequest and MedicationStatement -> MedicationOrder: the product (code, referenced Medication,
ingredients), its strength, the dosages, dispense request and notes."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from linter.fhir_io.dosage import dosage, only_read, only_read_concept, plain_dosage, plain_dosages
from linter.fhir_io.entries import ResourceIndex, ref_of
from linter.fhir_io.fields import (
    FieldError,
    annotation_texts,
    array,
    concept,
    date_time,
    duration_days,
    known_date_time,
    obj,
    plain_concept,
    quantity,
    reference,
    string,
)
from linter.model import Concept, Dosage, DrugIdentity, MedicationOrder, Strength
from linter.model_fast import copy_with
from linter.terminology import terminology


def _ratio_strength(v: Any, path: str, sfx: str = "") -> Strength | None:
    """Medication.ingredient.strength (a Ratio): 2.5 mg per 1 tablet, or 1,000 units per 1 mL."""
    if sfx:
        path += sfx
    o = obj(v, path)
    if o is None:
        return None
    num = quantity(o.get("numerator"), path, ".numerator")
    den = quantity(o.get("denominator"), path, ".denominator")
    if num is None or not num.value > 0 or (den is not None and not den.value > 0):
        # 0 mg per tablet, or 325 mg per 0 tablets, is no strength: read as none (a dose in tablets is then not
        # converted with it, and the rules say they could not verify it), never divided by.
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
        return copy_with(med_strength, form=med_form or med_strength.form or drug.dose_form)
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


def _identity(concepts: list[Concept], med_strength: Strength | None, med_form: str | None) -> DrugIdentity:
    """The drug, through terminology, with the product's strength (RULES.md's order of preference)."""
    drug = terminology().identify_drug(concepts)
    strength = _product_strength(drug, med_strength, med_form, concepts)
    if strength is not None:
        drug = copy_with(drug, strength=strength, dose_form=drug.dose_form or med_form or strength.form)
    return drug


# Concept of a plain medicationCodeableConcept -> its identity, per process: order sets name the same products
# again and again, and identifying one (codes, strength from the RxNorm name) costs ~3 us. The key and value
# are frozen values of the product's codes and names, never a patient's identifiers.
# Keyed by the concept's fields (each coding's system, code, display; the text), read and hashed in C: equal to
# keying by the Concept, whose dataclass __hash__ and __eq__ (and each Coding's) are Python code.
_PLAIN_IDENTITIES: dict[tuple[Any, ...], DrugIdentity] = {}
_CODING_FIELDS = operator.attrgetter("system", "code", "display")


# The plain product (one coding, a text or none) -> its Concept and identity, per process, keyed by the raw
# strings (system, code, display, text): the same cache as above, with the Concept built once too (frozen, so
# order sets share it).
_PLAIN_PRODUCTS: dict[tuple[Any, ...], tuple[Concept, DrugIdentity]] = {}


def _plain_product(mcc: dict[str, Any]) -> tuple[Concept, DrugIdentity] | None:
    raw_codings = mcc.get("coding")
    if type(raw_codings) is not list or len(raw_codings) != 1 or type(raw := raw_codings[0]) is not dict:
        return None
    key = (raw.get("system"), raw.get("code"), raw.get("display"), mcc.get("text"))
    try:
        known = _PLAIN_PRODUCTS.get(key)
    except TypeError:  # a list or an object where a string belongs: the checked reader names it
        return None
    if known is None:  # stored only below, once `plain_concept` read every field as a string (or absent)
        medication = plain_concept(mcc)
        if medication is None:
            return None
        if len(_PLAIN_PRODUCTS) >= 4096:
            _PLAIN_PRODUCTS.clear()
        known = _PLAIN_PRODUCTS[key] = (medication, _identity([medication], None, None))
    return known


# An order's plain product and dosages (its Concept and identity, its dosages), per process, by their JSON as sent
# (orjson: `1`, `1.0`, `true` and `-0.0` are written apart, so one key is one reading; an absent dosage list is
# written as an empty one, and read alike): an order-set template's orders come again and again, and reading them
# field by field costs several times more than writing and looking up the key. Kept only when every field sent is
# one the plain readers read (no patientInstruction, no extension, no unread field: nothing is kept that the
# reading does not show) and no value was written as null (orjson writes NaN and infinities as null too).
_PLAIN_MEDICATIONS: dict[bytes, tuple[Concept, DrugIdentity, tuple[Dosage, ...]]] = {}
_AS_SENT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _plain_notes(note: Any) -> tuple[str, ...] | None:
    """`annotation_texts` for a list of objects whose text is a string (or absent); None for any other shape."""
    if type(note) is not list:
        return None
    out = []
    for raw in note:
        if type(raw) is not dict:
            return None
        t = raw.get("text")
        if t is not None:
            if type(t) is not str:
                return None
            if t:
                out.append(t)
    return tuple(out)


def plain_order(r: Mapping[str, Any], ref: str, under_review: bool) -> MedicationOrder | None:
    """`medication_order` for the common shape, with no path built: a plain medicationCodeableConcept (no
    medicationReference), plain dosages (`plain_dosage`), string status, intent, id and authoredOn, plain notes,
    no dispenseRequest. None for any other shape or type: the checked reader then reads it (and names the
    first bad field)."""
    get = r.get
    mcc = get("medicationCodeableConcept")
    if type(mcc) is not dict or get("medicationReference") is not None or get("dispenseRequest") is not None:
        return None
    rtype = get("resourceType")
    raw_dosages = get("dosage" if rtype == "MedicationStatement" else "dosageInstruction")
    # The product and the dosages: kept per process by their JSON as sent (`_PLAIN_MEDICATIONS`).
    try:
        key: bytes | None = orjson.dumps((mcc, () if raw_dosages is None else raw_dosages), option=_AS_SENT)
    except TypeError:  # not JSON as parsed (orjson.JSONEncodeError is a TypeError)
        key = None
    known = _PLAIN_MEDICATIONS.get(key) if key is not None else None
    if known is None:
        product = _plain_product(mcc)
        if product is None:
            return None
        dosages: tuple[Dosage, ...] = ()
        if raw_dosages is not None:
            if type(raw_dosages) is not list or (read := plain_dosages(raw_dosages)) is None:
                return None
            dosages = read
        known = (*product, dosages)
        if key is not None and b"null" not in key and only_read_concept(mcc) and only_read(raw_dosages or ()):
            if len(_PLAIN_MEDICATIONS) >= 4096:
                _PLAIN_MEDICATIONS.clear()
            _PLAIN_MEDICATIONS[key] = known
    rid, status, intent, authored, note = get("id"), get("status"), get("intent"), get("authoredOn"), get("note")
    if not (
        (rid is None or type(rid) is str)
        and (status is None or type(status) is str)
        and (intent is None or type(intent) is str)
    ):
        return None
    notes: tuple[str, ...] | None = () if note is None else _plain_notes(note)
    if notes is None:
        return None
    authored_on = None
    if authored is not None:
        if type(authored) is not str:
            return None
        authored_on = known_date_time(authored)
        if authored_on is None:
            try:
                authored_on = date_time(authored, "")
            except FieldError:
                return None
    medication, drug, dosages = known
    return MedicationOrder(
        ref,
        str(rtype),
        rid,
        status,
        intent,
        medication,
        drug,
        dosages,
        notes,
        None,
        None,
        None,
        authored_on,
        (),
        under_review,
    )


def medication_order(
    r: Mapping[str, Any], path: str, ref: str, index: ResourceIndex, under_review: bool
) -> MedicationOrder:
    if (plain := plain_order(r, ref, under_review)) is not None:
        return plain
    return checked_order(r, path, ref, index, under_review)


def checked_order(
    r: Mapping[str, Any], path: str, ref: str, index: ResourceIndex, under_review: bool
) -> MedicationOrder:
    """`medication_order` for any shape: every field checked, the first bad one named (FieldError)."""
    concepts: list[Concept] = []
    medication = concept(r.get("medicationCodeableConcept"), path, ".medicationCodeableConcept")
    ingredient_concepts: list[Concept] = []
    med_strength: Strength | None = None
    med_form: str | None = None
    med_ref = reference(r.get("medicationReference"), path, ".medicationReference")
    if medication is None and med_ref is not None:
        med = index.resolve(med_ref, r)
        display = None
        mr = obj(r.get("medicationReference"), path, ".medicationReference")
        if mr is not None:
            display = string(mr.get("display"), path, ".medicationReference.display")
        if med is not None:
            mpath = f"{path}.medicationReference({med_ref})"
            medication = concept(med.get("code"), mpath, ".code")
            form = concept(med.get("form"), mpath, ".form")
            med_form = form.label if form else None
            strengths: list[tuple[Concept | None, Strength]] = []
            for i, ing in enumerate(array(med.get("ingredient"), mpath, ".ingredient")):
                ingo = obj(ing, f"{mpath}.ingredient[{i}]") or {}
                ic = concept(ingo.get("itemCodeableConcept"), f"{mpath}.ingredient[{i}].itemCodeableConcept")
                if ic is not None:
                    ingredient_concepts.append(ic)
                st = _ratio_strength(ingo.get("strength"), f"{mpath}.ingredient[{i}].strength")
                if st is not None:
                    origin = f"{ref_of(med, med_ref)} ingredient.strength"
                    strengths.append((ic, copy_with(st, origin=origin)))
            med_strength = _ingredient_strength(strengths)
        if medication is None:
            medication = Concept((), display)
    if medication is None:
        medication = Concept()
    concepts.append(medication)
    concepts.extend(ingredient_concepts)
    if ingredient_concepts or med_strength is not None or med_form is not None:
        drug = _identity(concepts, med_strength, med_form)
    else:  # a coded product alone (nearly every order): what it is depends on its concept only
        key = (tuple(map(_CODING_FIELDS, medication.codings)), medication.text)
        known = _PLAIN_IDENTITIES.get(key)
        if known is None:
            if len(_PLAIN_IDENTITIES) >= 4096:
                _PLAIN_IDENTITIES.clear()
            known = _PLAIN_IDENTITIES[key] = _identity(concepts, None, None)
        drug = known
    # MedicationStatement (active medications in context) names its dosages "dosage".
    dosage_key = "dosage" if r.get("resourceType") == "MedicationStatement" else "dosageInstruction"
    # The plain shape is read without building paths; any other goes to the checked reader, which names the
    # first bad field.
    dosages = tuple(
        (type(raw) is dict and plain_dosage(raw, i)) or dosage(raw, f"{path}.{dosage_key}[{i}]", i)
        for i, raw in enumerate(array(r.get(dosage_key), path, "." + dosage_key))
    )
    # Absent fields skip their readers (each would return None); the reads keep their order, so that a
    # resource with two bad fields reports the same first one.
    supply = validity_start = validity_end = None
    disp = obj(r.get("dispenseRequest"), path, ".dispenseRequest")
    if disp is not None:
        supply = duration_days(disp.get("expectedSupplyDuration"), f"{path}.dispenseRequest.expectedSupplyDuration")
        vp = obj(disp.get("validityPeriod"), path, ".dispenseRequest.validityPeriod")
        if vp is not None:
            validity_start = date_time(vp.get("start"), path, ".dispenseRequest.validityPeriod.start")
            validity_end = date_time(vp.get("end"), path, ".dispenseRequest.validityPeriod.end")
    status = string(r.get("status"), path, ".status")
    note = r.get("note")
    notes = annotation_texts(note, path, ".note") if note is not None else ()
    return MedicationOrder(
        ref,
        str(r.get("resourceType")),
        string(r.get("id"), path, ".id"),
        status,
        string(r.get("intent"), path, ".intent"),
        medication,
        drug,
        dosages,
        notes,
        supply,
        validity_start,
        validity_end,
        date_time(r.get("authoredOn"), path, ".authoredOn"),
        tuple(ingredient_concepts),
        under_review,
    )
