"""DQ905 code-contradicts-dose: the coded clinical drug disagrees with the dose or with the order's text.

## What it checks
When an order under review is coded with a clinical drug whose strength we know (an RxNorm SCD such as
1114198 rivaroxaban 10 MG Oral Tablet) and either
- the dose is not a whole or half multiple of that strength between 0.5 and 8 (options), e.g. 2.5 mg of a
  10 mg tablet, or
- the order's text names another strength of the same unit ("rivaroxaban 2.5 mg tablet"),
then it warns that the code contradicts the dose or the text.

## Why it matters
A wrong product code is how a 2.5 mg COMPASS/VOYAGER regimen silently becomes 10 mg at dispensing, and how
dose rules keyed on the product get the wrong answer (reference/clinical-kb.md §1.1).

## Example
Fires: `fixtures/DQ905/fail-rivaroxaban-10mg-code-2.5mg-dose.json`.
Silent: `fixtures/DQ905/pass-rivaroxaban-2.5mg-code.json`.

## Options
- `min_multiple`, `max_multiple`, `step`: the accepted multiples of the product strength (0.5 to 8 by 0.5).

## Source
RULES.md DQ905; reference/clinical-kb.md §1.1 ("RXCUI 1114198 is rivaroxaban 10 mg, not 2.5 mg").

## Limitations
Checked for products dosed per tablet/capsule (solutions are dosed by volume and skipped for the multiple
test). The text test compares strengths in the same unit only (mg with mg).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from linter.lazy_re import lazy_compile
from linter.model import (
    Citation,
    Dosage,
    DrugIdentity,
    Finding,
    Indicator,
    MedicationOrder,
    OrderSet,
    RuleMeta,
    Scope,
    Strength,
)
from linter.rules._base import RuleOptions
from linter.rules._common import OVERRIDE_DATA_WRONG, finding_later, fmt
from linter.rules._units import canonical_unit, convert, convert_fields, display_unit
from linter.units import Converted

META = RuleMeta(
    code="DQ905",
    name="code-contradicts-dose",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="The coded clinical drug contradicts the ordered dose or the strength named in the text",
    citations=(
        Citation(
            "RULES.md",
            "DQ905: the coded clinical drug contradicts the dose or the text: the dose is not a "
            "whole or half multiple (0.5 to 8) of the coded product's strength, or the text names another "
            "strength (e.g. RxNorm 1114198 is rivaroxaban 10 mg, ordered as 2.5 mg).",
        ),
        Citation(
            "reference/clinical-kb.md §1.1",
            "RXCUI 1114198 is rivaroxaban 10 mg, not 2.5 mg; the 2.5 mg tablet is 2059015.",
        ),
    ),
)


class Options(RuleOptions):
    min_multiple: float
    max_multiple: float
    step: float


# `\d\d*`, not `\d+` (the same matches): a pattern that opens with a character class lets sre skip to the digits.
_STRENGTH_TEXT = lazy_compile(r"(\d\d*(?:\.\d+)?)\s*(mg|mcg|ug|µg|g)\b", re.IGNORECASE)


def _problem(
    m: MedicationOrder, low: float, high: float, step: float, verdicts: _Verdicts
) -> tuple[tuple[Any, ...], bool] | None:
    """What contradicts the code (`_verdict`, worded only when read), and whether that verdict is remembered. `low`,
    `high`: the accepted multiples with their tolerance, and `step`, read from the options once per order set;
    `verdicts`: the verdicts remembered for them (`_verdicts_for`)."""
    drug = m.drug
    st = drug.strength
    if st is None or st.per_unit or drug.product_code is None or not st.value > 0:
        return None
    dosages, medication = m.dosages, m.medication
    key = id(dosages) ^ id(drug)  # ints, hashed in C: the entry's identities are checked below
    known = verdicts.get(key)
    if known is not None and known[0] is drug and known[1] is dosages and known[2] is medication:
        verdict, kept = known[3], True
    else:
        verdict = _verdict(st, dosages, medication.text, low, high, step)
        kept = not any(d.extra_text for d in dosages)  # as the reader: no instruction text kept
        if kept:
            if len(verdicts) >= 4096:
                verdicts.clear()
            verdicts[key] = (drug, dosages, medication, verdict)
    if verdict is None:
        return None
    return verdict, kept


# `_verdict` per process: for each accepted-multiples setting (low, high, step), by the identity of the order's drug,
# dosages and medication concept (values the reader shares between orders: an order-set template's product and
# dosages). Each entry holds the three, so that their ids are not reused while it is there.
_Verdicts = dict[int, tuple[Any, Any, Any, tuple[Any, ...] | None]]
_VERDICTS: dict[tuple[float, float, float], _Verdicts] = {}


def _verdicts_for(low: float, high: float, step: float) -> _Verdicts:
    """The verdicts remembered for one setting of the accepted multiples (looked up once per order set, so that
    each order's look-up is keyed by two ids, not by a tuple of ids and floats)."""
    verdicts = _VERDICTS.get((low, high, step))
    if verdicts is None:
        if len(_VERDICTS) >= 64:
            _VERDICTS.clear()
        verdicts = _VERDICTS[(low, high, step)] = {}
    return verdicts


def _verdict(
    st: Strength, dosages: tuple[Dosage, ...], medication_text: str | None, low: float, high: float, step: float
) -> tuple[Any, ...] | None:
    """("dose", value, unit, ratio, st) when a dose is not an accepted multiple of the strength, ("text", text, num,
    u, unit, st) when a text names another strength, else None."""
    unit = canonical_unit(st.unit)
    for d in dosages:
        for q in (d.dose,) if d.dose_low is None and d.dose_high is None else (d.dose, d.dose_low, d.dose_high):
            if q is None:
                continue
            c = convert_fields(q.value, q.unit, q.system, q.code, unit, False, None)  # convert(q, unit), inlined
            if not isinstance(c, Converted):
                continue
            value = c.value
            ratio = value / st.value
            steps = ratio / step
            if not (low <= ratio <= high and abs(steps - round(steps)) < 1e-6):
                return "dose", value, unit, ratio, st
    texts = [medication_text]
    for d in dosages:
        texts.append(d.text)
    for text in texts:
        if not text:  # nothing to find in no text
            continue
        for num, u in _STRENGTH_TEXT.findall(text):
            if canonical_unit(u) != unit:
                continue
            if abs(float(num) - st.value) > 1e-9 and not _is_dose_mention(text, num, dosages, st):
                return "text", text, num, u, unit, st
    return None


def _words(verdict: tuple[Any, ...], drug: DrugIdentity, options: Options, kept: bool) -> tuple[str, str]:
    """The verdict in words, short and long. A remembered verdict's words are remembered with it, by its identity
    and the options' (the same product, dose and multiples are worded alike in every order set that sends them)."""
    if kept:
        known = _WORDS.get(id(verdict))
        if known is not None and known[0] is verdict and known[1] is options:
            return known[2]
    if verdict[0] == "dose":
        _, value, unit, ratio, st = verdict
        words = _dose_texts(drug, value, unit, ratio, st, options)
    else:
        words = _text_texts(drug, *verdict[1:])
    if kept:
        if len(_WORDS) >= 4096:
            _WORDS.clear()
        _WORDS[id(verdict)] = (verdict, options, words)
    return words


# `_words` of the remembered verdicts (each entry holds the verdict, so that its id is not reused while it is there).
_WORDS: dict[int, tuple[tuple[Any, ...], Options, tuple[str, str]]] = {}


def _dose_texts(
    drug: DrugIdentity, value: float, unit: str, ratio: float, st: Strength, options: Options
) -> tuple[str, str]:
    shown = display_unit(unit)
    dose, times, strength = fmt(value), fmt(ratio), fmt(st.value)  # each written once, read twice
    return (
        f"dose {dose} {shown} is {times} x the coded {strength} {shown} tablet",
        f"The dose {dose} {shown} is {times} times the strength of the coded product "
        f"(RxNorm {drug.product_code}, {drug.product_display}: {strength} {shown}); accepted "
        f"multiples are {fmt(options.min_multiple)} to {fmt(options.max_multiple)} in steps of "
        f"{fmt(options.step)}.",
    )


def _text_texts(drug: DrugIdentity, text: str, num: str, u: str, unit: str, st: Strength) -> tuple[str, str]:
    shown = display_unit(unit)
    strength = fmt(st.value)
    return (
        f"text says {num} {u} but code is {strength} {shown} tablet",
        f'The text "{text[:120]}" names {num} {u}, but the coded product is RxNorm '
        f"{drug.product_code} ({drug.product_display}, {strength} {shown}).",
    )


def _texts(m: MedicationOrder, verdict: tuple[Any, ...], kept: bool, options: Options) -> tuple[str, list[str]]:
    short, long = _words(verdict, m.drug, options, kept)
    return (
        f"{m.name}: coded product contradicts the order ({short})",
        [f"`{m.ref}`: {long}", "Check that the orderable's RxNorm code matches the intended strength."],
    )


def _is_dose_mention(text: str, num: str, dosages: tuple[Dosage, ...], st: Strength | None) -> bool:
    """'aspirin 81 mg tablet, take 162 mg' : numbers equal to the ordered dose are dose mentions."""
    value = float(num)
    for d in dosages:
        for q in (d.dose, d.dose_low, d.dose_high):
            if q is None:
                continue
            if abs(q.value - value) < 1e-9:
                return True
            if st is not None:  # "2 tablets (162 mg)": the dose through the product strength
                through = convert(q, canonical_unit(st.unit), strength=st)
                if isinstance(through, Converted) and abs(through.value - value) < 1e-6:
                    return True
    return False


def check(order_set: OrderSet, options: Options) -> Iterable[Finding]:
    # The options read once (a pydantic model's attribute is read through its __getattr__ hook), as _problem uses them.
    low, high, step = options.min_multiple - 1e-9, options.max_multiple + 1e-9, options.step
    verdicts = _verdicts_for(low, high, step)
    for m in order_set.medications:
        problem = _problem(m, low, high, step, verdicts)
        if problem is None:
            continue
        yield finding_later(
            META,
            _texts,
            (m, *problem, options),
            [m.ref],
            override_reasons=(OVERRIDE_DATA_WRONG,),
        )
