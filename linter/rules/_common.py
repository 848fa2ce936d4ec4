"""Helpers every rule family uses: building findings with their source quotes, formatting numbers,
standard override reasons, and finding the orders a rule is about."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal

from linter import logs
from linter.messages import clip_summary
from linter.messages import fmt as fmt  # rules format numbers with the fmt that fills message templates
from linter.model import (
    Coding,
    Finding,
    Indicator,
    MedicationOrder,
    OrderSet,
    RuleMeta,
    SetDose,
    SetFrequency,
    Suggestion,
    UpdateAction,
)
from linter.model_fast import LazyText
from linter.rules._drug_index import drug_index
from linter.sources import citation_text, source_ref
from linter.terminology import terminology

LOGGER = "orderlint.rules"

OVERRIDE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
LOCAL_OVERRIDE_SYSTEM = "https://orderlint.dev/fhir/CodeSystem/override-reason"

# CDS Hooks 3.0 (STU) suggests these standard codes; the displays are ours.
OVERRIDE_PATIENT_CONTRAINDICATION = Coding(
    OVERRIDE_SYSTEM, "patient-contraindication", "Patient-specific reason documented in the chart"
)
OVERRIDE_RISK_BENEFIT = Coding(OVERRIDE_SYSTEM, "risk-benefit-ratio", "Benefit outweighs risk for this patient")
OVERRIDE_ORDER_EXISTS = Coding(OVERRIDE_SYSTEM, "indication-order-exists", "Already addressed by another order or plan")
OVERRIDE_PROTOCOL = Coding(LOCAL_OVERRIDE_SYSTEM, "institutional-protocol", "Follows an institutional protocol")
OVERRIDE_DATA_WRONG = Coding(LOCAL_OVERRIDE_SYSTEM, "data-incorrect", "The data orderlint read is wrong or out of date")

DEFAULT_OVERRIDES: tuple[Coding, ...] = (
    OVERRIDE_PATIENT_CONTRAINDICATION,
    OVERRIDE_RISK_BENEFIT,
    OVERRIDE_PROTOCOL,
)


# id(meta) -> (meta, its source block). Not functools.cache: hashing a RuleMeta hashes every field, its
# citations and three enums in Python (~0.7 us), on every finding.
_SOURCE_BLOCKS: dict[int, tuple[RuleMeta, str]] = {}


def source_block(meta: RuleMeta) -> str:
    """The quoted source sentences with the document's short title and line, as markdown (built once per
    rule)."""
    known = _SOURCE_BLOCKS.get(id(meta))
    if known is not None and known[0] is meta:
        return known[1]
    lines = ["**Source**"]
    for c in meta.citations:
        lines.append(f"> {c.quote}\n>\n> — {citation_text(c)}")
    block = "\n\n".join(lines)
    _SOURCE_BLOCKS[id(meta)] = (meta, block)
    return block


@lru_cache(maxsize=256)  # the sources index is fixed: each citation is worded once per process
def refs(*cited: tuple[str, str]) -> str:
    """Inline source references for message text: refs(("000", "31"), ("001", "31")) ->
    "Q&A: below-knee angioplasty (2025-03-24), line 31; Q&A: PVD with distal calcification (2025-12-12), line 31"."""
    return "; ".join(source_ref(doc, lines) for doc, lines in cited)


def make_finding(
    meta: RuleMeta,
    summary: str,
    detail_lines: Sequence[str],
    refs: Iterable[str],
    *,
    indicator: Indicator | None = None,
    suggestion: Suggestion | None = None,
    override_reasons: tuple[Coding, ...] = DEFAULT_OVERRIDES,
    values: Mapping[str, Any] | None = None,
    confidence: Literal["definite", "inferred"] = "definite",
) -> Finding:
    """A finding with the rule's source quotes appended to the detail (clipped and joined when first read)."""
    return _finding(
        meta,
        LazyText((_texts, (meta, summary, tuple(detail_lines)))),
        refs,
        indicator,
        suggestion,
        override_reasons,
        values,
        confidence,
    )


def finding_later(
    meta: RuleMeta,
    texts: Callable[..., tuple[str, Sequence[str]]],
    args: tuple[Any, ...],
    refs: Iterable[str],
    *,
    indicator: Indicator | None = None,
    suggestion: Suggestion | None = None,
    override_reasons: tuple[Coding, ...] = DEFAULT_OVERRIDES,
    values: Mapping[str, Any] | None = None,
    confidence: Literal["definite", "inferred"] = "definite",
) -> Finding:
    """`make_finding` whose summary and detail lines are `texts(*args)`, called only when a report, a card or a
    test first reads the finding's summary or detail (most runs of the service never do for most findings).
    `args` are the values the texts are made of, bound now: `texts` must be a pure function of them (no
    variables of the rule's loop, which move on after the finding is yielded)."""
    text = LazyText((_texts_later, (meta, texts, args)))
    return _finding(meta, text, refs, indicator, suggestion, override_reasons, values, confidence)


def _texts(meta: RuleMeta, summary: str, detail_lines: Sequence[str]) -> tuple[str, str]:
    known = _SOURCE_BLOCKS.get(id(meta))  # source_block's lookup, inlined: built once per rule
    block = known[1] if known is not None and known[0] is meta else source_block(meta)
    return clip_summary(summary), "\n\n".join([*detail_lines, block])


def _texts_later(
    meta: RuleMeta, texts: Callable[..., tuple[str, Sequence[str]]], args: tuple[Any, ...]
) -> tuple[str, str]:
    try:
        summary, detail_lines = texts(*args)
    except Exception as exc:  # read by a report or a card, long after the engine's guard: never a crash there
        # The type and the stack only: an exception message may quote patient data.
        logs.error_with_stack(LOGGER, "the text of a %s finding raised %s\n%s", exc, meta.code, type(exc).__name__)
        summary = f"{meta.code} fired, but its explanation could not be built: internal error ({type(exc).__name__})"
        detail_lines = [
            f"The rule **{meta.code} {meta.name}** found what it checks for in this order set (the finding and its "
            f"severity stand), but writing its explanation stopped with an internal error (`{type(exc).__name__}`). "
            "Please report this to the orderlint maintainers with the input file."
        ]
    return _texts(meta, summary, detail_lines)


def _finding(
    meta: RuleMeta,
    text: LazyText,
    refs: Iterable[str],
    indicator: Indicator | None,
    suggestion: Suggestion | None,
    override_reasons: tuple[Coding, ...],
    values: Mapping[str, Any] | None,
    confidence: Literal["definite", "inferred"],
) -> Finding:
    lazy: Any = text  # both text slots hold it until the first read (linter.model_fast.lazy_text)
    return Finding(  # the fields in order (Finding's own), positional: a finding is built on every hit
        meta.code,
        indicator or meta.default_indicator,
        lazy,
        lazy,
        (refs[0],) if type(refs) is list and len(refs) == 1 else tuple(dict.fromkeys(refs)),  # most: one ref
        suggestion,
        override_reasons,
        dict(values) if values else {},
        confidence,
        meta.name,
        meta.citations,
    )


_DAILY_WORDS = {1: "once daily", 2: "twice daily"}


def daily_dose_suggestion(label: str, ref: str, dosage_index: int, mg: float, per_day: float) -> Suggestion:
    """ "Change to <mg> mg <per_day> times daily": one update of the order's dose and frequency."""
    return Suggestion(label, (UpdateAction(ref, label, _daily_dose_changes(dosage_index, mg, int(per_day))),))


@lru_cache(maxsize=1024, typed=True)  # frozen values of the dose alone (typed: 80 and 80.0 are written apart)
def _daily_dose_changes(dosage_index: int, mg: float, times: int) -> tuple[SetDose, SetFrequency]:
    """The dose and frequency changes of `daily_dose_suggestion`, built once per dose: shared between findings."""
    text = _DAILY_WORDS.get(times) or f"{times} times daily"
    return (SetDose(dosage_index, mg, "mg", "mg"), SetFrequency(dosage_index, times, 1, "d", text))


def orders_of(order_set: OrderSet, drug: str) -> list[MedicationOrder]:
    """Orders under review for `drug` (a terminology drug key), from the run's drug index."""
    return list(drug_index(order_set).reviewed.get(drug, ()))


def regimen_in_class(order_set: OrderSet, cls: str) -> list[MedicationOrder]:
    return list(drug_index(order_set).with_any(drugs_in_class(cls)))


@lru_cache(maxsize=64)
def drugs_in_class(cls: str) -> frozenset[str]:
    """A class's drug keys, remembered: the terminology is loaded once per process and its classes are fixed."""
    return terminology().drugs_in_class(cls)


def drug_display(drug: str) -> str:
    return terminology().drugs[drug].display


def regimen_lines(orders: Iterable[MedicationOrder]) -> str:
    lines = []
    for m in orders:
        where = "order under review" if m.under_review else f"active medication ({m.status})"
        lines.append(f"- `{m.ref}` {m.name} — {where}")
    return "\n".join(lines) or "- (none)"
