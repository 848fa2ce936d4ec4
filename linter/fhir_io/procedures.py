"""ServiceRequest and Procedure -> ProcedureOrder: code, body sites, devices, reasons, when, notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linter import context as ctxmod
from linter.fhir_io.entries import ResourceIndex
from linter.fhir_io.fields import annotation_texts, array, concept, concepts, date_time, obj, reference, string
from linter.model import Concept, ProcedureIdentity, ProcedureOrder

_NO_CODE = Concept()  # frozen: one shared empty code

# What a procedure order is (ctxmod.identify_procedure), per process, by the identity of its code and body-site
# concepts (shared when plain: fields.plain_concept): order sets repeat their procedures. The value holds those
# concepts, so an id in a key is never reused while the key is there. An order with notes, instructions or
# devices is identified anew (free text written for one patient is not kept).
_IDENTITIES: dict[tuple[int, ...], tuple[Concept, tuple[Concept, ...], ProcedureIdentity]] = {}


def _identify(code: Concept, body_sites: tuple[Concept, ...], texts: list[str]) -> ProcedureIdentity:
    if texts:
        return ctxmod.identify_procedure(code, body_sites, texts)
    key = (id(code), *map(id, body_sites))
    known = _IDENTITIES.get(key)
    if known is None:
        if len(_IDENTITIES) >= 4096:
            _IDENTITIES.clear()
        known = _IDENTITIES[key] = (code, body_sites, ctxmod.identify_procedure(code, body_sites, texts))
    return known[2]


def procedure_order(
    r: Mapping[str, Any], path: str, ref: str, index: ResourceIndex, under_review: bool
) -> ProcedureOrder:
    # Absent fields skip their readers (each would return nothing); the reads keep their order, so that a
    # resource with two bad fields reports the same first one.
    get = r.get
    rtype = str(get("resourceType"))
    raw = get("code")
    code = (concept(raw, path, ".code") if raw is not None else None) or _NO_CODE
    raw = get("reasonCode")
    reasons = concepts(raw, path, ".reasonCode") if raw is not None else ()
    raw = get("reasonReference")
    reason_refs = (
        (_plain_references(raw) if type(raw) is list else None)
        or tuple(
            x
            for i, item in enumerate(array(raw, path, ".reasonReference"))
            if (x := reference(item, f"{path}.reasonReference[{i}]"))
        )
        if raw is not None
        else ()
    )
    raw = get("bodySite")
    body_sites = concepts(raw, path, ".bodySite") if raw is not None else ()
    devices: list[Concept] = []
    if rtype == "Procedure":
        for i, item in enumerate(array(get("focalDevice"), path, ".focalDevice")):
            fd = obj(item, f"{path}.focalDevice[{i}]") or {}
            manip = obj(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated")
            if manip and (d := string(manip.get("display"), f"{path}.focalDevice[{i}].manipulated.display")):
                devices.append(Concept((), d))
            dev = index.resolve(reference(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        devices.extend(concepts(get("usedCode"), path, ".usedCode"))
        for i, item in enumerate(array(get("usedReference"), path, ".usedReference")):
            dev = index.resolve(reference(item, f"{path}.usedReference[{i}]"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        occurrence = date_time(get("performedDateTime"), path, ".performedDateTime")
        if occurrence is None and (pp := obj(get("performedPeriod"), path, ".performedPeriod")):
            occurrence = date_time(pp.get("start"), path, ".performedPeriod.start")
    else:
        raw = get("occurrenceDateTime")
        occurrence = date_time(raw, path, ".occurrenceDateTime") if raw is not None else None
        if (
            occurrence is None
            and (raw := get("occurrencePeriod")) is not None
            and (op := obj(raw, path, ".occurrencePeriod"))
        ):
            occurrence = date_time(op.get("start"), path, ".occurrencePeriod.start")
        if occurrence is None and (raw := get("authoredOn")) is not None:
            occurrence = date_time(raw, path, ".authoredOn")
        # ServiceRequest carries devices only by text/extension; orderDetail often names the device.
        if (raw := get("orderDetail")) is not None:
            devices.extend(concepts(raw, path, ".orderDetail"))
    raw = get("note")
    notes = annotation_texts(raw, path, ".note") if raw is not None else ()
    extra = [d.all_text() for d in devices]
    if pi := string(get("patientInstruction"), path, ".patientInstruction"):
        notes = (*notes, pi)  # instructions are read like notes (an ACT target may be written there)
    identity = _identify(code, body_sites, [*extra, *notes])
    return ProcedureOrder(
        ref,
        rtype,
        string(get("id"), path, ".id"),
        string(get("status"), path, ".status"),
        string(get("intent"), path, ".intent"),
        code,
        identity,
        reasons,
        reason_refs,
        body_sites,
        tuple(devices),
        occurrence,
        notes,
        under_review,
    )


def _plain_references(items: list[Any]) -> tuple[str, ...] | None:
    """The references of a list of objects whose `reference` is a string (or absent), with no path built; None
    for any other list (and for one that names none), which the checked reader then reads."""
    out = []
    for item in items:
        if type(item) is not dict:
            return None
        ref = item.get("reference")
        if ref is not None:
            if type(ref) is not str:
                return None
            if ref:
                out.append(ref)
    return tuple(out) or None


def _device_concepts(dev: Mapping[str, Any]) -> list[Concept]:
    out: list[Concept] = []
    if isinstance(dev.get("type"), dict):
        c = concept(dev.get("type"), "Device.type")
        if c is not None:
            out.append(c)
    names = dev.get("deviceName")
    for dn in names if isinstance(names, list) else ():
        if isinstance(dn, dict) and isinstance(dn.get("name"), str):
            out.append(Concept((), dn["name"]))
    if isinstance(dev.get("code"), dict):  # DeviceDefinition-like shapes
        c = concept(dev.get("code"), "Device.code")
        if c is not None:
            out.append(c)
    return out
