"""What a procedural heparin bolus is (RULES.md "Procedural heparin bolus"), shared by HEP201-HEP206.

Unfractionated heparin, route intravenous or intra-arterial, a dose (not a rate), one administration (no
repeating timing, or count = 1, or a PRN / "on call to procedure" single dose). Subcutaneous prophylaxis
and infusions with a rate are not boluses.

Readings taken where the catalog is silent:
- an order with no route at all, given once as a dose, is read as a bolus unless its text says
  subcutaneous; an order with a rate only is an infusion;
- only the first bolus dosage of an order is the procedural bolus: a later single dosage of the same order
  ("additional 1,000 units if ACT < 250 s") is a top-up, not judged against 70-100 units/kg;
- a timing code that says "once" or "stat" (`timing.code` ONCE / STAT, which are not FHIR timing
  abbreviations and that `_dose.is_single_administration` does not read as single) is one administration;
  an IV/IA dose whose timing code is neither known nor "once" cannot be placed: the dose rules report it as
  could-not-verify (DQ901) rather than pass it;
- a heparin dose in mass (mg, mg/kg) or volume (mL, mL/kg) that no coded concentration converts to units
  is HEP205's business only (not also DQ902, not HEP201/HEP202); a count ("1 vial") that cannot be
  converted is a DQ902 "could not verify";
- a heparin lock / line flush (the word flush or lock in the order, or a flush-strength product of at most
  10 units/mL) keeps a catheter open and is not procedural anticoagulation: no HEP rule judges it as a bolus.
"""

from __future__ import annotations

import re
from typing import Literal

from linter.lazy_re import lazy_compile
from linter.model import (
    Concept,
    CouldNotVerify,
    Dosage,
    DrugIdentity,
    MedicationOrder,
    OrderSet,
    Quantity,
    Strength,
)
from linter.model_class import frozen_model
from linter.rules._dose import frequency_of, is_single_administration, route_of
from linter.rules._drug_index import drug_index
from linter.rules._memo import order_set_reading
from linter.rules._units import convert
from linter.terminology import terminology
from linter.units import Converted, UnitProblem, unit_of

BOLUS_ROUTES = frozenset({"intravenous", "intra_arterial"})
UFH_CLASS = "heparin_ufh"
LMWH_CLASS = "lmwh"

MassOrVolume = Literal["mass", "volume"]


@frozen_model
class Bolus:
    order: MedicationOrder
    dosage: Dosage
    route: str | None


_FLUSH = lazy_compile(
    r"\b(?:flush(?:es|ing)?|hep[- ]?lock|heparin lock|lock solution|catheter lock|line lock)\b", re.IGNORECASE
)
FLUSH_MAX_UNITS_PER_ML = 10.0  # flush-strength products are 2 units/mL (reference/clinical-kb.md §1)


def is_line_flush(order: MedicationOrder) -> bool:
    """A heparin lock / line flush keeps a catheter open; it is not procedural anticoagulation."""
    st = order.drug.strength
    if st is not None and st.per_unit == "mL" and st.value / st.per_value <= FLUSH_MAX_UNITS_PER_ML:
        return True
    if order.notes:  # free text written for this order: read anew
        return _says_flush(order)
    medication, dosages = order.medication, order.dosages
    known = _FLUSH_TEXT.get((id(medication), id(dosages)))
    if known is not None and known[0] is medication and known[1] is dosages:
        return known[2]
    said = _says_flush(order)
    for d in dosages:
        if d.extra_text:  # an instruction (a patientInstruction is written for one patient): not kept
            return said
    if len(_FLUSH_TEXT) >= 4096:
        _FLUSH_TEXT.clear()
    _FLUSH_TEXT[(id(medication), id(dosages))] = (medication, dosages, said)
    return said


# Whether an order's texts say flush or lock, per process, by the identity of its product and dosages (which the
# reader shares between orders): a pure function of them for an order with no notes and dosages with no instruction,
# the only ones kept. Each entry holds the product and the dosages, so that their ids are not reused while there.
_FLUSH_TEXT: dict[tuple[int, int], tuple[Concept, tuple[Dosage, ...], bool]] = {}


def _says_flush(order: MedicationOrder) -> bool:
    text = order.all_text()
    folded = text.casefold()  # every alternative of _FLUSH holds "flush" or "lock", in any case
    if "flush" not in folded and "lock" not in folded:
        return False
    return bool(_FLUSH.search(text))


def heparin_orders(order_set: OrderSet) -> list[MedicationOrder]:
    """Unfractionated heparin orders under review, line flushes excepted."""
    return heparin_reading(order_set)[0]


# What the heparin rules read of an order set: its heparin orders, their boluses, and the doses that might be a
# bolus, read together once per run (`order_set_reading`: the five rules ask some ten times).
Reading = tuple[list[MedicationOrder], list[Bolus], list[Bolus]]


def heparin_reading(order_set: OrderSet) -> Reading:
    """(`heparin_orders`, `boluses`, unplaced doses) of the order set. Unplaced: IV/IA (or route-less) heparin doses
    whose timing cannot be read, in orders with no bolus; they might be the procedural bolus, so the dose rules say
    "could not verify" instead of passing them."""
    return order_set_reading(_READING, _read, order_set)


_READING = "heparin-reading"  # the run cache's key


def _read(order_set: OrderSet) -> Reading:
    t = terminology()
    if not _CLASSES or _CLASSES[0][0] is not t:
        _CLASSES[:] = [(t, t.drugs_in_class(UFH_CLASS), t.drugs_in_class(LMWH_CLASS))]
    ufh = _CLASSES[0][1]
    # The orders under review that hold a drug of the class (`DrugIndex.reviewed_with_any`, inlined), in order.
    reviewed = drug_index(order_set).reviewed
    present = ufh.intersection(reviewed)
    orders: list[MedicationOrder] = []
    found: list[Bolus] = []
    maybe: list[Bolus] = []
    if not present:
        return orders, found, maybe
    if len(present) == 1:  # one drug of the class ordered (most order sets): its orders, already in order
        (drug,) = present
        candidates = reviewed[drug]
    else:
        candidates = [m for m in order_set.medications if not ufh.isdisjoint(m.drug.drugs)]
    for order in candidates:
        dosages = order.dosages
        known = _ORDERS.get(id(dosages))
        if (
            known is None
            or known[0] is not dosages
            or known[1] is not order.medication
            or known[2] is not order.drug
            or order.notes
        ):
            known = _read_order(order)
        if not known[3]:
            continue  # a low-molecular-weight heparin, or a line flush
        orders.append(order)
        if known[4] is not None:
            found.append(Bolus(order, *known[4]))
        elif known[5] is not None:
            maybe.append(Bolus(order, *known[5]))
    if maybe and found:  # an order with no bolus that shares its ref with one that has a bolus is placed
        placed = {b.order.ref for b in found}
        maybe = [b for b in maybe if b.order.ref not in placed]
    return orders, found, maybe


# The drug keys of unfractionated and low-molecular-weight heparin, by the terminology they were read from (loaded
# once per process; its classes are fixed).
_CLASSES: list[tuple[object, frozenset[str], frozenset[str]]] = []

First = tuple[Dosage, str | None] | None
OrderReading = tuple[tuple[Dosage, ...], Concept, DrugIdentity, bool, First, First]

# How the heparin rules read an order of a heparin drug, per process, by the identity of its dosages, checked with
# its product and its drug identity (all three shared by the reader between orders): whether it is unfractionated
# heparin and no line flush, its first bolus dosage with its route and, failing one, its first dosage that might be
# one (`_first_dosage`). A pure function of those three for an order with no notes and dosages with no instruction
# (`extra_text`), the only orders kept. Each entry holds the three, so that their ids are not reused while there.
_ORDERS: dict[int, OrderReading] = {}


def _read_order(order: MedicationOrder) -> OrderReading:
    dosages, medication, drug = order.dosages, order.medication, order.drug
    heparin = _CLASSES[0][2].isdisjoint(drug.drugs) and not is_line_flush(order)
    bolus = _first_dosage(order, True) if heparin else None
    maybe = _first_dosage(order, False) if heparin and bolus is None else None
    reading = (dosages, medication, drug, heparin, bolus, maybe)
    if not order.notes and not any(d.extra_text for d in dosages):
        if len(_ORDERS) >= 4096:
            _ORDERS.clear()
        _ORDERS[id(dosages)] = reading
    return reading


def is_single(d: Dosage) -> bool:
    """`_dose.is_single_administration`, plus a timing code or text that says once / stat / on call."""
    if is_single_administration(d):
        return True
    t = d.timing
    if t.has_repeat:
        return False
    words = " ".join(x for x in (t.code, t.code_text) if x)
    pattern = terminology().once_pattern
    return bool(words and pattern is not None and pattern.search(words))


def _timing_unreadable(d: Dosage) -> bool:
    """Not single, and no frequency can be read: we cannot tell a bolus from a repeated dose."""
    return not is_single(d) and frequency_of(d) is None


def boluses(order_set: OrderSet) -> list[Bolus]:
    """Every procedural heparin bolus among the orders under review (first bolus dosage per order)."""
    return heparin_reading(order_set)[1]


# The first bolus dosage of an order with its route (`_read`), and the first dosage that might be one
# (an unplaced dose), per process, by the identity of the order's dosages (which the reader shares between orders): both
# are pure functions of the dosages (their timing, route and texts). Kept only for dosages with no instruction
# (`extra_text`: a patientInstruction is free text written for one patient). Each entry holds the dosages, so that
# their id is not reused while it is there.
_FIRST: dict[tuple[int, bool], tuple[tuple[Dosage, ...], tuple[Dosage, str | None] | None]] = {}


def _first_dosage(order: MedicationOrder, bolus: bool) -> tuple[Dosage, str | None] | None:
    """The first dosage of `order` that is a bolus (`bolus`), or whose timing cannot be read (not `bolus`), IV, IA or
    route-less, with its route; None when there is none."""
    dosages = order.dosages
    known = _FIRST.get((id(dosages), bolus))
    if known is not None and known[0] is dosages:
        return known[1]
    found: tuple[Dosage, str | None] | None = None
    kept = True
    for d in dosages:
        if d.extra_text:
            kept = False
        if found is not None or (d.rate is not None and not d.has_machine_dose):
            continue  # an infusion
        if not (is_single(d) if bolus else _timing_unreadable(d)):
            continue
        route = route_of(order, d)
        if route is not None and route not in BOLUS_ROUTES:
            continue
        found = (d, route)
    if kept:
        if len(_FIRST) >= 4096:
            _FIRST.clear()
        _FIRST[(id(dosages), bolus)] = (dosages, found)
    return found


def bolus_dose(bolus: Bolus, rule_code: str) -> tuple[Quantity, Quantity] | CouldNotVerify | None:
    """(low, high) of a bolus dose in heparin units or per kg; CouldNotVerify (DQ901) when it is not
    machine-readable; None when the dose is in mg or mL without a concentration (HEP205's business)."""
    quantities = dose_quantities(bolus.dosage)
    if quantities is None:
        text = (bolus.dosage.text or "none")[:80]
        return CouldNotVerify(
            "DQ901",
            bolus.order.ref,
            rule_code,
            "the heparin bolus dose",
            f"the dose is not machine-readable (text: '{text}')",
        )
    low, high = quantities
    if is_mass_or_volume_without_concentration(bolus.order, low) or (
        high is not low and is_mass_or_volume_without_concentration(bolus.order, high)
    ):  # a single dose is both bounds: judged once
        return None
    return quantities


def dose_quantities(d: Dosage) -> tuple[Quantity, Quantity] | None:
    """(low, high) of the dose; None when the dose is not machine-readable."""
    low = d.dose or d.dose_low or d.dose_high
    high = d.dose or d.dose_high or d.dose_low
    if low is None or high is None:
        return None
    return low, high


def mass_or_volume(order: MedicationOrder, q: Quantity) -> MassOrVolume | None:
    """HEP205's condition for one quantity: heparin in mg (or mg/kg) or mL (or mL/kg) that no coded
    concentration converts to heparin units. None when the quantity converts, or is something else."""
    strength = order.drug.strength
    known = _MASS_OR_VOLUME.get((id(q), id(strength)))
    if known is not None and known[0] is q and known[1] is strength:
        return known[2]
    kind = _mass_or_volume(q, strength)
    if len(_MASS_OR_VOLUME) >= 4096:
        _MASS_OR_VOLUME.clear()
    _MASS_OR_VOLUME[(id(q), id(strength))] = (q, strength, kind)
    return kind


# `mass_or_volume` per process, by the identity of the quantity and the product's strength (frozen values the reader
# shares between orders): a pure function of them. Each entry holds both, so that their ids are not reused.
_MASS_OR_VOLUME: dict[tuple[int, int], tuple[Quantity, Strength | None, MassOrVolume | None]] = {}


def _mass_or_volume(q: Quantity, strength: Strength | None) -> MassOrVolume | None:
    if not unit_of(q):
        return None
    for target in ("[iU]", "[iU]/kg"):
        if isinstance(convert(q, target, heparin=True, strength=strength), Converted):
            return None
    if isinstance(convert(q, "mg"), Converted) or isinstance(convert(q, "mg/kg"), Converted):
        return "mass"
    if isinstance(convert(q, "mL"), Converted) or isinstance(convert(q, "mL/kg"), Converted):
        return "volume"
    return None


def is_mass_or_volume_without_concentration(order: MedicationOrder, q: Quantity) -> bool:
    return mass_or_volume(order, q) is not None


def is_per_kg(q: Quantity) -> bool:
    return not isinstance(convert(q, "[iU]/kg", heparin=True), UnitProblem)


def absolute_units(order: MedicationOrder, q: Quantity) -> Converted | UnitProblem:
    """The dose in heparin units ([iU]), through the coded concentration for a volume."""
    return convert(q, "[iU]", heparin=True, strength=order.drug.strength)


_ROUTE_LABELS = {"intravenous": "IV", "intra_arterial": "IA"}


def route_label(route: str | None) -> str:
    return _ROUTE_LABELS.get(route or "", "route not stated")
