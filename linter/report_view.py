"""What a `--jobs N` worker (linter.batch) sends back: what the reporters read, not the whole model.

The reporters (linter.render: text, CSV, JSON, HTML, cards, OperationOutcome; linter.fixes for suggestions;
linter.cli_summary) read of an order set only: its source, subject, evaluation time, BTK/PAD evidence,
resource paths and order-set definition; the weight used (the labelled values say where it came from); how
many orders were checked; and the ref, resource type and name of each order (under review, active in
context, procedure history); the originals only when a finding carries a suggestion (suggested actions and
their diffs are built from them), and the Patient resource always (the workbench's patient column for
signed-in users). So a worker sends an OrderSet of the same type holding just those, and every report is
byte-identical to --jobs 1 (tests/test_batch_jobs.py renders every format both ways over the fixture
catalog), for about half the bytes and a fifth of the pickling work of the whole model (dosages, codings,
identities, conditions, ...). A reporter that starts reading another field of the order set must add it here
(that test then fails until it does).
"""

from __future__ import annotations

from linter.model import (
    Concept,
    DrugIdentity,
    Finding,
    MedicationOrder,
    OrderSet,
    Originals,
    PatientContext,
    ProcedureIdentity,
    ProcedureOrder,
)

_NO_DRUG = DrugIdentity()
_NO_PROCEDURE = ProcedureIdentity()


def _named_medication(m: MedicationOrder) -> MedicationOrder:
    return MedicationOrder(
        m.ref, m.resource_type, None, None, None, Concept((), m.name), _NO_DRUG, under_review=m.under_review
    )


def _named_procedure(p: ProcedureOrder) -> ProcedureOrder:
    return ProcedureOrder(p.ref, p.resource_type, None, None, None, Concept((), p.code.label), _NO_PROCEDURE)


def report_view(
    o: OrderSet, findings: list[Finding], originals: Originals
) -> tuple[OrderSet, list[Finding], Originals]:
    """(order set, findings, originals) reduced to what the reporters read (see the module's docstring)."""
    patient = PatientContext(
        patient_ref=o.patient.patient_ref,
        weight=o.patient.weight,  # the labelled values say where the weight came from (linter.render.values)
        active_medications=tuple(map(_named_medication, o.patient.active_medications)),
        procedures=tuple(map(_named_procedure, o.patient.procedures)),
    )
    view = OrderSet(
        source=o.source,
        medications=tuple(map(_named_medication, o.medications)),
        procedures=tuple(map(_named_procedure, o.procedures)),
        patient=patient,
        evaluated_at=o.evaluated_at,
        btk_context=o.btk_context,
        pad_context=o.pad_context,
        resource_paths=dict(o.resource_paths),
        subject_ref=o.subject_ref,
        hook=o.hook,
        definition=o.definition,
    )
    suggested = any(f.suggestion is not None for f in findings)
    if suggested:
        return view, findings, dict(originals)
    # The Patient resource always: the workbench shows signed-in users who the order set is for
    # (linter.fhir_io.demographics), and parallel jobs must show what one process shows.
    return view, findings, {ref: r for ref, r in originals.items() if r.get("resourceType") == "Patient"}
