"""The patient's context records: body weight (Observation), conditions, and ACT targets stated by Goals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from linter.fhir_io.fields import array, concept, date_time, obj, quantity, string
from linter.model import ActTarget, Concept, ConditionRecord, Quantity, Weight
from linter.terminology import terminology
from linter.text.act import act_targets_in_text
from linter.units import Converted, UnitProblem, convert

WEIGHT_LOINC = frozenset({"29463-7", "3141-9", "8349-3"})
ACT_LOINC = frozenset({"3184-9", "80658-8", "96681-2", "96683-8"})


def _is_code(concept: Concept | None, system_key: str, codes: frozenset[str]) -> bool:
    if concept is None:
        return False
    t = terminology()
    return any(t.system_key(c.system) == system_key and (c.code or "") in codes for c in concept.codings)


def _mentions_code(r: Mapping[str, Any], codes: frozenset[str]) -> bool:
    """Cheap look at code.coding[].code before reading an Observation in full: most are not weights."""
    code = r.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list):
        return False
    # A code of another JSON type (a list is unhashable) may be the one that matters (a body weight, a
    # goal's ACT): the full read then reports it as DQ904 naming the path, as strict mode would.
    for c in codings:  # a loop, not any() over a generator: ~10 Observations a bundle pass here
        if isinstance(c, dict) and (c["code"] in codes if isinstance(c.get("code"), str) else "code" in c):
            return True
    return False


# Per process, by the identity of a shared (plain, frozen) value, each holding that value so that its id is never
# reused while the key is there: a concept's condition categories, whether a concept is a body weight's code,
# and a weight quantity in kg (with its text as sent). Order sets repeat their codes and weights.
_CATEGORIES: dict[int, tuple[Concept, tuple[frozenset[str], Literal["code", "text"] | None]]] = {}
_WEIGHT_CODES: dict[int, tuple[Concept, bool]] = {}
_KG: dict[int, tuple[Quantity, Converted | UnitProblem, str]] = {}


def _kept(cache: dict[int, Any], value: Any, read: Callable[[Any], Any]) -> Any:
    """`read(value)`, kept in `cache` by the identity of `value` (stored beside it)."""
    known = cache.get(id(value))
    if known is None:
        if len(cache) >= 4096:
            cache.clear()
        known = cache[id(value)] = (value, read(value))
    return known[1]


def _is_weight_code(code: Concept) -> bool:
    return _is_code(code, "loinc", WEIGHT_LOINC)


def _in_kg(q: Quantity) -> tuple[Converted | UnitProblem, str]:
    return convert(q, "kg"), f"{q.value:g} {q.code or q.unit or ''}".strip()


def body_weight(r: Mapping[str, Any], path: str, ref: str) -> tuple[Weight | None, str | None]:
    if not _mentions_code(r, WEIGHT_LOINC):
        return None, None
    code = concept(r.get("code"), path, ".code")
    if code is None or not _kept(_WEIGHT_CODES, code, _is_weight_code):
        return None, None
    status = string(r.get("status"), path, ".status")
    if status in ("entered-in-error", "cancelled"):
        return None, None
    q = quantity(r.get("valueQuantity"), path, ".valueQuantity") if r.get("valueQuantity") is not None else None
    eff = date_time(r.get("effectiveDateTime"), path, ".effectiveDateTime")
    if eff is None and (ep := obj(r.get("effectivePeriod"), path, ".effectivePeriod")):
        eff = date_time(ep.get("end"), path, ".effectivePeriod.end") or date_time(
            ep.get("start"), path, ".effectivePeriod.start"
        )
    if eff is None:
        eff = date_time(r.get("issued"), path, ".issued")
    if q is None:
        return None, f"{ref} has no valueQuantity"
    conv, as_sent = _kept(_KG, q, _in_kg)
    if not isinstance(conv, Converted):
        return None, f"{ref}: {conv.message}"
    if conv.value <= 0:
        return None, f"{ref}: a body weight of {q.value} is not plausible"
    return Weight(conv.value, eff, ref, as_sent), None


def _first_code(c: Concept | None) -> str | None:
    if c is not None:
        for coding in c.codings:
            if coding.code:
                return coding.code
    return None


def _categories(code: Concept) -> tuple[frozenset[str], Literal["code", "text"] | None]:
    return terminology().condition_categories(code)


def condition_record(r: Mapping[str, Any], path: str, ref: str) -> ConditionRecord | None:
    get = r.get
    code = concept(get("code"), path, ".code")
    if code is None:
        return None
    raw = get("clinicalStatus")
    status = _first_code(concept(raw, path, ".clinicalStatus")) if raw is not None else None
    raw = get("verificationStatus")
    vstatus = _first_code(concept(raw, path, ".verificationStatus")) if raw is not None else None
    if vstatus in ("refuted", "entered-in-error"):
        return None
    categories, how = _kept(_CATEGORIES, code, _categories)
    return ConditionRecord(ref, code, categories, status, how)


def goal_act_targets(r: Mapping[str, Any], path: str, ref: str) -> list[ActTarget]:
    status = string(r.get("lifecycleStatus"), path, ".lifecycleStatus")
    if status in ("cancelled", "entered-in-error", "rejected", "completed"):
        return []
    out: list[ActTarget] = []
    for i, raw in enumerate(array(r.get("target"), path, ".target")):
        tp = f"{path}.target[{i}]"
        tgt = obj(raw, tp) or {}
        measure = concept(tgt.get("measure"), tp, ".measure")
        if not _is_code(measure, "loinc", ACT_LOINC):
            continue
        rng = obj(tgt.get("detailRange"), tp, ".detailRange")
        if rng is not None:
            lo = quantity(rng.get("low"), tp, ".detailRange.low") if rng.get("low") else None
            hi = quantity(rng.get("high"), tp, ".detailRange.high") if rng.get("high") else None
            lo_s = _seconds(lo)
            hi_s = _seconds(hi)
            if lo and hi:
                written = f"{lo.value:g}-{hi.value:g} s"
            elif lo:
                written = f">= {lo.value:g} s"
            else:
                written = f"<= {hi.value:g} s" if hi else "(no bounds)"
            out.append(ActTarget(lo_s, hi_s, ref, f"Goal ACT {written}"))
        dq = obj(tgt.get("detailQuantity"), tp, ".detailQuantity")
        if dq is not None:
            q = quantity(dq, tp, ".detailQuantity")
            cmp_ = string(dq.get("comparator"), tp, ".detailQuantity.comparator")
            s = _seconds(q)
            if cmp_ in (">", ">="):
                out.append(ActTarget(s, None, ref, f"Goal ACT {cmp_} {s:g} s" if s else "Goal ACT"))
            elif cmp_ in ("<", "<="):
                out.append(ActTarget(None, s, ref, f"Goal ACT {cmp_} {s:g} s" if s else "Goal ACT"))
            else:
                out.append(ActTarget(s, s, ref, f"Goal ACT {s:g} s" if s else "Goal ACT"))
    if not out:
        desc = concept(r.get("description"), path, ".description")
        if desc is not None:
            out.extend(act_targets_in_text(desc.all_text(), ref))
    return out


def _seconds(q: Quantity | None) -> float | None:
    if q is None:
        return None
    if not (q.code or q.unit):
        return q.value  # ACT is reported in seconds; a bare number is read as seconds
    conv = convert(q, "s")
    return conv.value if isinstance(conv, Converted) else None
