"""Where an ACT target is read from (RULES.md, the paragraph after the HEP table), shared by HEP203/HEP204.

- a `Goal` whose `target.measure` is an ACT LOINC code (`linter.fhir_io` puts these in
  `order_set.patient.act_targets`);
- the text of the heparin order: `dosageInstruction.text`, `additionalInstruction`, `patientInstruction`,
  `note` (`MedicationOrder.all_text()`), read with `linter.text.act.act_targets_in_text`;
- "anywhere in the request" (HEP203): the text of every other order under review as well, e.g. a
  ServiceRequest note "ACT 250-300 s" (`ProcedureOrder.notes`, its code text and order details).

`act_targets_in_text` reads the target the way the source writes it, so that it is not reported missing:
"activated clotting time" as well as "ACT" (000_db9ef64a206b36dc.txt:24 says "an activated clotting time of
250-300 seconds"), and "between 250 and 300" as well as "250-300".
"""

from __future__ import annotations

from linter.model import ActTarget, Concept, Dosage, MedicationOrder, OrderSet
from linter.rules._memo import order_set_reading
from linter.text.act import act_targets_in_text


def _may_name_act(m: MedicationOrder) -> bool:
    """`targets_in_text`'s own test on the order's texts (those of `MedicationOrder.all_text`) without building that
    text: neither word holds a separator, so it is in the joined text exactly when it is in one of them. The
    product's texts are read once per process (`_product_names_act`)."""
    medication = m.medication
    known = _PRODUCT_ACT.get(id(medication))
    if known is None or known[0] is not medication:
        known = _product_names_act(medication)
    if known[1]:
        return True
    parts = list(m.notes)
    for d in m.dosages:
        parts.append(d.text or "")
        parts += d.extra_text
    lowered = "\n".join(parts).lower()
    return "act" in lowered or "clotting" in lowered


# Whether a product's texts (its text and displays) name an ACT, per process, by the identity of its Concept (which
# the reader shares between orders); each entry holds the Concept, so that its id is not reused while it is there.
_PRODUCT_ACT: dict[int, tuple[Concept, bool]] = {}


def _product_names_act(medication: Concept) -> tuple[Concept, bool]:
    lowered = "\n".join([medication.text or "", *(c.display or "" for c in medication.codings)]).lower()
    if len(_PRODUCT_ACT) >= 4096:
        _PRODUCT_ACT.clear()
    known = _PRODUCT_ACT[id(medication)] = (medication, "act" in lowered or "clotting" in lowered)
    return known


# An ACT target as read from an order's text, without the order's ref: (low, high, as written).
Written = tuple[tuple[float | None, float | None, str], ...]

# The ACT targets an order's texts state, per process, by the identity of its dosages, checked with its product's
# (both shared by the reader between orders): a pure function of them when the order has no notes and its dosages
# no instruction (`extra_text`: a patientInstruction is free text written for one patient), the only orders kept.
# Each entry holds the product and the dosages, so that their ids are not reused while it is there.
_ORDER_ACT: dict[int, tuple[Concept, tuple[Dosage, ...], Written]] = {}


def _shared_order_targets(m: MedicationOrder) -> Written | None:
    """The targets of an order with no notes, read once per product and dosages; None when a dosage holds an
    instruction (the order is then read anew)."""
    medication, dosages = m.medication, m.dosages
    known = _ORDER_ACT.get(id(dosages))
    if known is not None and known[0] is medication and known[1] is dosages:
        return known[2]
    for d in dosages:
        if d.extra_text:
            return None
    found = act_targets_in_text(m.all_text(), "") if _may_name_act(m) else ()
    written = tuple((t.low_s, t.high_s, t.as_written) for t in found)
    if len(_ORDER_ACT) >= 4096:
        _ORDER_ACT.clear()
    _ORDER_ACT[id(dosages)] = (medication, dosages, written)
    return written


# The same of a procedure order's code (its text and displays), for orders with no notes and no devices, by the
# identity of the Concept (shared by the reader); each entry holds the Concept.
_CODE_ACT: dict[int, tuple[Concept, Written]] = {}


def _code_targets(code: Concept) -> tuple[Concept, Written]:
    found = targets_in_text(code.all_text(), "")
    if len(_CODE_ACT) >= 4096:
        _CODE_ACT.clear()
    known = _CODE_ACT[id(code)] = (code, tuple((t.low_s, t.high_s, t.as_written) for t in found))
    return known


def targets_in_text(text: str, source_ref: str) -> list[ActTarget]:
    lowered = text.lower()
    if "act" not in lowered and "clotting" not in lowered:  # most order text never mentions an ACT
        return []
    return act_targets_in_text(text, source_ref)


def looked_in(order_set: OrderSet) -> tuple[str, ...]:
    """Where `request_targets` looked, in words: built only for the finding that says no target was found."""
    return (
        "Goals with an ACT measure (LOINC 3184-9 and method-specific codes)",
        *(f"`{m.ref}` dosage text, instructions and notes" for m in order_set.medications),
        *(f"`{p.ref}` text, order details and notes" for p in order_set.procedures),
    )


def request_targets(order_set: OrderSet) -> tuple[ActTarget, ...]:
    """ACT targets anywhere in the request: Goals, and the text of every order under review. Read once per run
    (`order_set_reading`: two rules ask)."""
    return order_set_reading(_ACT_TARGETS, _request_targets, order_set)


_ACT_TARGETS = "act-targets"  # the run cache's key


def _request_targets(order_set: OrderSet) -> tuple[ActTarget, ...]:
    targets: list[ActTarget] = list(order_set.patient.act_targets)
    kept = _ORDER_ACT.get
    for m in order_set.medications:
        # `_shared_order_targets`'s lookup, inlined: every order of the request passes here. A kept entry holds its
        # dosages, so an entry under their id is theirs; it is read only for an order with no notes.
        known = kept(id(m.dosages))
        if known is not None and known[0] is m.medication and not m.notes:
            if known[2]:  # most orders: no target
                ref = m.ref
                for low, high, as_written in known[2]:
                    targets.append(ActTarget(low, high, ref, as_written))
            continue
        written = None if m.notes else _shared_order_targets(m)  # notes: free text written for this order
        if written is None:  # an order with notes (or instructions): read anew
            if _may_name_act(m):  # `targets_in_text`'s own test, passed
                targets.extend(act_targets_in_text(m.all_text(), m.ref))
        elif written:
            ref = m.ref
            targets.extend([ActTarget(low, high, ref, as_written) for low, high, as_written in written])
    for p in order_set.procedures:
        if not p.notes and not p.devices:  # the code's text only: read once per process (`_code_targets`)
            code = p.code
            known_code = _CODE_ACT.get(id(code))
            if known_code is None or known_code[0] is not code:
                known_code = _code_targets(code)
            if known_code[1]:
                ref = p.ref
                targets.extend([ActTarget(low, high, ref, as_written) for low, high, as_written in known_code[1]])
            continue
        parts = [p.code.all_text(), *p.notes, *(c.all_text() for c in p.devices)]
        targets.extend(targets_in_text("\n".join(x for x in parts if x), p.ref))
    return tuple(dict.fromkeys(targets)) if len(targets) > 1 else tuple(targets)  # hashing one: Python code
