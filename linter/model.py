"""The vocabulary of orderlint: findings, rule metadata and the normalized order/patient model.

Rules read only the types in this module. They never see raw JSON, fhir.resources objects, HTTP or the
database. `linter.fhir_io` builds these objects; `linter.engine` runs rules over them; `linter.render`
turns findings into text, JSON, CDS Hooks cards and OperationOutcomes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from linter.model_class import field, frozen_model
from linter.model_fast import lazy_text
from linter.model_values import (  # the model's small values, re-exported (`__all__` below)
    Action,
    Coding,
    CreateAction,
    DeleteAction,
    FixChange,
    Quantity,
    SetDose,
    SetDuration,
    SetFrequency,
    SetRoute,
    Suggestion,
    UpdateAction,
)
from linter.orderset_model import ActionOrigin, OrderSetDefinition

# --- Rule metadata and findings -------------------------------------------------------------------------------


class Indicator(enum.Enum):
    """CDS Hooks card indicator, ordered by urgency: info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _INDICATOR_RANK[self._value_]  # by value: an Enum member's __hash__ is Python code

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Indicator):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Indicator):
            return NotImplemented
        return self.rank <= other.rank


_INDICATOR_RANK = {"info": 0, "warning": 1, "critical": 2}


class Scope(enum.Enum):
    """When a rule is any of its business (RULES.md, "Scope: when a rule runs")."""

    ANY = "any"  # whenever its drug or procedure is among the orders under review
    PAD = "pad"  # only in PAD context (BTK revascularization context or an active PAD Condition)
    BTK = "btk"  # only in BTK revascularization context


class RuleStatus(enum.Enum):
    PREVIEW = "preview"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@frozen_model
class Citation:
    """Where a rule's fact comes from.

    `source` is a file in knowledge/sources (cited with `lines`) or an external reference id recorded in
    knowledge/reference (e.g. "FDA label: Pletal (cilostazol) boxed warning"). `quote` is the sentence itself.
    """

    source: str
    quote: str
    lines: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source}:{self.lines}" if self.lines else self.source


@frozen_model
class RuleMeta:
    code: str
    name: str
    family: str
    scope: Scope
    default_indicator: Indicator
    # One line; a template over the rule's Options fields ("outside {min_mg_per_day}-{max_mg_per_day} mg/day"),
    # filled from the profile (linter.rules._base.rule_summary) so it says the thresholds the profile sets.
    summary: str
    citations: tuple[Citation, ...]
    since: str = "0.1.0"
    status: RuleStatus = RuleStatus.STABLE
    # What the rule reads, so that DQ903 ("identified by name, not by code") fires only for orders an
    # applicable rule needed: terminology drug keys, and whether it reads procedure orders.
    drugs: frozenset[str] = frozenset()
    reads_procedures: bool = False
    # When the engine calls the rule at all (its index of the order set's drugs, linter.engine): only when an
    # order under review (with `applies_to_regimen`, an order of the regimen) is one of these drug keys or of
    # a drug class named "class:<key>"; empty: always. Declared only where check() provably emits nothing
    # otherwise (tests/test_engine_dispatch.py runs every rule without the index and compares).
    applies_to: frozenset[str] = frozenset()
    applies_to_regimen: bool = False
    engine_only: bool = False  # check() emits nothing: the engine assembles its findings (DQ901-DQ903)


@frozen_model
class Finding:
    """One problem with one order (or with the order set as a whole when `refs` is empty)."""

    code: str
    indicator: Indicator
    summary: str  # < 140 characters, names the drug and the problem
    detail: str  # markdown: computed values, how, the weight used, the source sentence with FILE:LINE
    refs: tuple[str, ...] = ()  # "MedicationRequest/abc"
    suggestion: Suggestion | None = None
    override_reasons: tuple[Coding, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # computed numbers, for reports and tests
    confidence: Literal["definite", "inferred"] = "definite"
    # The rule's own description, carried so that renderers and the store never look up the rule registry:
    # its readable name (the slug; the code when empty) and its sources (label FILE:LINE, quote).
    rule_name: str = ""
    citations: tuple[Citation, ...] = ()

    @property
    def primary_ref(self) -> str:
        return self.refs[0] if self.refs else ""

    @property
    def name(self) -> str:
        """The rule's readable name, or its code when the finding does not say."""
        return self.rule_name or self.code

    @property
    def citation_labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.citations)


@frozen_model
class CouldNotVerify:
    """A rule needed something it could not read. The engine turns these into DQ901/DQ902 findings."""

    dq_code: Literal["DQ901", "DQ902"]
    ref: str
    needed_by: str  # the rule code that needed it
    what: str  # "the aspirin dose"
    reason: str  # "the dose is free text only: 'one tab daily'"


# --- The normalized order / patient model ---------------------------------------------------------------------


@frozen_model
class Concept:
    codings: tuple[Coding, ...] = ()
    text: str | None = None

    @property
    def label(self) -> str:
        if self.text:
            return self.text
        for c in self.codings:
            if c.display:
                return c.display
        for c in self.codings:
            if c.code:
                return c.code
        return ""

    def all_text(self) -> str:
        parts = [self.text] if self.text else []  # the text, then each display; empty ones left out
        return " ".join(parts + [c.display for c in self.codings if c.display])


@frozen_model
class Timing:
    frequency: int | None = None
    frequency_max: int | None = None
    period: float | None = None
    period_max: float | None = None
    period_unit: str | None = None  # s | min | h | d | wk | mo | a
    count: int | None = None
    code: str | None = None  # BID, TID, QD, Q8H ...
    code_text: str | None = None
    bounds_duration_days: float | None = None
    bounds_start: datetime | None = None
    bounds_end: datetime | None = None
    has_repeat: bool = False
    when: tuple[str, ...] = ()


@frozen_model
class Dosage:
    index: int
    sequence: int | None = None
    text: str | None = None
    dose: Quantity | None = None
    dose_low: Quantity | None = None  # doseRange.low
    dose_high: Quantity | None = None  # doseRange.high
    rate: Quantity | None = None  # rates are kept apart from doses
    rate_text: str | None = None
    route: Concept | None = None
    method: Concept | None = None
    timing: Timing = field(default_factory=Timing)
    as_needed: bool = False
    as_needed_text: str | None = None
    extra_text: tuple[str, ...] = ()  # additionalInstruction, patientInstruction

    @property
    def has_machine_dose(self) -> bool:
        return self.dose is not None or self.dose_low is not None or self.dose_high is not None


@frozen_model
class Strength:
    """Strength of a product per unit of its dose form, e.g. 81 mg per tablet or 1000 [iU]/mL.

    `source` says where it was read (RULES.md Terms, "Dose as a count of the dose form", in this order of
    preference): "medication" (Medication.ingredient.strength), "terminology" (a coded SCD/SBD we know), or
    "name" (the strength written in the product's RxNorm name, the last resort). `origin` names it for the
    detail text; `form` is the product's dose form ("tablet", "Injectable Solution") when known.
    """

    value: float
    unit: str  # UCUM: mg, ug, [iU]
    per_value: float = 1.0
    per_unit: str | None = None  # mL for solutions; None for "per tablet"
    source: Literal["medication", "terminology", "name"] = "terminology"
    origin: str = ""
    form: str | None = None


@frozen_model
class DrugIdentity:
    """What the medication is, resolved through terminology.

    `drugs` are catalog drug keys ("aspirin", "clopidogrel", "heparin"...). `matched_by` says how: "code"
    (RxNorm ingredient/SCD/SBD or ATC we know), "text" (name only: DQ903), or None (unknown).
    """

    drugs: frozenset[str] = frozenset()
    matched_by: Literal["code", "text"] | None = None
    product_code: str | None = None  # the RxNorm SCD/SBD we recognized
    product_display: str | None = None
    strength: Strength | None = None
    dose_form: str | None = None
    unknown_codes: tuple[Coding, ...] = ()


@frozen_model
class MedicationOrder:
    ref: str  # "MedicationRequest/abc"
    resource_type: str
    id: str | None
    status: str | None
    intent: str | None
    medication: Concept
    drug: DrugIdentity
    dosages: tuple[Dosage, ...] = ()
    notes: tuple[str, ...] = ()
    expected_supply_days: float | None = None
    validity_start: datetime | None = None
    validity_end: datetime | None = None
    authored_on: datetime | None = None
    ingredient_concepts: tuple[Concept, ...] = ()
    under_review: bool = True
    origin: ActionOrigin | None = None  # the order-set definition action it templates (linter.orderset_model)

    def is_(self, drug: str) -> bool:
        return drug in self.drug.drugs

    @property
    def name(self) -> str:
        medication = self.medication  # Concept.label is its text when it has one: read without its frame then
        return medication.text or medication.label or self.drug.product_display or "medication"

    def all_text(self) -> str:
        """Every human-readable text of the order (for ACT targets, stated strengths, 'intra-arterial')."""
        parts: list[str] = [self.medication.all_text(), *self.notes]
        for d in self.dosages:
            if d.text:
                parts.append(d.text)
            parts.extend(d.extra_text)
        return "\n".join([p for p in parts if p])


@frozen_model
class ProcedureIdentity:
    """What the procedure order is, resolved through terminology (linter.context)."""

    btk: bool = False
    kinds: frozenset[str] = frozenset()  # the `kinds` of terminology/procedures.toml, plus "abi", "tbi", "exercise"
    matched_by: Literal["code", "text"] | None = None
    matched: str | None = None  # the code or the words that matched
    code_system: str | None = None


@frozen_model
class ProcedureOrder:
    ref: str
    resource_type: str  # ServiceRequest | Procedure
    id: str | None
    status: str | None
    intent: str | None
    code: Concept
    identity: ProcedureIdentity
    reasons: tuple[Concept, ...] = ()
    reason_refs: tuple[str, ...] = ()
    body_sites: tuple[Concept, ...] = ()
    devices: tuple[Concept, ...] = ()
    occurrence: datetime | None = None
    notes: tuple[str, ...] = ()
    under_review: bool = True
    origin: ActionOrigin | None = None  # the order-set definition action it templates

    @property
    def name(self) -> str:
        return self.code.label or "procedure"


@frozen_model
class Weight:
    kg: float
    effective: datetime | None
    ref: str
    as_sent: str  # "176 [lb_av]"


@frozen_model
class ConditionRecord:
    ref: str
    concept: Concept
    categories: frozenset[str]  # claudication, clti, pad, esrd, dialysis, heart_failure, hit, stroke_tia ...
    clinical_status: str | None
    matched_by: Literal["code", "text"] | None = None


@frozen_model
class ActTarget:
    low_s: float | None
    high_s: float | None
    source_ref: str
    as_written: str


@frozen_model
class DataGap:
    """Context data the request could not give us (prefetch missing, FHIR server refused or down)."""

    key: str  # prefetch key: weight, conditions, medications ...
    reason: str


@frozen_model
class InvalidResource:
    """A resource that is not valid FHIR R4 and was not checked (DQ904)."""

    ref: str
    path: str  # JSON path of the first bad field, e.g. entry[3].resource.dosageInstruction[0].doseAndRate
    reason: str


@frozen_model
class ContextEvidence:
    """Why the order set is in BTK or PAD context (or that it was forced by the user)."""

    kind: Literal["btk", "pad"]
    how: str  # "ServiceRequest/sr1 CPT 37228", "Condition/c1 I70.229", "forced with --context btk"
    ref: str | None = None
    by_text: bool = False


@frozen_model
class PatientContext:
    patient_ref: str | None = None
    weight: Weight | None = None
    weight_issue: str | None = None  # why a weight observation could not be used
    conditions: tuple[ConditionRecord, ...] = ()  # active (or no clinicalStatus)
    condition_history: tuple[ConditionRecord, ...] = ()  # inactive / resolved / in remission
    active_medications: tuple[MedicationOrder, ...] = ()  # status active, not under review
    procedures: tuple[ProcedureOrder, ...] = ()  # context procedures (history)
    act_targets: tuple[ActTarget, ...] = ()  # from Goals
    gaps: tuple[DataGap, ...] = ()

    def conditions_in(self, category: str, *, include_history: bool = False) -> tuple[ConditionRecord, ...]:
        """Active Conditions of a category; with include_history also resolved ones (a past stroke or HIT is
        still a contraindication)."""
        pool = self.conditions + self.condition_history if include_history else self.conditions
        return tuple(c for c in pool if category in c.categories)


@frozen_model
class OrderSet:
    """One unit of linting: one Bundle, one NDJSON line group, or one CDS Hooks request."""

    source: str  # file path or "hook:<hookInstance>"
    medications: tuple[MedicationOrder, ...]  # orders under review
    procedures: tuple[ProcedureOrder, ...]  # orders under review
    patient: PatientContext
    evaluated_at: datetime
    btk_context: ContextEvidence | None = None
    pad_context: ContextEvidence | None = None
    invalid: tuple[InvalidResource, ...] = ()
    resource_paths: Mapping[str, str] = field(default_factory=dict)  # ref -> where it is in the input
    subject_ref: str | None = None
    hook: str | None = None
    definition: OrderSetDefinition | None = None  # an order-set definition (PlanDefinition / RequestGroup)

    @property
    def regimen(self) -> tuple[MedicationOrder, ...]:
        """Orders under review plus active medications in context (RULES.md "Regimen")."""
        return self.medications + active if (active := self.patient.active_medications) else self.medications

    def regimen_has(self, drug: str) -> bool:
        return any(drug in m.drug.drugs for m in self.regimen)  # is_, inlined: asked ~5 times an order set


# Defined in linter.model_values, read from here.
__all__ = [
    "Action",
    "Coding",
    "CreateAction",
    "DeleteAction",
    "FixChange",
    "Quantity",
    "SetDose",
    "SetDuration",
    "SetFrequency",
    "SetRoute",
    "Suggestion",
    "UpdateAction",
]

# ref -> the resource as sent, returned beside the OrderSet (fhir_io.ReadOrderSet) for fixes and diffs; never to rules.
Originals = Mapping[str, Mapping[str, Any]]
NO_ORIGINALS: Originals = MappingProxyType({})
lazy_text(Finding, "summary", "detail")  # a finding's texts are built when first read (linter.model_fast)
