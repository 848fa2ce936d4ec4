"""ServiceRequest and Procedure -> ProcedureOrder: code, body sites, devices, reasons, when, notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linter import context as ctxmod
from linter.fhir_io.entries import ResourceIndex
from linter.fhir_io.fields import annotation_texts, array, concept, concepts, date_time, obj, reference, string
from linter.model import Concept, ProcedureOrder


def procedure_order(
    r: Mapping[str, Any], path: str, ref: str, index: ResourceIndex, under_review: bool
) -> ProcedureOrder:
    rtype = str(r.get("resourceType"))
    code = concept(r.get("code"), path, ".code") or Concept()
    reasons = concepts(r.get("reasonCode"), path, ".reasonCode")
    reason_refs = tuple(
        x
        for i, raw in enumerate(array(r.get("reasonReference"), path, ".reasonReference"))
        if (x := reference(raw, f"{path}.reasonReference[{i}]"))
    )
    body_sites = concepts(r.get("bodySite"), path, ".bodySite")
    devices: list[Concept] = []
    if rtype == "Procedure":
        for i, raw in enumerate(array(r.get("focalDevice"), path, ".focalDevice")):
            fd = obj(raw, f"{path}.focalDevice[{i}]") or {}
            manip = obj(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated")
            if manip and (d := string(manip.get("display"), f"{path}.focalDevice[{i}].manipulated.display")):
                devices.append(Concept((), d))
            dev = index.resolve(reference(fd.get("manipulated"), f"{path}.focalDevice[{i}].manipulated"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        devices.extend(concepts(r.get("usedCode"), path, ".usedCode"))
        for i, raw in enumerate(array(r.get("usedReference"), path, ".usedReference")):
            dev = index.resolve(reference(raw, f"{path}.usedReference[{i}]"), r)
            if dev is not None:
                devices.extend(_device_concepts(dev))
        occurrence = date_time(r.get("performedDateTime"), path, ".performedDateTime")
        if occurrence is None and (pp := obj(r.get("performedPeriod"), path, ".performedPeriod")):
            occurrence = date_time(pp.get("start"), path, ".performedPeriod.start")
    else:
        occurrence = date_time(r.get("occurrenceDateTime"), path, ".occurrenceDateTime")
        if occurrence is None and (op := obj(r.get("occurrencePeriod"), path, ".occurrencePeriod")):
            occurrence = date_time(op.get("start"), path, ".occurrencePeriod.start")
        if occurrence is None:
            occurrence = date_time(r.get("authoredOn"), path, ".authoredOn")
        # ServiceRequest carries devices only by text/extension; orderDetail often names the device.
        devices.extend(concepts(r.get("orderDetail"), path, ".orderDetail"))
    notes = annotation_texts(r.get("note"), path, ".note")
    extra = [d.all_text() for d in devices]
    if pi := string(r.get("patientInstruction"), path, ".patientInstruction"):
        notes = (*notes, pi)  # instructions are read like notes (an ACT target may be written there)
    identity = ctxmod.identify_procedure(code, body_sites, [*extra, *notes])
    return ProcedureOrder(
        ref=ref,
        resource_type=rtype,
        id=string(r.get("id"), path, ".id"),
        status=string(r.get("status"), path, ".status"),
        intent=string(r.get("intent"), path, ".intent"),
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
