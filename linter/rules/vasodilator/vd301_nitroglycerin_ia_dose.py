"""VD301 nitroglycerin-ia-dose: intra-arterial nitroglycerin dose per administration outside 100-200 mcg.

## What it checks
When an order under review is nitroglycerin given intra-arterially (route coded SNOMED 58100008, or the words
"intra-arterial" / "IA" in the route or dosage text) as a dose per administration, then the dose, converted
to micrograms through UCUM (0.1 mg = 100 ug; a volume through the coded concentration, e.g. 0.1 mL of
RxNorm 245276 nitroglycerin 1 mg/mL = 100 ug), must lie within `min_ug`-`max_ug` (100-200 mcg). Outside is
a warning; at or above `critical_at_or_above_ug` (1,000 mcg) it is critical, the pattern of a mg/mcg
confusion (100 mg written for 100 mcg). For a `doseRange`, the high value is judged against the upper
limits and the low value against the lower. The suggestion updates the dose to `suggest_ug` (100 mcg) IA.

## Why it matters
Nitroglycerin 100-200 mcg intra-arterially prevents vasospasm of the tibial arteries during the procedure. A
1000-fold mg/mcg error is a bolus of 100 mg into an artery: profound hypotension.

## Example
Fires: `fixtures/VD301/fail-100-mg-ia.json` (critical), `fixtures/VD301/fail-250-mcg-ia.json` (warning),
`fixtures/VD301/fail-1000-mcg-ia.json` (critical at the boundary).
Silent: `fixtures/VD301/pass-0.1-mg-ia.json` (= 100 mcg), `fixtures/VD301/pass-200-mcg-ia.json`,
`fixtures/VD301/pass-sublingual-0.4-mg.json`.

## Options
- `min_ug`, `max_ug`: the source range per administration.
- `critical_at_or_above_ug`: profile default (mg/mcg confusion, clinical-kb.md §2.2).
- `suggest_ug`: the dose the suggestion proposes.

## Source
000_db9ef64a206b36dc.txt:32.

## Limitations
Silent for sublingual, transdermal, oral and intravenous orders (other indications), and for rate-only
(infusion) dosages, whatever the route. Readings taken: "intra-arterial" in the route's or the dosage's text
counts even when the coded route says otherwise (a text that says intra-arterial while the route is coded IV
is judged as IA); an order with no route at all (no coded route, no route words) is judged as IA only when
its coded product is an injectable nitroglycerin, with an "inferred" confidence, since in a BTK order set
such a single dose is the vasospasm bolus. A dose that is not machine-readable or whose unit does not
convert to micrograms is a DQ901/DQ902 "could not verify". The undiluted 5 mg/mL concentrate is not
recognized (its RxNorm code is unverified).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from linter.model import (
    Citation,
    Coding,
    CouldNotVerify,
    Dosage,
    DrugIdentity,
    Indicator,
    MedicationOrder,
    OrderSet,
    Quantity,
    RuleMeta,
    Scope,
    SetDose,
    SetRoute,
    Suggestion,
    UpdateAction,
)
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import finding_later, fmt, orders_of
from linter.rules._dose import unit_problem_to_dq
from linter.rules._units import convert, display_unit
from linter.terminology import phrase_pattern, terminology
from linter.units import Converted, UnitProblem

META = RuleMeta(
    code="VD301",
    name="nitroglycerin-ia-dose",
    family="vasodilator",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Intra-arterial nitroglycerin dose per administration outside {min_ug}-{max_ug} mcg",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "Technical success is optimized by using intraprocedural imaging like "
            "digital subtraction angiography with multiple views and adjunctive measures such as vasodilators "
            "(nitroglycerin 100-200mcg intra-arterially) to prevent vasospasm.",
            "32",
        ),
        Citation(
            "reference/clinical-kb.md §2.2",
            "single IA dose ≥ 1,000 ug (≥ 5× upper seed bound), **any dose "
            "with unit `mg` whose number is 100–200** (mg↔mcg confusion = 1,000×)",
        ),
    ),
    drugs=frozenset({"nitroglycerin"}),
    applies_to=frozenset({"nitroglycerin"}),
)

IA = "intra_arterial"
IA_ROUTE = Coding("http://snomed.info/sct", "58100008", "Intra-arterial route")
INJECTABLE_FORMS = frozenset({"solution", "injection"})


class Options(RuleOptions):
    min_ug: float
    max_ug: float
    critical_at_or_above_ug: float
    suggest_ug: float


def _ia_reading(order: MedicationOrder, d: Dosage) -> str | None:
    """How the dosage is intra-arterial: 'coded', 'text', 'assumed' (no route at all, injectable), or None."""
    drug = order.drug
    known = _IA_READINGS.get((id(d), id(drug)))
    if known is not None and known[0] is d and known[1] is drug:
        return known[2]
    reading = _read_ia(drug, d)
    if not d.extra_text:  # an instruction (a patientInstruction is written for one patient): not kept
        if len(_IA_READINGS) >= 4096:
            _IA_READINGS.clear()
        _IA_READINGS[(id(d), id(drug))] = (d, drug, reading)
    return reading


# `_ia_reading` per process, by the identity of the dosage and the drug identity (frozen values the reader shares
# between orders): a pure function of them. Kept only for a dosage with no instruction text; each entry holds the
# dosage and the identity, so that their ids are not reused while it is there.
_IA_READINGS: dict[tuple[int, int], tuple[Dosage, DrugIdentity, str | None]] = {}


def _read_ia(drug: DrugIdentity, d: Dosage) -> str | None:
    t = terminology()
    coded = t.route_key(d.route) if d.route is not None else None
    text = " ".join(x for x in (d.text, *d.extra_text) if x)
    if coded == IA:
        return "coded"
    if text and _says_ia(text):
        return "text"
    no_route = d.route is None and not (text and t.route_key_from_text(text))
    if no_route and drug.dose_form in INJECTABLE_FORMS:
        return "assumed"
    return None


def _in_ug(drug: DrugIdentity, d: Dosage, low_q: Quantity, high_q: Quantity) -> _Reading:
    """The dosage's low and high doses in ug (`convert`, through the product strength) with the quantities as sent,
    per process by the identity of the dosage and the drug identity, as `_ia_reading`: `convert` keys its answers by
    every field of the quantity and of the strength, which costs more to hash than the look-up here. A remembered
    reading is one object in every order set that sends the dosage (its texts are remembered by it: `_words`)."""
    known = _IN_UG.get(id(d))
    if known is not None and known[0] is d and known[1] is drug:
        return known[2]
    lo = convert(low_q, "ug", strength=drug.strength)
    hi = convert(high_q, "ug", strength=drug.strength) if high_q is not low_q else lo
    reading = (lo, hi, low_q, high_q)
    if not d.extra_text:  # as `_ia_reading`: a dosage with an instruction is not kept
        if len(_IN_UG) >= 4096:
            _IN_UG.clear()
        _IN_UG[id(d)] = (d, drug, reading)
    return reading


_Reading = tuple[Converted | UnitProblem, Converted | UnitProblem, Quantity, Quantity]

# `_in_ug` per process, by the identity of the dosage; each entry holds the dosage and the drug identity (a dosage
# shared by orders of two drugs is converted again for the other).
_IN_UG: dict[int, tuple[Dosage, DrugIdentity, _Reading]] = {}


@cache
def _ia_words() -> re.Pattern[str] | None:
    return phrase_pattern(terminology().routes[IA].text)


def _says_ia(text: str) -> bool:
    """Any intra-arterial spelling of routes.toml in the text (whatever other route words it also has)."""
    pat = _ia_words()
    return bool(pat and pat.search(text))


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    for order in orders_of(order_set, "nitroglycerin"):
        # low, high, dosage, reading, (the conversions and quantities the texts are made of)
        worst: tuple[float, float, Dosage, str, _Read] | None = None
        unverified: CouldNotVerify | None = None
        for d in order.dosages:
            if d.rate is not None and not d.has_machine_dose:
                continue  # an infusion
            reading = _ia_reading(order, d)
            if reading is None:
                continue
            low_q = d.dose or d.dose_low or d.dose_high
            high_q = d.dose or d.dose_high or d.dose_low
            if low_q is None or high_q is None:
                unverified = CouldNotVerify(
                    "DQ901",
                    order.ref,
                    META.code,
                    "the intra-arterial nitroglycerin dose",
                    f"the dose is not machine-readable (free text only: '{(d.text or 'no dose')[:80]}')"
                    if d.text
                    else "the dosage has no doseQuantity or doseRange",
                )
                continue
            converted = _in_ug(order.drug, d, low_q, high_q)
            lo, hi = converted[0], converted[1]
            if isinstance(lo, UnitProblem) or isinstance(hi, UnitProblem):
                problem = lo if isinstance(lo, UnitProblem) else hi
                if isinstance(problem, UnitProblem):
                    unverified = unit_problem_to_dq(problem, order, META.code, "the intra-arterial nitroglycerin dose")
                continue
            if worst is None or _badness(lo.value, hi.value, options) > _badness(worst[0], worst[1], options):
                worst = (lo.value, hi.value, d, reading, cast(_Read, converted))  # lo and hi: converted
        if worst is None:
            if unverified is not None:
                yield unverified
            continue
        low_ug, high_ug, d, reading, read = worst
        too_high = high_ug > options.max_ug + 1e-9
        too_low = low_ug < options.min_ug - 1e-9
        if not (too_high or too_low):
            if unverified is not None:
                yield unverified
            continue
        yield _finding(order, d, (low_ug, high_ug), read, reading, too_high, options)


_Read = tuple[Converted, Converted, Quantity, Quantity]  # low and high: converted, as sent


def _as_sent(q: Quantity) -> str:
    unit = q.unit or q.code or ""
    return f"{fmt(q.value)} {display_unit(unit)}".strip()


def _badness(low: float, high: float, options: Options) -> float:
    if high >= options.critical_at_or_above_ug:
        return 3 + high
    if high > options.max_ug or low < options.min_ug:
        return 1 + max(high / options.max_ug, options.min_ug / max(low, 1e-9))
    return 0


def _finding(
    order: MedicationOrder,
    d: Dosage,
    dose_ug: tuple[float, float],
    read: _Read,
    reading: str,
    too_high: bool,
    options: Options,
) -> Emitted:
    low_ug, high_ug = dose_ug
    critical = high_ug >= options.critical_at_or_above_ug - 1e-9
    shown = high_ug if too_high else low_ug
    fix = f"Change nitroglycerin to {fmt(options.suggest_ug)} mcg intra-arterially"
    changes: tuple[SetDose | SetRoute, ...] = (SetDose(d.index, options.suggest_ug, "ug", "mcg"),)
    if reading != "coded":
        changes = (*changes, SetRoute(d.index, IA_ROUTE))
    return finding_later(
        META,
        _texts,
        (order, read, reading, too_high, critical, shown, fix, options, not d.extra_text),
        [order.ref],
        indicator=Indicator.CRITICAL if critical else Indicator.WARNING,
        suggestion=Suggestion(fix, (UpdateAction(order.ref, fix, changes),)),
        values={
            "dose_ug": shown,
            "dose_ug_low": low_ug,
            "dose_ug_high": high_ug,
            "route_reading": reading,
            "suggested_dose": options.suggest_ug,
            "suggested_unit": "ug",
        },
        confidence="inferred" if reading == "assumed" else "definite",
    )


# How the dosage was read as intra-arterial (`_ia_reading`), as a finding's detail says it.
_ROUTE_NOTES = {
    "coded": "route coded intra-arterial (SNOMED 58100008)",
    "text": "intra-arterial per the order's text",
    "assumed": (
        "no route stated; an injectable nitroglycerin single dose is read as the intra-arterial vasospasm bolus"
    ),
}


def _texts(order: MedicationOrder, read: _Read, reading: str, *rest: Any) -> tuple[str, list[str]]:
    """The finding's summary and detail lines (built when first read): the line naming the order, then `_words`
    of the reading (`rest`: its other arguments, as `_finding` passes them)."""
    summary, *lines = _words(read, reading, *rest)
    return summary, [f"**{order.name}** (`{order.ref}`): {_ROUTE_NOTES[reading]}.", *lines]


def _words(
    read: _Read,
    reading: str,
    too_high: bool,
    critical: bool,
    shown: float,
    fix: str,
    options: Options,
    kept: bool,
) -> tuple[str, str, str, str]:
    """The summary and the detail lines that do not name the order. All are functions of the reading (remembered per
    dosage by `_in_ug`: one object in every order set that sends the dosage) and the options, so a kept reading's
    words are remembered by its identity and the options' (each entry holds both)."""
    if kept:
        known = _WORDS.get(id(read))
        if known is not None and known[0] is read and known[1] is options and known[2] == reading:
            return known[3]
    lo, hi, low_q, high_q = read
    how = lo.how if lo is hi else f"{lo.how} to {hi.how}"
    sent = _as_sent(low_q) if low_q is high_q else f"{_as_sent(low_q)} to {_as_sent(high_q)}"
    rng = f"{fmt(options.min_ug)}-{fmt(options.max_ug)} mcg"
    dose = f"{fmt(shown)} mcg"  # written once, read up to three times
    if critical:
        band = (
            f"at or above {fmt(options.critical_at_or_above_ug)} mcg, {fmt(shown / options.max_ug)} times the "
            "upper bound: the pattern of a mg/mcg (1000-fold) confusion"
        )
    else:
        band = f"{'above' if too_high else 'below'} the source range {rng}"
    summary = (
        f"Nitroglycerin {sent} IA"
        + ("" if sent == dose else f" = {dose}")
        + f" per dose; source range {rng}"
        + (" (likely mg/mcg mix-up)" if critical else "")
    )
    words = (
        summary,
        f"- dose: {how} per administration = **{dose}**",
        f"The dose is **{band}**.",
        f"Suggested: {fix}.",
    )
    if kept:
        if len(_WORDS) >= 4096:
            _WORDS.clear()
        _WORDS[id(read)] = (read, options, reading, words)
    return words


# `_words` of the remembered readings.
_WORDS: dict[int, tuple[_Read, Options, str, tuple[str, str, str, str]]] = {}
