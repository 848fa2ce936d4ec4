"""What the procedure rules (PR501-PR508) share: which orders are BTK revascularizations, what the chart
documents as their indication, and what the order's devices and notes say.

Documented indication (RULES.md PR501/PR502, as the issue reads it): the order's `reasonCode`, the
Conditions its `reasonReference` points to, the active Conditions in context, and the words of the order's
notes. A Condition that is inactive, resolved or refuted never reaches the model (linter.fhir_io).

Devices (stent type, drug-coated balloon) are told apart by ICD-10-PCS codes only (RULES.md "Codes that
identify the context"); otherwise by the words of the code text, `Procedure.focalDevice` /
`usedCode` / `usedReference` devices, `ServiceRequest.orderDetail` and notes, with the phrase lists of
`linter/terminology/procedures.toml` `[text]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from linter.model import Concept, ConditionRecord, OrderSet, ProcedureOrder
from linter.model_class import frozen_model
from linter.rules._memo import memo, order_set_reading, run_cache
from linter.terminology import phrase_pattern, terminology

REVASC_KINDS = frozenset({"angioplasty", "stent", "atherectomy", "lithotripsy", "bypass"})
SYMPTOMATIC = ("claudication", "clti")
HISTORY_EXCLUDED = frozenset({"entered-in-error", "not-done", "revoked", "cancelled"})


@frozen_model
class Evidence:
    """One place the chart documents a category: where (a ref, or "Type/id reasonCode") and what it says."""

    where: str
    label: str

    def line(self) -> str:
        return f"`{self.where}`: {self.label}"


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    out: dict[str, re.Pattern[str]] = {}
    for key, phrases in terminology().procedure_file.text.items():
        pat = phrase_pattern(phrases)
        if pat is not None:
            out[key] = pat
    return out


def text_kinds(text: str) -> frozenset[str]:
    """Procedure words (`[text]` keys of procedures.toml: dcb, des, bms, abi, tbi, exercise, ...) in `text`.
    Scanned once per text and engine run: PR501-PR508 ask about the same order words."""
    return memo(("text_kinds", text), _scan_kinds, text)


def _scan_kinds(text: str) -> frozenset[str]:
    return frozenset(k for k, pat in _patterns().items() if pat.search(text))


def order_words(p: ProcedureOrder) -> str:
    """The order's own words: code text and displays, devices, notes (not the reasons). Joined once per order
    and engine run: PR501-PR508 each ask for them."""
    return memo(("order_words", id(p)), _order_words, p)


def _order_words(p: ProcedureOrder) -> str:
    parts = [p.code.all_text(), *(d.all_text() for d in p.devices), *p.notes]
    return "\n".join(x for x in parts if x)


DEVICE_KINDS = ("dcb", "des", "bms")


def device_words(p: ProcedureOrder) -> frozenset[str]:
    """The device words (dcb / des / bms) in the order's own words: `text_kinds(order_words(p))` of these three
    kinds only, scanned once per order and engine run (an order with no notes and no devices: once per process for
    its code, looked up before the run's cache, which costs more to key)."""
    if not (p.notes or p.devices):
        return _code_device_words(p.code)
    cache = run_cache()  # memo, inlined: four rules ask
    if cache is None:
        return _device_words(p)
    key = ("device_words", id(p))
    found = cache.get(key)
    if found is None:
        found = cache[key] = _device_words(p)
    return found


@cache
def _device_phrases() -> re.Pattern[str] | None:
    """Every phrase of the device kinds, lowered, matched case-sensitively and without the whole-word bounds: on the
    lowered words of an ASCII order it finds one whenever a device pattern (those phrases, case-insensitive, as
    whole words) would, and sre scans for its first letters quickly. None when a phrase is not ASCII."""
    phrases = terminology().procedure_file.text
    cleaned = sorted({w.strip().lower() for k in DEVICE_KINDS for w in phrases.get(k, ()) if w.strip()}, key=len)
    if not cleaned or not all(w.isascii() for w in cleaned):
        return None
    return re.compile("|".join(re.escape(w) for w in reversed(cleaned)))


def _device_words(p: ProcedureOrder) -> frozenset[str]:
    if p.notes or p.devices:  # words written for this order: read anew
        return _scan_device_words(order_words(p))
    return _code_device_words(p.code)


def _code_device_words(code: Concept) -> frozenset[str]:
    """The device words of an order whose words are its code's (`_order_words`): read once per process."""
    known = _CODE_DEVICES.get(id(code))
    if known is None or known[0] is not code:
        if len(_CODE_DEVICES) >= 4096:
            _CODE_DEVICES.clear()
        known = _CODE_DEVICES[id(code)] = (code, _scan_device_words(code.all_text()))
    return known[1]


# The device words of a procedure order with no notes and no devices, per process, by the identity of its code's
# Concept (which the reader shares between orders); each entry holds the Concept, so that its id is not reused.
_CODE_DEVICES: dict[int, tuple[Concept, frozenset[str]]] = {}


def _scan_device_words(text: str) -> frozenset[str]:
    quick = _device_phrases()
    if quick is not None and text.isascii() and quick.search(text.lower()) is None:
        return frozenset()  # most orders name no device: one quick scan instead of the three patterns
    patterns = _patterns()
    return frozenset(k for k in DEVICE_KINDS if k in patterns and patterns[k].search(text))


def kinds_of(p: ProcedureOrder) -> frozenset[str]:
    """The identity's kinds (from its code, or its text when no code is known) plus the device words
    (dcb / des / bms) that devices and notes state next to a code that does not tell them apart."""
    words = device_words(p)
    return p.identity.kinds | words if words else p.identity.kinds  # most orders: no device words, no new set


def revasc_orders(order_set: OrderSet) -> list[ProcedureOrder]:
    """BTK revascularization orders under review (tibial/peroneal angioplasty, stent, atherectomy,
    lithotripsy, femoral-tibial bypass). Read once per run: PR501-PR508 each ask. The list is shared by the
    rules of the run: callers never change it."""
    return order_set_reading(_REVASC, _revasc_orders, order_set)


_REVASC = "procedure.revasc_orders"  # revasc_orders' key in the run cache


def _revasc_orders(order_set: OrderSet) -> list[ProcedureOrder]:
    return [p for p in order_set.procedures if p.identity.btk and p.identity.kinds & REVASC_KINDS]


def _find_condition(order_set: OrderSet, ref: str) -> ConditionRecord | None:
    if ref.count("/") < 2 and not ref.endswith("/"):  # "Condition/c1" (most): its own last two segments
        for c in order_set.patient.conditions:
            if c.ref == ref:
                return c
        return None
    tail = "/".join(ref.rstrip("/").split("/")[-2:])
    for c in order_set.patient.conditions:
        if c.ref in (ref, tail):
            return c
    return None


def _concept_categories(concept: Concept) -> frozenset[str]:
    categories, _ = terminology().condition_categories(concept)
    return categories


def stated_reasons(p: ProcedureOrder, order_set: OrderSet) -> list[tuple[Evidence, frozenset[str]]]:
    """The order's stated reasons (reasonCode, and the Conditions reasonReference points to), each with
    its condition categories. A reasonReference to a Condition not in the request counts as stated, with
    no category. Read once per order and engine run (`documented` asks for each category); the list is
    shared, callers never change it."""
    cache = run_cache()  # memo, inlined: asked for each category
    if cache is None:
        return _stated_reasons(p, order_set)
    key = ("stated_reasons", id(p), id(order_set))
    found = cache.get(key)
    if found is None:
        found = cache[key] = _stated_reasons(p, order_set)
    return found


def _stated_reasons(p: ProcedureOrder, order_set: OrderSet) -> list[tuple[Evidence, frozenset[str]]]:
    out: list[tuple[Evidence, frozenset[str]]] = []
    for concept in p.reasons:
        out.append((Evidence(f"{p.ref} reasonCode", concept.label or "(no text)"), _concept_categories(concept)))
    for ref in p.reason_refs:
        cond = _find_condition(order_set, ref)
        if cond is not None:
            out.append((Evidence(cond.ref, cond.concept.label), cond.categories))
        else:
            out.append((Evidence(ref, "reasonReference not in the request (inactive or not sent)"), frozenset()))
    return out


def stated_categories(p: ProcedureOrder, order_set: OrderSet) -> list[frozenset[str]]:
    """The condition categories of each of the order's stated reasons, in `stated_reasons`' order, without their
    evidence (for a rule that needs the evidence only when a category is there)."""
    out = [_concept_categories(concept) for concept in p.reasons] if p.reasons else []
    for ref in p.reason_refs:
        cond = _find_condition(order_set, ref)
        out.append(cond.categories if cond is not None else frozenset())
    return out


def documented(order_set: OrderSet, category: str, orders: Sequence[ProcedureOrder] = ()) -> list[Evidence]:
    """Where `category` (claudication, clti, pad, asymptomatic ...) is documented: stated reasons and
    notes of `orders`, and the active Conditions in context. Duplicates (a reasonReference to a Condition
    that is also in context) are listed once. Read once per category, orders and engine run (PR501 and PR506
    both ask for claudication); the list is shared, callers never change it."""
    cache = run_cache()  # memo, inlined
    if cache is None:
        return _documented(order_set, category, orders)
    if len(orders) == 1:  # most questions: one order (built without unpacking)
        key: tuple[Any, ...] = ("documented", id(order_set), category, id(orders[0]))
    else:
        key = ("documented", id(order_set), category, *map(id, orders))
    found: list[Evidence] | None = cache.get(key)
    if found is None:
        found = cache[key] = _documented(order_set, category, orders)
    return found


def _documented(order_set: OrderSet, category: str, orders: Sequence[ProcedureOrder]) -> list[Evidence]:
    # Nothing documents the category when no active Condition is of it and no order states a reasonCode or has
    # notes: a reasonReference resolves to one of those Conditions (or to none). Most questions end here, with no
    # stated reason read.
    for c in order_set.patient.conditions:
        if category in c.categories:
            break
    else:
        for p in orders:
            if p.reasons or p.notes:
                break
        else:
            return []
    found: dict[str, Evidence] = {}
    for p in orders:
        for ev, cats in stated_reasons(p, order_set):
            if category in cats:
                found.setdefault(ev.where, ev)
        if p.notes:  # most orders have none: nothing to join
            notes = "\n".join(p.notes)
            if notes and category in terminology().text_condition_categories(notes):
                found.setdefault(f"{p.ref} note", Evidence(f"{p.ref} note", _clip(notes)))
    for c in order_set.patient.conditions:
        if category in c.categories:
            found.setdefault(c.ref, Evidence(c.ref, c.concept.label))
    return list(found.values())


def context_procedures(order_set: OrderSet) -> list[ProcedureOrder]:
    """Procedures and ServiceRequests in context (history) that did happen or are planned."""
    return [p for p in order_set.patient.procedures if p.status not in HISTORY_EXCLUDED]


def evidence_lines(items: Iterable[Evidence]) -> str:
    return "\n".join(f"- {e.line()}" for e in items) or "- (none)"


def _clip(text: str, n: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
