"""What a procedural heparin bolus is (RULES.md "Procedural heparin bolus"), shared by HEP201-HEP205.

Unfractionated heparin, route intravenous or intra-arterial, a dose (not a rate), one administration (no
repeating timing, or count = 1, or a PRN / "on call to procedure" single dose). Subcutaneous prophylaxis
and infusions with a rate are not boluses.

Reading taken where the catalog is silent: an order with no route at all, given once as a dose, is read as
a bolus unless its text says subcutaneous; an order with a rate only is an infusion.
"""

from __future__ import annotations

from dataclasses import dataclass

from linter.model import Dosage, MedicationOrder, OrderSet, Quantity
from linter.rules._dose import is_single_administration, route_of
from linter.units import UnitProblem, convert, unit_of

BOLUS_ROUTES = frozenset({"intravenous", "intra_arterial"})


@dataclass(frozen=True, slots=True)
class Bolus:
    order: MedicationOrder
    dosage: Dosage
    route: str | None


def is_heparin(order: MedicationOrder) -> bool:
    return order.is_("heparin") and not (order.drug.drugs & {"enoxaparin", "dalteparin"})


def boluses(order_set: OrderSet) -> list[Bolus]:
    """Every procedural heparin bolus among the orders under review (first bolus dosage per order)."""
    out: list[Bolus] = []
    for order in order_set.medications:
        if not is_heparin(order):
            continue
        for d in order.dosages:
            if d.rate is not None and not d.has_machine_dose:
                continue  # an infusion
            if not is_single_administration(d):
                continue
            route = route_of(order, d)
            if route is not None and route not in BOLUS_ROUTES:
                continue
            out.append(Bolus(order, d, route))
            break
    return out


def dose_quantities(d: Dosage) -> tuple[Quantity, Quantity] | None:
    """(low, high) of the dose; None when the dose is not machine-readable."""
    low = d.dose or d.dose_low or d.dose_high
    high = d.dose or d.dose_high or d.dose_low
    if low is None or high is None:
        return None
    return low, high


def is_mass_or_volume_without_concentration(order: MedicationOrder, q: Quantity) -> bool:
    """HEP205's condition: heparin in mg or mL that no coded concentration converts to units."""
    result = convert(q, "[iU]", heparin=True, strength=order.drug.strength)
    if not isinstance(result, UnitProblem):
        return False
    if result.kind == "needs_strength":
        return True
    return convert(q, "mg").__class__ is not UnitProblem and bool(unit_of(q))


def is_per_kg(q: Quantity) -> bool:
    return not isinstance(convert(q, "[iU]/kg", heparin=True), UnitProblem)


def route_label(route: str | None) -> str:
    return {"intravenous": "IV", "intra_arterial": "IA"}.get(route or "", "route not stated")
