"""Which orders hold which drug, read once per order set and engine run: the engine asks it which rules can
fire (META.applies_to), and the rules ask it for the orders of a drug or a class instead of each scanning the
orders again (~15 such questions an order set).

Every answer keeps the order of `order_set.medications` (under review) or `order_set.regimen`, as the scans it
replaces did. tests/rules/test_drug_index.py checks it against those scans.
"""

from __future__ import annotations

from linter.model import MedicationOrder, OrderSet
from linter.rules._memo import run_cache


class DrugIndex:
    """`reviewed[drug]` / `in_regimen[drug]`: the orders under review / of the regimen that hold the drug key.
    The lists are shared: callers copy before changing them (the helpers below return copies)."""

    __slots__ = ("_reviewed_with_any", "_with_any", "in_regimen", "order_set", "regimen", "reviewed")

    def __init__(self, order_set: OrderSet) -> None:
        self.order_set = order_set
        self.regimen = order_set.regimen
        reviewed: dict[str, list[MedicationOrder]] = {}
        for m in order_set.medications:
            for drug in m.drug.drugs:
                if drug in reviewed:
                    reviewed[drug].append(m)
                else:
                    reviewed[drug] = [m]
        self.reviewed = reviewed
        active = order_set.patient.active_medications
        if active:
            in_regimen = {drug: list(orders) for drug, orders in reviewed.items()}
            for m in active:
                for drug in m.drug.drugs:
                    if drug in in_regimen:
                        in_regimen[drug].append(m)
                    else:
                        in_regimen[drug] = [m]
            self.in_regimen = in_regimen
        else:
            self.in_regimen = reviewed
        self._with_any: dict[frozenset[str], list[MedicationOrder]] = {}
        self._reviewed_with_any: dict[frozenset[str], list[MedicationOrder]] = {}

    def with_any(self, drugs: frozenset[str]) -> list[MedicationOrder]:
        """Orders of the regimen holding any of `drugs` (a class's members), in regimen order; shared list."""
        found = self._with_any.get(drugs)
        if found is None:
            found = self._with_any[drugs] = _holding(drugs, self.in_regimen, self.regimen)
        return found

    def reviewed_with_any(self, drugs: frozenset[str]) -> list[MedicationOrder]:
        """Orders under review holding any of `drugs`, in the order of the orders under review; shared list."""
        found = self._reviewed_with_any.get(drugs)
        if found is None:
            found = self._reviewed_with_any[drugs] = _holding(drugs, self.reviewed, self.order_set.medications)
        return found


def _holding(
    drugs: frozenset[str], by_drug: dict[str, list[MedicationOrder]], orders: tuple[MedicationOrder, ...]
) -> list[MedicationOrder]:
    """The orders of `orders` (indexed in `by_drug`) that hold any of `drugs`, in their order."""
    present = drugs.intersection(by_drug)
    if not present:
        return []
    if len(present) == 1:  # one drug of the class ordered (most order sets): its orders, already in order
        (drug,) = present
        return by_drug[drug]
    return [m for m in orders if not drugs.isdisjoint(m.drug.drugs)]


def drug_index(order_set: OrderSet) -> DrugIndex:
    """The order set's index, built once per engine run (outside a run, built for each question)."""
    cache = run_cache()
    if cache is None:
        return DrugIndex(order_set)
    index = cache.get(DrugIndex)
    if index is None or index.order_set is not order_set:
        index = cache[DrugIndex] = DrugIndex(order_set)
    return index


def regimen_orders(order_set: OrderSet, drug: str) -> list[MedicationOrder]:
    """Orders of the regimen holding `drug`."""
    return list(drug_index(order_set).in_regimen.get(drug, ()))


def regimen_orders_with_any(order_set: OrderSet, drugs: frozenset[str]) -> list[MedicationOrder]:
    """Orders of the regimen holding any of `drugs`."""
    return list(drug_index(order_set).with_any(drugs))


def reviewed_orders_with_any(order_set: OrderSet, drugs: frozenset[str]) -> list[MedicationOrder]:
    """Orders under review holding any of `drugs`."""
    return list(drug_index(order_set).reviewed_with_any(drugs))


def regimen_has(order_set: OrderSet, drug: str) -> bool:
    return drug in drug_index(order_set).in_regimen


def regimen_drugs_among(order_set: OrderSet, drugs: frozenset[str]) -> set[str]:
    """The drug keys of `drugs` that some order of the regimen holds."""
    return set(drugs.intersection(drug_index(order_set).in_regimen))
