"""Order-set assembly: entries -> one OrderSet (orders under review, the patient's context, what was invalid).

Which resources are orders under review is the caller's `role` (upload and CLI: by status; a CDS Hooks request:
the draft orders); each resource is read by the module named for it, and a field of the wrong type makes that
resource DQ904 (not checked) without stopping the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from linter import context as ctxmod
from linter.fhir_io.context_records import WEIGHT_LOINC, _mentions_code, body_weight, condition_record, goal_act_targets
from linter.fhir_io.entries import Entry, ResourceIndex, entry_ref
from linter.fhir_io.fields import FieldError
from linter.fhir_io.medications import medication_order
from linter.fhir_io.procedures import procedure_order
from linter.fhir_io.strict import READ_TYPES, strict_error
from linter.model import (
    ActTarget,
    ConditionRecord,
    DataGap,
    InvalidResource,
    MedicationOrder,
    OrderSet,
    Originals,
    PatientContext,
    ProcedureOrder,
    Weight,
)
from linter.model_fast import fast_init

Mode = Literal["fast", "strict"]
ContextKind = Literal["btk", "pad"]
REVIEW_MED_STATUS = frozenset({"draft", "active", "on-hold"})
REVIEW_PROC_STATUS = frozenset({"preparation", "in-progress"})
HISTORIC_CONDITION = frozenset({"inactive", "resolved", "remission"})


@dataclass(frozen=True, slots=True)
class ReadOrderSet:
    """What the reader returns: the OrderSet the engine lints, and beside it the resources as sent (by ref), for
    the suggestions built from them. Kept apart so that rules never see raw JSON."""

    order_set: OrderSet
    originals: Originals


Role = Literal["review", "context", "skip"]

# What `build_order_set` reads, by resourceType (one look-up an entry).
_OBSERVATION, _MEDICATION_REQUEST, _MEDICATION_STATEMENT, _CONDITION = 1, 2, 3, 4
_SERVICE_REQUEST, _PROCEDURE, _GOAL, _PATIENT, _OPERATION_OUTCOME = 5, 6, 7, 8, 9
_KINDS = {
    "Observation": _OBSERVATION,
    "MedicationRequest": _MEDICATION_REQUEST,
    "MedicationStatement": _MEDICATION_STATEMENT,
    "Condition": _CONDITION,
    "ServiceRequest": _SERVICE_REQUEST,
    "Procedure": _PROCEDURE,
    "Goal": _GOAL,
    "Patient": _PATIENT,
    "OperationOutcome": _OPERATION_OUTCOME,
}


def status_of(r: Mapping[str, Any]) -> str | None:
    """The status as a string, or None when absent or of the wrong type (reading it then reports DQ904)."""
    status = r.get("status")
    return status if isinstance(status, str) else None


def _upload_role(r: Mapping[str, Any]) -> Role:
    """RULES.md "Upload and CLI": which resources are orders under review."""
    rtype = r.get("resourceType")
    if rtype in ("MedicationRequest", "ServiceRequest"):
        status = status_of(r)
        return "review" if status in REVIEW_MED_STATUS or status is None else "context"
    if rtype == "Procedure":
        return "review" if status_of(r) in REVIEW_PROC_STATUS else "context"
    return "context"  # every other type, whatever its status (most entries: observations, conditions)


def build_order_set(
    entries: Sequence[Entry],
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
) -> ReadOrderSet:
    now = now or datetime.now(UTC)
    index = ResourceIndex(entries)  # built on the first reference resolved
    read = Collected(list(gaps), subject)
    invalid, meds, active_meds, raw = read.invalid, read.meds, read.active_meds, read.raw
    paths: dict[str, str] = {}
    skip_strict = set(strict_done)
    strict = mode == "strict"
    upload = role is _upload_role  # read inline below (the same rule)

    for n, e in enumerate(entries):
        r, path, _ = e
        rtype, rid = r.get("resourceType"), r.get("id")
        if type(rtype) is str:
            ref = f"{rtype}/{rid}" if type(rid) is str and rid else entry_ref(e, n)  # `entry_ref`, inline
            kind = _KINDS.get(rtype)
        else:
            ref = entry_ref(e, n)
            kind = None
        paths.setdefault(ref, path)  # the first entry of a ref names it
        if strict and rtype in READ_TYPES and path not in skip_strict:
            err = strict_error(r)
            if err is not None:
                invalid.append(InvalidResource(ref, f"{path}.{err[0]}".rstrip("."), err[1]))
                continue
        if kind == _OBSERVATION and upload and not may_be_weight(r):  # most entries: context, not a weight
            continue
        try:
            if upload:
                if kind in (_OBSERVATION, _CONDITION):  # the common entries: context, whatever the status
                    which: Role = "context"
                elif kind == _MEDICATION_REQUEST:  # `_upload_role`, inline for the orders
                    status = r.get("status")
                    which = "context" if isinstance(status, str) and status not in REVIEW_MED_STATUS else "review"
                else:
                    which = _upload_role(r)
            else:
                which = role(r)
                if which == "skip":
                    continue
            if kind == _OBSERVATION:
                if _mentions_code(r, WEIGHT_LOINC):  # most are not weights
                    read_weight(r, path, ref, read)
            elif kind in (_MEDICATION_REQUEST, _MEDICATION_STATEMENT):
                under = which == "review" and kind == _MEDICATION_REQUEST
                order = medication_order(r, path, ref, index, under)
                raw[ref] = r
                if under:
                    meds.append(order)
                elif order.status == "active" or (
                    kind == _MEDICATION_REQUEST and which == "context" and order.status in ("draft", "on-hold") and hook
                ):
                    active_meds.append(order)
            elif kind is not None:
                read_other(kind, r, path, ref, index, which == "review", read)
        except FieldError as bad:
            invalid.append(InvalidResource(ref, bad.path, bad.reason))

    return ReadOrderSet(order_set_of(read, source, now, forced_context, hook, paths), raw)


class Collected:
    """What a reader's loop over a document's entries has read so far (`build_order_set` and
    `plain_bundle.read_plain_bundle` fill one each, through the same `read_weight` and `read_other`)."""

    __slots__ = (
        "act_targets",
        "active_meds",
        "condition_history",
        "conditions",
        "gaps",
        "history",
        "invalid",
        "meds",
        "patient_ref",
        "procs",
        "raw",
        "weight_issues",
        "weights",
    )

    def __init__(self, gaps: list[DataGap], patient_ref: str | None) -> None:
        self.invalid: list[InvalidResource] = []
        self.meds: list[MedicationOrder] = []  # under review
        self.active_meds: list[MedicationOrder] = []
        self.procs: list[ProcedureOrder] = []  # under review
        self.history: list[ProcedureOrder] = []
        self.weights: list[Weight] = []
        self.weight_issues: list[str] = []
        self.conditions: list[ConditionRecord] = []
        self.condition_history: list[ConditionRecord] = []
        self.act_targets: list[ActTarget] = []
        self.gaps = gaps
        self.raw: dict[str, Mapping[str, Any]] = {}  # the resources as sent, by ref (ReadOrderSet.originals)
        self.patient_ref = patient_ref


def may_be_weight(r: Mapping[str, Any]) -> bool:
    """Whether an Observation may be a body weight (one of WEIGHT_LOINC's codes): most observations are not.
    `_mentions_code`, inline for the common single coding."""
    code = r.get("code")
    if (
        type(code) is dict
        and type(codings := code.get("coding")) is list
        and len(codings) == 1
        and type(coding := codings[0]) is dict
        and type(code_value := coding.get("code")) is str
    ):
        return code_value in WEIGHT_LOINC
    return _mentions_code(r, WEIGHT_LOINC)


def read_weight(r: Mapping[str, Any], path: str, ref: str, into: Collected) -> None:
    """A body-weight Observation: its weight, or why it cannot be read."""
    w, issue = body_weight(r, path, ref)
    if w is not None:
        into.weights.append(w)
    elif issue:
        into.weight_issues.append(issue)


def read_other(
    kind: int, r: Mapping[str, Any], path: str, ref: str, index: ResourceIndex, under: bool, into: Collected
) -> None:
    """A resource of the kinds after the medications and observations (Condition, ServiceRequest, Procedure,
    Goal, Patient, OperationOutcome); `under`: a ServiceRequest or Procedure under review. Raises FieldError."""
    if kind == _CONDITION:
        c = condition_record(r, path, ref)
        if c is not None:
            (into.condition_history if c.clinical_status in HISTORIC_CONDITION else into.conditions).append(c)
    elif kind in (_SERVICE_REQUEST, _PROCEDURE):
        porder = procedure_order(r, path, ref, index, under)
        into.raw[ref] = r
        (into.procs if under else into.history).append(porder)
    elif kind == _GOAL:
        into.act_targets.extend(goal_act_targets(r, path, ref))
    elif kind == _PATIENT:
        into.patient_ref = into.patient_ref or ref
        into.raw[ref] = r  # for report-level demographics (fhir_io.demographics), never for rules
    elif kind == _OPERATION_OUTCOME:
        into.gaps.append(DataGap(path, outcome_text(r)))


def order_set_of(
    read: Collected,
    source: str,
    now: datetime,
    forced_context: ContextKind | None,
    hook: str | None,
    paths: dict[str, str],
) -> OrderSet:
    """The OrderSet of what a reader's loop over the entries read."""
    procs, history, conditions, weights = read.procs, read.history, read.conditions, read.weights
    patient_ref, gaps = read.patient_ref, read.gaps
    weight = latest_weight(weights)
    btk = ctxmod.btk_evidence(procs, history, now)
    pad = ctxmod.pad_evidence(btk, conditions)
    if forced_context is not None:
        fb, fp = ctxmod.forced(forced_context)
        btk = btk or fb
        pad = pad or fp
    patient = PatientContext(
        patient_ref,
        weight,
        None if weight else ("; ".join(read.weight_issues) or None),
        tuple(conditions),
        tuple(read.condition_history),
        tuple(read.active_meds),
        tuple(history),
        tuple(read.act_targets),
        tuple(gaps),
    )
    return OrderSet(
        source,
        tuple(read.meds),
        tuple(procs),
        patient,
        now,
        btk,
        pad,
        tuple(read.invalid),
        paths,
        patient_ref,
        hook,
    )


_NO_TIME = datetime.min.replace(tzinfo=UTC)


def latest_weight(weights: list[Weight]) -> Weight | None:
    if not weights:
        return None
    if len(weights) == 1:
        return weights[0]
    return max(weights, key=lambda w: w.effective or _NO_TIME)


def outcome_text(r: Mapping[str, Any]) -> str:
    texts = []
    issues = r.get("issue")
    for issue in issues if isinstance(issues, list) else ():
        if isinstance(issue, dict):
            details = issue.get("details")
            for d in (
                issue.get("diagnostics"),
                details.get("text") if isinstance(details, dict) else None,
                issue.get("code"),
            ):
                if isinstance(d, str) and d:
                    texts.append(d)
                    break
    return "the EHR sent an OperationOutcome instead of data" + (f": {'; '.join(texts)}"[:200] if texts else "")


def order_set_from_resources(
    resources: Sequence[tuple[Mapping[str, Any], str]],
    *,
    source: str,
    role: Callable[[Mapping[str, Any]], Role] = _upload_role,
    mode: Mode = "strict",
    now: datetime | None = None,
    context: ContextKind | None = None,
    subject: str | None = None,
) -> ReadOrderSet:
    """One order set from already parsed resources, each with the path reports name it by (a Bulk Data
    export's resources of one patient, gathered from several files: linter.bulk). `role` decides which
    orders are under review (default: the upload rule, as `load_bytes` reads NDJSON)."""
    entries = [Entry(resource, path) for resource, path in resources]
    return build_order_set(
        entries, source=source, role=role, mode=mode, now=now, forced_context=context, subject=subject
    )


upload_role = _upload_role  # the default role, for callers that wrap it (linter.bulk)

fast_init(globals().values(), __name__)  # ReadOrderSet, one per order set, built cheaply (linter.model_fast)
