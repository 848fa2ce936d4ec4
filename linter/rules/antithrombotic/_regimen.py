"""Helpers shared by the antithrombotic family (AT101-AT115): reading an order as a daily regimen, and
recognizing the regimens the catalog names (dual pathway inhibition, full-dose oral anticoagulant, the
antiplatelets and P2Y12 inhibitors in the regimen).

Readings taken (RULES.md "Terms"), written once here so that every AT rule agrees:
- The **regimen** is `order_set.regimen`: orders under review plus active medications in context. Dose
  and frequency rules judge only the orders under review; combination rules read the regimen and fire
  only when at least one drug of the combination is under review (`any_under_review`).
- A **single administration** (`linter.rules._dose.is_single_administration`: no repeating timing, or
  count = 1, or a PRN single dose) is a loading dose when it lies within the rule's loading range;
  otherwise it is judged as a daily dose (its dose, once a day), so that a mis-entered maintenance order
  without timing is still judged, never silently passed.
- **DPI** (dual pathway inhibition) is rivaroxaban `dpi_rivaroxaban_mg` (2.5 mg) per administration,
  exactly `dpi_per_day` (2) administrations a day (timing.repeat 2 per 1 d, 1 per 12 h, or timing.code BID).
- A **full-dose oral anticoagulant** is warfarin, apixaban, dabigatran or edoxaban at any dose, or
  rivaroxaban at `full_dose_rivaroxaban_mg_per_day` (10) mg/day or more (the high end of a doseRange).
- Doses are converted to mg through UCUM (tablets through the coded product strength) before any
  comparison; a dose that cannot be read comes back as a `CouldNotVerify` (DQ901/DQ902).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from linter.messages import times_daily
from linter.model import (
    ConditionRecord,
    CouldNotVerify,
    Dosage,
    FixChange,
    MedicationOrder,
    OrderSet,
    Strength,
    Suggestion,
    UpdateAction,
)
from linter.model_class import frozen_model
from linter.model_fast import copy_with
from linter.rules._common import daily_dose_suggestion, drugs_in_class, fmt
from linter.rules._dose import Phase, is_single_administration, read_phases
from linter.rules._drug_index import drug_index
from linter.rules._memo import run_cache

EPS = 1e-6

ANTIPLATELET_CLASS = "antiplatelet"  # aspirin, clopidogrel, prasugrel, ticagrelor, ticlopidine
CILOSTAZOL_CLASS = "antiplatelet_cilostazol"
P2Y12_CLASS = "p2y12"  # clopidogrel, prasugrel, ticagrelor
OAC_CLASS = "oac"  # rivaroxaban, apixaban, dabigatran, edoxaban, warfarin
FULL_DOSE_AT_ANY_DOSE = frozenset({"warfarin", "apixaban", "dabigatran", "edoxaban"})
_FULL_DOSE_CANDIDATES = FULL_DOSE_AT_ANY_DOSE | {"rivaroxaban"}


@frozen_model
class Daily:
    """One dosing phase of an order read as a daily regimen (mg). A function of the order's dosages and product
    strength only, not of the order: order sets that send the same dosages share it (`read_daily`)."""

    phase: Phase
    single: bool  # one administration; per-day values are then the dose itself, once
    per_admin_low: float
    per_admin_high: float
    per_day_low: float
    per_day_high: float
    admins_low: float  # administrations per day
    admins_high: float
    kept: bool = False  # shared by the order sets of the process (`_SHARED_DAILY`): its `how` is remembered

    @property
    def dosage_index(self) -> int:
        return self.phase.dosage_index

    @property
    def how(self) -> str:
        if not self.kept:
            return self._how()
        known = _HOWS.get(id(self))
        if known is None or known[0] is not self:
            if len(_HOWS) >= 4096:
                _HOWS.clear()
            known = _HOWS[id(self)] = (self, self._how())
        return known[1]

    def _how(self) -> str:
        if self.single:
            return (
                f"{self.phase.how}\n- no repeating timing: read as one administration, judged as a daily "
                f"dose of {range_text(self.per_day_low, self.per_day_high)} mg"
            )
        return self.phase.how

    def per_admin_is(self, mg: float) -> bool:
        return abs(self.per_admin_low - mg) < EPS and abs(self.per_admin_high - mg) < EPS

    def admins_are(self, per_day: float) -> bool:
        return abs(self.admins_low - per_day) < EPS and abs(self.admins_high - per_day) < EPS

    def within(self, low: float, high: float) -> bool:
        """Every administration of this phase lies within [low, high] mg."""
        return self.per_admin_low >= low - EPS and self.per_admin_high <= high + EPS

    def describe(self) -> str:
        """'325 mg twice daily', '600 mg once (single administration)', '50-100 mg twice daily'."""
        return _describe(self.per_admin_low, self.per_admin_high, self.single, self.admins_low, self.admins_high)


# id(kept Daily) -> (the Daily, its `how`): the explanation of a shared reading, written once.
_HOWS: dict[int, tuple[Daily, str]] = {}


@lru_cache(maxsize=1024)  # a pure function of the numbers, asked by most texts of a daily reading
def _describe(per_admin_low: float, per_admin_high: float, single: bool, admins_low: float, admins_high: float) -> str:
    dose = f"{range_text(per_admin_low, per_admin_high)} mg"
    if single:
        return f"{dose} once (single administration)"
    return f"{dose} {frequency_phrase(admins_low, admins_high)}"


@lru_cache(maxsize=1024)  # pure functions of the numbers, asked by every text of a daily reading
def range_text(low: float, high: float) -> str:
    return fmt(low) if abs(low - high) < EPS else f"{fmt(low)}-{fmt(high)}"


@lru_cache(maxsize=256)
def frequency_phrase(low: float, high: float) -> str:
    if abs(low - high) < EPS:
        return times_daily(low)
    return f"{fmt(low)}-{fmt(high)} times a day"


def read_daily(order: MedicationOrder, *, rule_code: str, what: str) -> list[Daily] | CouldNotVerify:
    """Every phase of `order` as a daily regimen in mg (sequenced loading + maintenance give two phases).
    The list is shared by every rule of the run that reads the order, and by the order sets of the process that
    send the same dosages (callers never change it)."""
    cache = run_cache()  # memo, inlined: ~7 reads an order set
    if cache is None:
        daily = _read_daily(order, rule_code, what)
    else:
        key = ("daily", id(order))
        cached = cache.get(key)
        if cached is None:
            cached = cache[key] = _shared_daily(order, rule_code, what)
        daily = cached
    if isinstance(daily, CouldNotVerify):  # read for the first rule that asked: said for this one
        return copy_with(daily, needed_by=rule_code, what=what)
    return daily


def _read_daily(order: MedicationOrder, rule_code: str, what: str) -> list[Daily] | CouldNotVerify:
    phases = read_phases(order, "mg", rule_code=rule_code, what=what)
    if isinstance(phases, CouldNotVerify):
        return phases
    return _as_daily(phases, False)


# Daily readings, per process, by the identity of the order's dosages and product strength, as
# `linter.rules._dose` keeps their phases (and on the same terms: only readings, never a could-not-verify, which
# names its order; only of dosages with no instruction, free text written for one patient). Each entry holds the
# dosages and the strength, so that their ids are not reused while it is there.
_SHARED_DAILY: dict[tuple[int, int], tuple[tuple[Dosage, ...], Strength | None, list[Daily]]] = {}


def _shared_daily(order: MedicationOrder, rule_code: str, what: str) -> list[Daily] | CouldNotVerify:
    dosages, strength = order.dosages, order.drug.strength
    key = (id(dosages), id(strength))
    known = _SHARED_DAILY.get(key)
    if known is not None and known[0] is dosages and known[1] is strength:
        return known[2]
    phases = read_phases(order, "mg", rule_code=rule_code, what=what)
    if isinstance(phases, CouldNotVerify):
        return phases
    if any(d.extra_text for d in dosages):
        return _as_daily(phases, False)
    daily = _as_daily(phases, True)
    if len(_SHARED_DAILY) >= 4096:
        _SHARED_DAILY.clear()
    _SHARED_DAILY[key] = (dosages, strength, daily)
    return daily


def _as_daily(phases: list[Phase], kept: bool) -> list[Daily]:
    out: list[Daily] = []
    for p in phases:
        if p.single or p.per_day_low is None or p.per_day_high is None or p.frequency is None:
            out.append(
                Daily(p, True, p.per_admin_low, p.per_admin_high, p.per_admin_low, p.per_admin_high, 1.0, 1.0, kept)
            )
        else:
            out.append(
                Daily(
                    p,
                    False,
                    p.per_admin_low,
                    p.per_admin_high,
                    p.per_day_low,
                    p.per_day_high,
                    p.frequency.low_per_day,
                    p.frequency.high_per_day,
                    kept,
                )
            )
    return out


def dose_suggestion(label: str, ref: str, dosage_index: int, mg: float, per_day: float) -> Suggestion:
    """`daily_dose_suggestion`, with its dose and frequency changes (values of the numbers alone) built once a
    process: a dose rule's finding suggests the same change in most order sets."""
    return Suggestion(label, (UpdateAction(ref, label, _dose_changes(dosage_index, mg, per_day)),))


@lru_cache(maxsize=256, typed=True)  # typed: 81 and 81.0 are written differently in a fix
def _dose_changes(dosage_index: int, mg: float, per_day: float) -> tuple[FixChange, ...]:
    action = daily_dose_suggestion("", "", dosage_index, mg, per_day).actions[0]
    assert isinstance(action, UpdateAction)  # noqa: S101 - its one update of the order
    return action.changes


def is_dpi_phase(order: MedicationOrder, d: Daily, dpi_mg: float, dpi_per_day: float) -> bool:
    """A phase `d` of `order`: rivaroxaban `dpi_mg` per administration, exactly `dpi_per_day` administrations a day."""
    return order.is_("rivaroxaban") and not d.single and d.per_admin_is(dpi_mg) and d.admins_are(dpi_per_day)


def dpi_phases(
    order: MedicationOrder, dpi_mg: float, dpi_per_day: float, *, rule_code: str
) -> list[Daily] | CouldNotVerify:
    """The DPI phases of a rivaroxaban order (empty when it is not given as DPI)."""
    daily = read_daily(order, rule_code=rule_code, what="the rivaroxaban dose and frequency")
    if isinstance(daily, CouldNotVerify):
        return daily
    found = []  # a loop, not a comprehension: no function object and frame per order
    for d in daily:
        if is_dpi_phase(order, d, dpi_mg, dpi_per_day):
            found.append(d)
    return found


def maintenance_dosages(order: MedicationOrder) -> tuple[Dosage, ...]:
    """The order's repeating dosages (its maintenance: not single administrations), in order."""
    dosages = order.dosages
    if len(dosages) == 1:  # most orders: the one dosage or none, without a generator
        return () if is_single_administration(dosages[0]) else dosages
    return tuple(d for d in dosages if not is_single_administration(d))


@frozen_model
class RegimenRead:
    """Orders of the regimen that match, and the ones that could not be read."""

    matching: tuple[MedicationOrder, ...]
    unreadable: tuple[CouldNotVerify, ...]
    how: tuple[str, ...] = ()


_NOTHING = RegimenRead((), ())  # no order matches, none unreadable: the answer for most order sets


def dpi_orders(order_set: OrderSet, dpi_mg: float, dpi_per_day: float, *, rule_code: str) -> RegimenRead:
    """Rivaroxaban orders of the regimen given as DPI (2.5 mg twice daily). Read once per run (five rules ask);
    the could-not-verify records read for the first rule that asked are said for this one."""
    cache = run_cache()  # memo, inlined
    read: RegimenRead | None
    if cache is None:
        read = _dpi_orders(order_set, dpi_mg, dpi_per_day, rule_code)
    else:
        key = ("dpi", id(order_set), dpi_mg, dpi_per_day)
        read = cache.get(key)
        if read is None:
            read = cache[key] = _dpi_orders(order_set, dpi_mg, dpi_per_day, rule_code)
    if read.unreadable and read.unreadable[0].needed_by != rule_code:
        return RegimenRead(read.matching, tuple(copy_with(u, needed_by=rule_code) for u in read.unreadable), read.how)
    return read


def _dpi_orders(order_set: OrderSet, dpi_mg: float, dpi_per_day: float, rule_code: str) -> RegimenRead:
    matching: list[MedicationOrder] = []
    unreadable: list[CouldNotVerify] = []
    how: list[str] = []
    for m in drug_index(order_set).in_regimen.get("rivaroxaban", ()):
        phases = dpi_phases(m, dpi_mg, dpi_per_day, rule_code=rule_code)
        if isinstance(phases, CouldNotVerify):
            unreadable.append(phases)
        elif phases:
            matching.append(m)
            how.append(f"`{m.ref}` rivaroxaban {phases[0].describe()}")
    if not matching and not unreadable:
        return _NOTHING
    return RegimenRead(tuple(matching), tuple(unreadable), tuple(how))


def full_dose_oac_orders(order_set: OrderSet, rivaroxaban_full_mg_per_day: float, *, rule_code: str) -> RegimenRead:
    """Full-dose oral anticoagulants of the regimen (RULES.md "Full-dose oral anticoagulant")."""
    matching: list[MedicationOrder] = []
    unreadable: list[CouldNotVerify] = []
    how: list[str] = []
    for m in drug_index(order_set).with_any(_FULL_DOSE_CANDIDATES):  # a shared list, never changed here
        if not FULL_DOSE_AT_ANY_DOSE.isdisjoint(m.drug.drugs):
            matching.append(m)
            names = ", ".join(sorted(m.drug.drugs & FULL_DOSE_AT_ANY_DOSE))
            how.append(f"`{m.ref}` {names}: full-dose oral anticoagulant at any dose")
            continue
        if not m.is_("rivaroxaban"):
            continue
        daily = read_daily(m, rule_code=rule_code, what="the rivaroxaban daily dose")
        if isinstance(daily, CouldNotVerify):
            unreadable.append(daily)
            continue
        top = daily[0] if len(daily) == 1 else max(daily, key=lambda d: d.per_day_high)
        if top.per_day_high >= rivaroxaban_full_mg_per_day - EPS:
            matching.append(m)
            how.append(
                f"`{m.ref}` rivaroxaban {top.describe()} = {range_text(top.per_day_low, top.per_day_high)} "
                f"mg/day (full dose: >= {fmt(rivaroxaban_full_mg_per_day)} mg/day)"
            )
    if not matching and not unreadable:
        return _NOTHING
    return RegimenRead(tuple(matching), tuple(unreadable), tuple(how))


def condition_list(conditions: Iterable[ConditionRecord]) -> str:
    """The documenting Conditions for a detail line: "`Condition/x` label (matched by text); ..."."""
    return "; ".join(
        f"`{c.ref}` {c.concept.label}" + (" (matched by text)" if c.matched_by == "text" else "") for c in conditions
    )


def condition_label(c: ConditionRecord) -> str:
    """A short name for a Condition in a summary: its first code, else its text (clipped)."""
    code = next((x.code for x in c.concept.codings if x.code), None)
    label = c.concept.label
    if code:
        return code
    return label if len(label) <= 40 else label[:39].rstrip() + "…"


def oac_names(orders: Iterable[MedicationOrder]) -> str:
    """'warfarin', 'apixaban and rivaroxaban': the anticoagulant drug names of `orders` (short, for summaries)."""
    members = drugs_in_class(OAC_CLASS)
    names = sorted({d for m in orders for d in m.drug.drugs & members})
    return " and ".join(names) or "oral anticoagulant"


def antiplatelet_drugs(order_set: OrderSet, *, include_cilostazol: bool) -> frozenset[str]:
    """Distinct antiplatelet drug keys in the regimen (cilostazol only when asked): one set operation on the run's
    drug index (`regimen_drugs_among` without its frame and copy)."""
    return _antiplatelets(include_cilostazol).intersection(drug_index(order_set).in_regimen)


@lru_cache(maxsize=2)
def _antiplatelets(include_cilostazol: bool) -> frozenset[str]:
    members = drugs_in_class(ANTIPLATELET_CLASS)
    return members | drugs_in_class(CILOSTAZOL_CLASS) if include_cilostazol else members


def p2y12_drugs() -> frozenset[str]:
    return drugs_in_class(P2Y12_CLASS)


def any_under_review(orders: Iterable[MedicationOrder]) -> bool:
    return any(m.under_review for m in orders)


def review_first(orders: Iterable[MedicationOrder]) -> list[MedicationOrder]:
    """Orders under review first (the finding's primary ref), then active medications; no duplicates."""
    seen: dict[str, MedicationOrder] = {}
    for m in orders:
        seen.setdefault(m.ref, m)
    return sorted(seen.values(), key=lambda m: not m.under_review)


def refs(orders: Sequence[MedicationOrder]) -> list[str]:
    return [m.ref for m in review_first(orders)]


def newest(orders: Sequence[MedicationOrder]) -> MedicationOrder:
    """The newest order: latest authoredOn among those dated; if none is dated, the last one."""
    dated = [(_aware(m.authored_on), i, m) for i, m in enumerate(orders) if m.authored_on is not None]
    if dated:
        return max(dated, key=lambda x: (x[0], x[1]))[2]
    return orders[-1]


def _aware(when: datetime | None) -> datetime:
    assert when is not None  # noqa: S101 - filtered by the caller
    return when if when.tzinfo else when.replace(tzinfo=UTC)
