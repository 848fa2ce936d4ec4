"""Reading doses and frequencies the way RULES.md defines them ("Daily dose", "Loading dose",
"Procedural heparin bolus"). Shared by every dose rule, so that all of them agree on what "2.5 mg twice
daily" means.

A dose that cannot be read comes back as a `CouldNotVerify` (DQ901: not machine-readable; DQ902: unit not
convertible), never as a silent pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from linter.model import CouldNotVerify, Dosage, MedicationOrder, Strength
from linter.model_class import frozen_model
from linter.model_fast import copy_with
from linter.rules._common import fmt
from linter.rules._memo import run_cache
from linter.rules._units import convert, convert_fields, display_unit, strength_fields
from linter.terminology import terminology
from linter.units import Converted, UnitProblem, per_day_factor

PRN_SINGLE_WORDS = ("on call", "once", "single dose", "x1", "one time", "stat")


@frozen_model
class Frequency:
    low_per_day: float  # administrations per day, lower bound (frequency / periodMax)
    high_per_day: float  # upper bound (frequencyMax / period)
    text: str  # "2 per 1 d (BID)"


@frozen_model
class Phase:
    """One phase of an order (dosages applied together), with its dose per administration and per day."""

    dosages: tuple[Dosage, ...]
    single: bool  # one administration (no repeating timing, or count = 1, or a PRN single dose)
    per_admin_low: float
    per_admin_high: float
    per_day_low: float | None  # None for a single administration
    per_day_high: float | None
    unit: str
    frequency: Frequency | None
    # Each dosage's dose (low, high: converted) and frequency (None for a single administration): what `how`
    # says, worded only when a finding's text is read.
    readings: tuple[tuple[Converted, Converted, Frequency | None], ...]

    @property
    def dosage_index(self) -> int:
        return self.dosages[0].index

    @property
    def how(self) -> str:
        """Markdown explanation of the computation, one line per dosage."""
        lines: list[str] = []
        for lo, hi, f in self.readings:
            dose_text = lo.how if lo is hi else f"{lo.how} to {hi.how}"
            if f is None:
                lines.append(f"- dose: {dose_text} per administration (a single administration)")
                continue
            lines.append(
                f"- dose: {dose_text} x {f.text} = {fmt(lo.value * f.low_per_day)}"
                f"{'' if lo is hi and f.low_per_day == f.high_per_day else '-' + fmt(hi.value * f.high_per_day)}"
                f" {display_unit(self.unit)}/day"
            )
        return "\n".join(lines)


def is_single_administration(d: Dosage) -> bool:
    """RULES.md: no repeating timing, or count = 1, or a PRN/"on call to procedure" single dose."""
    t = d.timing
    if t.count == 1:
        return True
    if not t.has_repeat and not t.code:
        return True
    if t.has_repeat and t.frequency is None and t.period is None and t.code is None and not t.count:
        return True  # repeat with only bounds: one administration within the bounds
    if not d.as_needed:
        return False
    text = " ".join(x for x in (d.text, t.code_text, d.as_needed_text) if x).lower()
    return any(w in text for w in PRN_SINGLE_WORDS)


def frequency_of(d: Dosage) -> Frequency | None:
    """Administrations per day from timing.repeat, else timing.code (BID, Q8H...). None if unreadable."""
    t = d.timing
    return _frequency(t.frequency, t.frequency_max, t.period, t.period_max, t.period_unit, t.code)


# Remembered per process: the answer depends only on the timing's numbers and codes and the fixed timing
# table, and is a frozen value (every dose rule reads the same orders, and order sets repeat the same
# timings). The key holds no patient identifier: counts, periods, a unit and a timing code. Typed: 2 and 2.0
# are written differently in the text ("2 per 1 day").
@lru_cache(maxsize=4096, typed=True)
def _frequency(
    frequency: int | None,
    frequency_max: int | None,
    period: float | None,
    period_max: float | None,
    period_unit: str | None,
    timing_code: str | None,
) -> Frequency | None:
    if period is not None and period_unit:
        freq = frequency if frequency is not None else 1
        fmax = frequency_max if frequency_max is not None else freq
        high = per_day_factor(fmax, period, period_unit)
        low = per_day_factor(freq, period_max or period, period_unit)
        if high is None or low is None:
            return None
        text = f"{freq}{'-' + str(fmax) if fmax != freq else ''} {per_period(period, period_unit)}"
        if timing_code:
            text += f" ({timing_code})"
        return Frequency(low, high, text)
    code = terminology().timing_code(timing_code)
    if code is not None:
        per = per_day_factor(code.frequency, code.period, code.period_unit)
        if per is not None:
            return Frequency(per, per, f"{timing_code} ({code.frequency} {per_period(code.period, code.period_unit)})")
    return None


_PLURAL_WORDS = frozenset({"day", "hour", "week", "month", "year"})


def per_period(period: float, unit: str) -> str:
    """A FHIR Timing period as people say it: (1, "d") -> "per day"; (12, "h") -> "per 12 hours"."""
    word = display_unit(unit)
    if period == 1:
        return f"per {word}"
    return f"per {fmt(period)} {word}{'s' if word in _PLURAL_WORDS else ''}"


def phases(
    order: MedicationOrder,
    target_unit: str,
    *,
    rule_code: str,
    what: str,
    heparin: bool = False,
) -> list[Phase] | CouldNotVerify | UnitProblem:
    """Every dosing phase of `order` in `target_unit`.

    Dosages with the same `sequence` are given together (their daily doses add up); different sequences
    are successive phases (a loading dose, then maintenance). Without sequence numbers, single
    administrations are phases of their own and repeating dosages are given together.
    Returns CouldNotVerify (DQ901) when a dose or frequency is not machine-readable, or the UnitProblem
    when a unit cannot be converted (the rule decides: DQ902, or HEP205 for heparin in mg/mL).
    """
    if not order.dosages:
        return CouldNotVerify("DQ901", order.ref, rule_code, what, "the order has no dosageInstruction")
    if len(order.dosages) == 1:  # most orders: one dosage, one phase whatever its grouping key
        result = _phase(order, order.dosages, target_unit, rule_code=rule_code, what=what, heparin=heparin)
        return [result] if isinstance(result, Phase) else result
    groups: dict[object, list[Dosage]] = {}
    for d in order.dosages:
        if d.sequence is not None:
            key: object = ("seq", d.sequence)
        elif is_single_administration(d):
            key = ("single", d.index)
        else:
            key = ("repeating",)
        groups.setdefault(key, []).append(d)
    out: list[Phase] = []
    for dosages in groups.values():
        result = _phase(order, dosages, target_unit, rule_code=rule_code, what=what, heparin=heparin)
        if not isinstance(result, Phase):
            return result
        out.append(result)
    return out


_NO_FREQUENCY = "the frequency is not machine-readable (no timing.repeat frequency/period and no known timing.code)"


def _phase(
    order: MedicationOrder,
    dosages: Sequence[Dosage],
    target: str,
    *,
    rule_code: str,
    what: str,
    heparin: bool,
) -> Phase | CouldNotVerify | UnitProblem:
    strength = order.drug.strength
    if len(dosages) == 1 and (dosages[0].dose or dosages[0].dose_low or dosages[0].dose_high) is not None:
        # Most phases: one dosage with a dose. The loop below for it, without its lists and sums.
        d = dosages[0]
        lo_q = d.dose or d.dose_low or d.dose_high
        hi_q = d.dose or d.dose_high or d.dose_low
        assert lo_q is not None and hi_q is not None  # noqa: S101 - the test above
        # `convert`, inlined (its remembered question, keyed by the fields): a phase is read for every dose rule.
        fields = None if strength is None else strength_fields(strength)
        lo = convert_fields(lo_q.value, lo_q.unit, lo_q.system, lo_q.code, target, heparin, fields)
        if isinstance(lo, UnitProblem):
            return lo
        hi = (
            convert_fields(hi_q.value, hi_q.unit, hi_q.system, hi_q.code, target, heparin, fields)
            if hi_q is not lo_q
            else lo
        )
        if isinstance(hi, UnitProblem):
            return hi
        if is_single_administration(d):
            return Phase(tuple(dosages), True, lo.value, hi.value, None, None, target, None, ((lo, hi, None),))
        f = frequency_of(d)
        if f is None:
            return CouldNotVerify("DQ901", order.ref, rule_code, what, _NO_FREQUENCY)
        return Phase(
            tuple(dosages),
            False,
            lo.value,
            hi.value,
            0.0 + lo.value * f.low_per_day,
            0.0 + hi.value * f.high_per_day,
            target,
            f,
            ((lo, hi, f),),
        )
    single = len(dosages) == 1 and is_single_administration(dosages[0])
    lows: list[float] = []
    highs: list[float] = []
    day_low = day_high = 0.0
    readings: list[tuple[Converted, Converted, Frequency | None]] = []
    freq: Frequency | None = None
    for d in dosages:
        if not d.has_machine_dose:
            text = d.text or "no dose"
            if d.rate is not None:
                reason = "the order gives a rate, not a dose per administration"
            else:
                reason = (
                    f"the dose is not machine-readable (free text only: '{text[:80]}')"
                    if d.text
                    else "the dosage has no doseQuantity or doseRange"
                )
            return CouldNotVerify("DQ901", order.ref, rule_code, what, reason)
        lo_q = d.dose or d.dose_low or d.dose_high
        hi_q = d.dose or d.dose_high or d.dose_low
        assert lo_q is not None and hi_q is not None  # noqa: S101 - guarded by has_machine_dose
        lo = convert(lo_q, target, heparin=heparin, strength=strength)
        if isinstance(lo, UnitProblem):
            return lo
        hi = convert(hi_q, target, heparin=heparin, strength=strength) if hi_q is not lo_q else lo
        if isinstance(hi, UnitProblem):
            return hi
        lows.append(lo.value)
        highs.append(hi.value)
        if single:
            readings.append((lo, hi, None))
            continue
        f = frequency_of(d)
        if f is None:
            return CouldNotVerify("DQ901", order.ref, rule_code, what, _NO_FREQUENCY)
        freq = (
            f
            if freq is None
            else Frequency(
                freq.low_per_day + f.low_per_day,
                freq.high_per_day + f.high_per_day,
                f"{freq.text} + {f.text}",
            )
        )
        day_low += lo.value * f.low_per_day
        day_high += hi.value * f.high_per_day
        readings.append((lo, hi, f))
    return Phase(
        dosages=tuple(dosages),
        single=single,
        per_admin_low=min(lows),
        per_admin_high=max(highs),
        per_day_low=None if single else day_low,
        per_day_high=None if single else day_high,
        unit=target,
        frequency=freq,
        readings=tuple(readings),
    )


def unit_problem_to_dq(problem: UnitProblem, order: MedicationOrder, rule_code: str, what: str) -> CouldNotVerify:
    # RULES.md Terms: a value with no unit is DQ902 too (there is a dose, its unit is unknown); DQ901 is only
    # for no dose at all or text only.
    return CouldNotVerify("DQ902", order.ref, rule_code, what, problem.message)


def read_phases(
    order: MedicationOrder, target_unit: str, *, rule_code: str, what: str, heparin: bool = False
) -> list[Phase] | CouldNotVerify:
    """`phases`, with unit problems turned into DQ902 (or DQ901 for a missing unit). Shared by every rule
    that reads the same order in the same unit during one engine run."""
    cache = run_cache()  # memo, inlined
    if cache is None:
        result = phases(order, target_unit, rule_code=rule_code, what=what, heparin=heparin)
    else:
        key = ("phases", id(order), target_unit, heparin)
        cached = cache.get(key)
        if cached is None:
            cached = cache[key] = _shared_phases(order, target_unit, rule_code, what, heparin)
        result = cached
    if isinstance(result, CouldNotVerify):
        return copy_with(result, needed_by=rule_code, what=what)
    if isinstance(result, UnitProblem):
        return unit_problem_to_dq(result, order, rule_code, what)
    return result


# Phases read, per process, by the identity of the order's dosages and product strength, which the reader shares
# between orders (an order-set template's dosages are one tuple however often they are sent): a phase is a pure
# function of them, the target unit and `heparin`. Only phases are kept (a could-not-verify names its order), and
# only of dosages with no instruction (`extra_text`: a patientInstruction is free text written for one patient).
# Each entry holds the dosages and the strength, so that their ids are not reused while it is there.
_SHARED_PHASES: dict[tuple[int, int, str, bool], tuple[tuple[Dosage, ...], Strength | None, list[Phase]]] = {}


def _shared_phases(
    order: MedicationOrder, target_unit: str, rule_code: str, what: str, heparin: bool
) -> list[Phase] | CouldNotVerify | UnitProblem:
    dosages, strength = order.dosages, order.drug.strength
    key = (id(dosages), id(strength), target_unit, heparin)
    known = _SHARED_PHASES.get(key)
    if known is not None and known[0] is dosages and known[1] is strength:
        return known[2]
    if len(dosages) == 1:  # `phases`' own first step for one dosage, without its frame
        one = _phase(order, dosages, target_unit, rule_code=rule_code, what=what, heparin=heparin)
        result = [one] if isinstance(one, Phase) else one
    else:
        result = phases(order, target_unit, rule_code=rule_code, what=what, heparin=heparin)
    if type(result) is list and not any(d.extra_text for d in dosages):
        if len(_SHARED_PHASES) >= 4096:
            _SHARED_PHASES.clear()
        _SHARED_PHASES[key] = (dosages, strength, result)
    return result


def route_of(order: MedicationOrder, d: Dosage | None = None) -> str | None:
    """Route key (intra_arterial, intravenous, oral, sublingual ...) from the coded route, else from the
    route's text, else from the dosage text."""
    t = terminology()
    for dosage in [d] if d is not None else list(order.dosages):
        key = t.route_key(dosage.route)
        if key:
            return key
        text = " ".join(x for x in (dosage.text, *dosage.extra_text) if x)
        key = t.route_key_from_text(text) if text else None
        if key:
            return key
    return None


def stated_duration_days(order: MedicationOrder, dosages: Sequence[Dosage] | None = None) -> float | None:
    """A stated treatment duration: boundsDuration, boundsPeriod, expectedSupplyDuration, validityPeriod
    (the shortest stated one). `dosages`: read only these of the order's dosages (its maintenance dosages)."""
    candidates: list[float] = []
    for d in order.dosages if dosages is None else dosages:
        t = d.timing
        if t.bounds_duration_days is not None:
            candidates.append(t.bounds_duration_days)
        if t.bounds_start is not None and t.bounds_end is not None:
            candidates.append((t.bounds_end - t.bounds_start).total_seconds() / 86400)
        elif t.bounds_end is not None and order.authored_on is not None:
            candidates.append((t.bounds_end - order.authored_on).total_seconds() / 86400)
    if order.expected_supply_days is not None:
        candidates.append(order.expected_supply_days)
    if order.validity_start is not None and order.validity_end is not None:
        candidates.append((order.validity_end - order.validity_start).total_seconds() / 86400)
    return min(candidates) if candidates else None
