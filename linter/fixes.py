"""Suggestions -> FHIR resources.

Rules describe a fix as data (linter.model: UpdateAction with SetDose/SetFrequency/SetDuration/SetRoute,
CreateAction from a profile template, DeleteAction). This module applies them to a copy of the
original resource (an update keeps the draft's id and everything the rule did not change), builds new
resources from the profile's templates, and checks every resource is valid FHIR before it leaves orderlint.
A suggestion that would not validate is dropped (and logged), never sent. A changed dosage's sig text and
patient instruction are made to agree with its new dose, frequency, route and duration (linter.fixes_sig:
rewritten in place, or generated from the coded fields), never left contradicting them nor deleted.

Valid by construction, checked once per shape (issue 11 §2). An update copies only the path it edits (the
resource, its dosage list and dosages; everything else is shared with the draft, never mutated) and each edit
kind writes values fhir.resources accepts (tests/test_fixes_valid.py: every suggestion of every fixture in both
modes, and property-based doses, frequencies, durations and routes). What is left that can make a suggestion
invalid is what the draft brought with it (fast mode does not validate drafts). So the validity of a resource
is computed once per *shape* and cached: the resource with each free-text, id, reference and date leaf
replaced by the verdicts fhir.resources' own primitive types give on it, and each Quantity value by its
decimal verdict. Two resources with one shape differ only in leaves the validator judges one by one with the
same verdicts, so they validate alike (tests/test_fixes_valid.py checks that with hypothesis-mutated leaves).
The shape is read off the resource's JSON (orjson, then one regex pass: `shape_key`), after a look-up by the
digest of that JSON (the same draft is linted at each order-select and at order-sign).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from fhir_core.types import DateTimeType, IdType, InstantType, MarkdownType, StringType
from pydantic import TypeAdapter, ValidationError

from linter import logs
from linter.errors import InputError
from linter.fhir_io import READ_TYPES, InvalidFhir, validate_resource
from linter.fixes_sig import changes_by_dosage, refresh_sig
from linter.model import (
    CreateAction,
    DeleteAction,
    Finding,
    OrderSet,
    Originals,
    SetDose,
    SetDuration,
    SetFrequency,
    SetRoute,
    UpdateAction,
)
from linter.profiles import OrderTemplate, Profile, RegimenTemplate
from linter.units import UCUM_SYSTEM

LOGGER = "orderlint.fixes"

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ROUTES: dict[str, tuple[str, str]] = {
    "oral": ("26643006", "Oral route"),
    "intravenous": ("47625008", "Intravenous route"),
    "intra_arterial": ("58100008", "Intra-arterial route"),
    "subcutaneous": ("34206005", "Subcutaneous route"),
}


class FixError(Exception):
    pass


def _dosage_key(resource: Mapping[str, Any]) -> str:
    """An order-set definition's ActivityDefinition names its dosages `dosage` (a request: dosageInstruction)."""
    return "dosage" if resource.get("resourceType") == "ActivityDefinition" else "dosageInstruction"


def _dosage(resource: dict[str, Any], index: int) -> dict[str, Any]:
    key = _dosage_key(resource)
    dosages = resource.get(key)
    if not isinstance(dosages, list) or index >= len(dosages) or not isinstance(dosages[index], dict):
        raise FixError(f"no {key}[{index}] to change")
    d: dict[str, Any] = dosages[index]
    return d


def _set_dose(resource: dict[str, Any], change: SetDose) -> None:
    d = _dosage(resource, change.dosage_index)
    d.pop("doseQuantity", None)  # the STU3 shape some EHRs still send: replaced by the R4 shape
    d.pop("doseRange", None)
    value = change.value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # 5600, not 5600.0: the dose as a clinician reads it in the suggested resource
    dose = {"value": value, "unit": change.unit_display, "system": UCUM_SYSTEM, "code": change.unit}
    dar = d.get("doseAndRate")
    if isinstance(dar, dict):
        dar = [dar]
    if isinstance(dar, list) and dar and isinstance(dar[0], dict):
        first = {k: v for k, v in dar[0].items() if k not in ("doseQuantity", "doseRange")}
        first["doseQuantity"] = dose
        d["doseAndRate"] = [first, *dar[1:]]
    else:
        d["doseAndRate"] = [{"doseQuantity": dose}]


def _set_frequency(resource: dict[str, Any], change: SetFrequency) -> None:
    d = _dosage(resource, change.dosage_index)
    timing = d.get("timing") if isinstance(d.get("timing"), dict) else {}
    assert isinstance(timing, dict)  # noqa: S101 - narrowed above
    old_repeat = timing.get("repeat") if isinstance(timing.get("repeat"), dict) else {}
    assert isinstance(old_repeat, dict)  # noqa: S101
    repeat = {k: v for k, v in old_repeat.items() if k.startswith("bounds")}
    repeat.update({"frequency": change.frequency, "period": change.period, "periodUnit": change.period_unit})
    new_timing = {k: v for k, v in timing.items() if k not in ("repeat", "code")}
    new_timing["repeat"] = repeat
    d["timing"] = new_timing


def _set_duration(resource: dict[str, Any], change: SetDuration) -> None:
    duration = {"value": change.days, "unit": "days", "system": UCUM_SYSTEM, "code": "d"}
    if resource.get("resourceType") != "ActivityDefinition":  # a definition has no dispenseRequest
        dispense = resource.get("dispenseRequest") if isinstance(resource.get("dispenseRequest"), dict) else {}
        assert isinstance(dispense, dict)  # noqa: S101
        dispense = dict(dispense)
        dispense["expectedSupplyDuration"] = duration
        resource["dispenseRequest"] = dispense
    for d in resource.get(_dosage_key(resource)) or []:
        if not isinstance(d, dict):
            continue
        timing = d.get("timing") if isinstance(d.get("timing"), dict) else {}
        assert isinstance(timing, dict)  # noqa: S101
        repeat = dict(timing.get("repeat") or {})
        repeat.pop("boundsPeriod", None)
        repeat.pop("boundsRange", None)
        repeat["boundsDuration"] = duration
        d["timing"] = {**timing, "repeat": repeat}


def _set_route(resource: dict[str, Any], change: SetRoute) -> None:
    d = _dosage(resource, change.dosage_index)
    coding = {
        k: v
        for k, v in (
            ("system", change.route.system),
            ("code", change.route.code),
            ("display", change.route.display),
        )
        if v
    }
    d["route"] = {"coding": [coding]}


def _edit_copy(original: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of what the edits write into (the resource, its dosage list, each dosage); subtrees below are
    shared with the original: the edits replace them, never mutate them."""
    resource = dict(original)
    key = _dosage_key(resource)
    dosages = resource.get(key)
    if isinstance(dosages, list):
        resource[key] = [dict(d) if isinstance(d, dict) else d for d in dosages]
    return resource


def apply_update(original: Mapping[str, Any], action: UpdateAction) -> dict[str, Any]:
    """The original resource in its entirety with the action's changes applied (same id), each changed
    dosage's sig text (and patientInstruction) made to agree with its new coded fields (linter.fixes_sig).
    The original is never mutated."""
    resource = _edit_copy(original)
    _apply_changes(resource, action)
    key = _dosage_key(resource)
    before, after = original.get(key), resource.get(key)
    if isinstance(before, list) and isinstance(after, list):
        for i, changed in changes_by_dosage(action.changes, len(after)).items():
            b = before[i] if i < len(before) else None
            if isinstance(b, (dict, Mapping)) and isinstance(after[i], dict):  # dict first: no ABC check
                refresh_sig(b, after[i], changed)
    return resource


def _apply_changes(resource: dict[str, Any], action: UpdateAction) -> None:
    for change in action.changes:
        if isinstance(change, SetDose):
            _set_dose(resource, change)
        elif isinstance(change, SetFrequency):
            _set_frequency(resource, change)
        elif isinstance(change, SetDuration):
            _set_duration(resource, change)
        elif isinstance(change, SetRoute):
            _set_route(resource, change)


def _subject(order_set: OrderSet, originals: Originals) -> dict[str, str] | None:
    if order_set.subject_ref:
        return {"reference": order_set.subject_ref}
    for m in order_set.medications:
        raw = originals.get(m.ref, {})
        subj = raw.get("subject")
        if isinstance(subj, dict) and isinstance(subj.get("reference"), str):
            return {"reference": subj["reference"]}
    return None


def medication_request(template: RegimenTemplate, order_set: OrderSet, originals: Originals) -> dict[str, Any]:
    route_code, route_display = ROUTES[template.route]
    repeat: dict[str, Any] = {
        "frequency": template.frequency,
        "period": template.period,
        "periodUnit": template.period_unit,
    }
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": template.rxnorm, "display": template.display}],
            "text": template.display,
        },
        "dosageInstruction": [
            {
                "text": template.text,
                "timing": {"repeat": repeat},
                "route": {"coding": [{"system": SNOMED, "code": route_code, "display": route_display}]},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": template.dose,
                            "unit": template.unit_display,
                            "system": UCUM_SYSTEM,
                            "code": template.unit,
                        }
                    }
                ],
            }
        ],
    }
    if template.duration_days:
        duration = {"value": template.duration_days, "unit": "days", "system": UCUM_SYSTEM, "code": "d"}
        repeat["boundsDuration"] = duration
        resource["dispenseRequest"] = {"expectedSupplyDuration": duration}
    subject = _subject(order_set, originals)
    if subject:
        resource["subject"] = subject
    return resource


def service_request(template: OrderTemplate, order_set: OrderSet, originals: Originals) -> dict[str, Any]:
    code: dict[str, Any] = {"text": template.text}
    if template.codings:
        code["coding"] = template.codings
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": code,
    }
    if template.category_text:
        resource["category"] = [{"text": template.category_text}]
    subject = _subject(order_set, originals)
    resource["subject"] = subject or {"display": "the patient of this order set"}
    return resource


def action_resource(
    action: CreateAction, order_set: OrderSet, originals: Originals, profile: Profile
) -> dict[str, Any]:
    if action.template in profile.regimens:
        return medication_request(profile.regimens[action.template], order_set, originals)
    if action.template in profile.orders:
        return service_request(profile.orders[action.template], order_set, originals)
    raise FixError(f"profile {profile.id} has no template '{action.template}'")


def suggestion_actions(
    finding: Finding, order_set: OrderSet, originals: Originals, profile: Profile
) -> list[dict[str, Any]]:
    """CDS Hooks action objects for the finding's suggestion: deletes, then creates, then updates (the
    order the spec asks clients to process them). Empty when there is no suggestion or it cannot be
    built as valid FHIR."""
    if finding.suggestion is None:
        return []
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        for action in finding.suggestion.actions:
            if isinstance(action, DeleteAction):
                out.append((0, {"type": "delete", "description": action.description, "resourceId": action.ref}))
            elif isinstance(action, CreateAction):
                resource = action_resource(action, order_set, originals, profile)
                check_valid(resource)
                out.append((1, {"type": "create", "description": action.description, "resource": resource}))
            elif isinstance(action, UpdateAction):
                original = originals.get(action.ref)
                if original is None:
                    raise FixError("the order to update is not in the request")
                resource = apply_update(original, action)
                check_valid(resource)
                out.append((2, {"type": "update", "description": action.description, "resource": resource}))
    except (FixError, InputError) as exc:
        # Logged: the rule, the resource type, the error kind and a path of field names. Not the reference
        # (its id is request text) nor the message (a validation message quotes request-controlled keys).
        raw_type = originals.get(finding.primary_ref, {}).get("resourceType")
        rtype = raw_type if isinstance(raw_type, str) and raw_type in READ_TYPES else "resource"
        why = exc.log_text if isinstance(exc, InvalidFhir) else str(exc) if isinstance(exc, FixError) else "invalid"
        logs.warning(LOGGER, "suggestion for %s on a %s dropped: %s", finding.code, rtype, why)
        return []
    return [a for _, a in sorted(out, key=lambda x: x[0])]


# --- validity, once per shape ----------------------------------------------------------------------------

_PRIMITIVES = tuple(TypeAdapter(t) for t in (StringType, MarkdownType, IdType, DateTimeType, InstantType))
# Leaves whose values vary from request to request (free text, ids, references, dates): their shape is the
# verdicts of the primitive types, not the value. Every other leaf (codes, systems, units, counts) is kept.
ABSTRACT_KEYS = frozenset(
    {
        "id",
        "reference",
        "display",
        "text",
        "value",
        "authoredOn",
        "lastUpdated",
        "versionId",
        "comment",
        "patientInstruction",
        "description",
        "start",
        "end",
        "occurrenceDateTime",
    }
)
_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")  # fhir_core DecimalType's check
SHAPE_CACHE_SIZE = 4096
_verdicts: OrderedDict[Any, InvalidFhir | None] = OrderedDict()
_verdicts_lock = threading.Lock()


@lru_cache(maxsize=8192)
def _string_class(value: str) -> tuple[bool, ...]:
    out = []
    for adapter in _PRIMITIVES:
        try:
            adapter.validate_python(value)
            out.append(True)
        except ValidationError:
            out.append(False)
    return tuple(out)


def resource_shape(value: Any, key: str = "") -> Any:
    """The validation-relevant shape of a JSON value (see the module docstring)."""
    if isinstance(value, dict):
        return ("{", tuple(sorted((k, resource_shape(v, k)) for k, v in value.items())))
    if isinstance(value, list):
        return ("[", tuple(resource_shape(v, key) for v in value))
    if key in ABSTRACT_KEYS:
        if isinstance(value, str):
            return ("s", _string_class(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return ("n", type(value).__name__, bool(_DECIMAL.fullmatch(str(value))))
    return (type(value).__name__, value)


_ABSTRACT_LEAF = re.compile(
    rb'([{,]"(?:' + b"|".join(re.escape(k.encode()) for k in sorted(ABSTRACT_KEYS)) + rb')":)'
    rb'("[^"\\]*(?:\\.[^"\\]*)*"|-?[0-9][0-9.eE+-]*)'
)
_PLAIN = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


@lru_cache(maxsize=8192)
def _leaf_class(token: bytes) -> bytes:
    """The verdicts of one abstracted leaf (a JSON string or number), as a token no JSON value starts with."""
    value = orjson.loads(token)
    if isinstance(value, str):
        return b"<s" + bytes(48 + v for v in _string_class(value)) + b">"
    kind = b"i" if isinstance(value, int) else b"f"
    return b"<n" + kind + (b"1" if _DECIMAL.fullmatch(str(value)) else b"0") + b">"


def _abstract(match: re.Match[bytes]) -> bytes:
    return match[1] + _leaf_class(match[2])


def _plain_json(resource: Mapping[str, Any]) -> bytes | None:
    """The resource as the client gets it (orjson, keys sorted), or None for what plain JSON does not say
    exactly: a value orjson cannot write (a 65-bit integer, a non-string key, a subclass of a JSON type) or a
    `null` anywhere (orjson writes NaN and infinity as null)."""
    try:
        text = orjson.dumps(resource, option=_PLAIN)
    except TypeError:  # orjson.JSONEncodeError: not plain JSON
        return None
    return None if b"null" in text else text


def shape_key(text: bytes) -> bytes:
    """The shape of a resource's plain JSON (`_plain_json`): the text with each abstracted leaf replaced by its
    verdicts, in one regex pass (issue 11 §2: the tuple walk of `resource_shape` cost 3x as much). The leaves
    replaced are exactly `resource_shape`'s: a string or number under an ABSTRACT_KEYS key (`[{,]"key":`
    occurs in compact JSON only as a key, since a quote inside a string is escaped)."""
    return _ABSTRACT_LEAF.sub(_abstract, text)


def _lookup(key: Any) -> tuple[bool, InvalidFhir | None]:
    with _verdicts_lock:
        known = key in _verdicts
        verdict = _verdicts.get(key)
        if known:
            _verdicts.move_to_end(key)
    return known, verdict


def _remember(key: Any, verdict: InvalidFhir | None) -> None:
    with _verdicts_lock:
        _verdicts[key] = verdict
        if len(_verdicts) > SHAPE_CACHE_SIZE:
            _verdicts.popitem(last=False)


def check_valid(resource: Mapping[str, Any]) -> None:
    """Raise InvalidFhir when `resource` is not valid FHIR R4, validating once per shape (LRU-cached).

    Looked up first by the digest of its exact JSON (a draft is linted again at each order-select and at
    order-sign: the same suggestion, the same bytes), then by its shape. What is validated is that JSON,
    parsed back: the JSON the client gets, so that the verdict is a function of the key. The cache keeps the
    JSON's digest, not the JSON."""
    text = _plain_json(resource)
    if text is None:  # not plain JSON: the tuple walk, and the resource itself validated
        exact, shape = None, resource_shape(resource)
    else:
        exact = hashlib.blake2b(text, digest_size=32).digest()
        known, verdict = _lookup(exact)
        if known:
            if verdict is not None:
                raise verdict.with_traceback(None)
            return
        shape = shape_key(text)
    known, verdict = _lookup(shape)
    if not known:
        try:
            validate_resource(resource if text is None else orjson.loads(text))
        except InvalidFhir as exc:
            verdict = exc
        _remember(shape, verdict)
    if exact is not None:
        _remember(exact, verdict)
    if verdict is not None:
        raise verdict.with_traceback(None)


def clear_shape_cache() -> None:
    with _verdicts_lock:
        _verdicts.clear()
