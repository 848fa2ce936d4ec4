"""The common Bundle, read in one pass: `build_order_set(_plain_bundle_entries(bundle))` of `documents`, with no
Entry built and each resource's type and id read once.

`read_plain_bundle` reads a Bundle whose entries are all objects holding a resource of a type that is neither a
definition nor a Bundle, under the upload rule (`assemble.upload_role`) and with no resource left to validate
(fast mode): the documents a service reads again and again. For any other Bundle it returns None, and the
general readers (`documents`, `assemble.build_order_set`) read it. Both build the same OrderSet
(tests/test_plain_bundle.py compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from linter.fhir_io.assemble import (
    _CONDITION,
    _GOAL,
    _KINDS,
    _MEDICATION_REQUEST,
    _MEDICATION_STATEMENT,
    _OBSERVATION,
    _OPERATION_OUTCOME,
    _PATIENT,
    _PROCEDURE,
    _SERVICE_REQUEST,
    HISTORIC_CONDITION,
    REVIEW_MED_STATUS,
    REVIEW_PROC_STATUS,
    ContextKind,
    ReadOrderSet,
    _order_set,
    outcome_text,
)
from linter.fhir_io.context_records import WEIGHT_LOINC, _mentions_code, body_weight, condition_record, goal_act_targets
from linter.fhir_io.entries import ResourceIndex
from linter.fhir_io.fields import FieldError
from linter.fhir_io.medications import checked_order, plain_order
from linter.fhir_io.procedures import procedure_order
from linter.model import (
    ActTarget,
    ConditionRecord,
    DataGap,
    InvalidResource,
    MedicationOrder,
    ProcedureOrder,
    Weight,
)


def read_plain_bundle(
    raw_entries: list[Any],
    paths: Sequence[str],
    not_plain: Collection[str],
    *,
    source: str,
    now: datetime,
    forced_context: ContextKind | None,
) -> ReadOrderSet | None:
    """The order set of a Bundle's `entry` list as sent (`paths`: each entry's resource path, at least one an
    entry), or None when an entry is not an object holding an object resource whose resourceType is a string
    not in `not_plain` (the definitions and Bundle)."""
    index = ResourceIndex(raw_entries=raw_entries)  # built on the first reference resolved
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
    gaps: list[DataGap] = []
    raw: dict[str, Mapping[str, Any]] = {}
    ref_paths: dict[str, str] = {}
    patient_ref: str | None = None
    places: dict[str, int] | None = None  # each entry's place by its path, for id-less resources (built once)

    for e, path in zip(raw_entries, paths, strict=False):  # paths: at least one per entry
        if type(e) is not dict:
            return None
        r = e.get("resource")
        if type(r) is not dict:  # none (a transaction DELETE entry) or not an object: the general readers
            return None
        rtype, rid = r.get("resourceType"), r.get("id")
        if type(rtype) is not str:
            return None
        kind = _KINDS.get(rtype)
        if kind is None and rtype in not_plain:
            return None
        if isinstance(rid, str) and rid:  # as `entry_ref` reads it
            ref = f"{rtype}/{rid}"
        else:  # `entry_ref`: the fullUrl, else "Type/#n" (n: the entry's place, every entry holding a resource)
            full_url = e.get("fullUrl")
            if isinstance(full_url, str) and full_url:
                ref = full_url
            else:
                if places is None:
                    places = {p: i for i, p in enumerate(paths)}
                ref = f"{rtype}/#{places[path]}"
        ref_paths.setdefault(ref, path)  # the first entry of a ref names it
        if kind == _OBSERVATION:  # most entries: context, and read only when a body weight
            # `_mentions_code`, inline for one coding (most are not weights)
            code = r.get("code")
            if (
                type(code) is dict
                and type(codings := code.get("coding")) is list
                and len(codings) == 1
                and type(coding := codings[0]) is dict
                and type(code_value := coding.get("code")) is str
            ):
                if code_value not in WEIGHT_LOINC:
                    continue
            elif not _mentions_code(r, WEIGHT_LOINC):
                continue
        try:
            if kind == _OBSERVATION:
                w, issue = body_weight(r, path, ref)
                if w is not None:
                    weights.append(w)
                elif issue:
                    weight_issues.append(issue)
            elif kind in (_MEDICATION_REQUEST, _MEDICATION_STATEMENT):
                # the upload rule: a MedicationRequest is under review unless its status (a string) says not
                status = r.get("status")
                under = kind == _MEDICATION_REQUEST and not (
                    isinstance(status, str) and status not in REVIEW_MED_STATUS
                )
                order = plain_order(r, ref, under)
                if order is None:
                    order = checked_order(r, path, ref, index, under)
                raw[ref] = r
                if under:
                    meds.append(order)
                elif order.status == "active":
                    active_meds.append(order)
            elif kind == _CONDITION:
                c = condition_record(r, path, ref)
                if c is not None:
                    (condition_history if c.clinical_status in HISTORIC_CONDITION else conditions).append(c)
            elif kind in (_SERVICE_REQUEST, _PROCEDURE):
                status = r.get("status")
                if not isinstance(status, str):
                    status = None
                if kind == _SERVICE_REQUEST:
                    under = status in REVIEW_MED_STATUS or status is None
                else:
                    under = status in REVIEW_PROC_STATUS
                porder = procedure_order(r, path, ref, index, under)
                raw[ref] = r
                (procs if under else history).append(porder)
            elif kind == _GOAL:
                act_targets.extend(goal_act_targets(r, path, ref))
            elif kind == _PATIENT:
                patient_ref = patient_ref or ref
                raw[ref] = r  # for report-level demographics (fhir_io.demographics), never for rules
            elif kind == _OPERATION_OUTCOME:
                gaps.append(DataGap(path, outcome_text(r)))
        except FieldError as bad:
            invalid.append(InvalidResource(ref, bad.path, bad.reason))

    order_set = _order_set(
        source,
        now,
        forced_context,
        patient_ref,
        None,
        (meds, procs, history, weights, weight_issues, conditions, condition_history, active_meds, act_targets),
        gaps,
        invalid,
        ref_paths,
    )
    return ReadOrderSet(order_set, raw)
