"""HEP204 act-target-out-of-range: a stated ACT target is not within 250-300 s.

## What it checks
When the order set is in BTK revascularization context and an activated clotting time (ACT) target is stated
(a `Goal` with the ACT measure, or the text of an order under review: "ACT 250-300 s", "ACT > 250",
"target ACT 250 to 300 seconds"), then its lower bound must not be below `min_act_seconds` (250 s) and its
upper bound must not be above `max_act_seconds` (300 s). A one-sided target judges only its stated bound:
"ACT > 250" passes, "ACT > 200" fires, "ACT < 300" passes; "200-300" and "250-320" fire; any range inside
250-300 passes. One warning per place the target is written (the Goal or the order), listing every target
there that is out of range.

## Why it matters
The source gives heparin to achieve an ACT of 250-300 s. A lower target under-anticoagulates (thrombosis of
the treated vessel); a higher one adds bleeding risk with no stated benefit.

## Example
Fires: `fixtures/HEP204/fail-act-240-300.json`, `fixtures/HEP204/fail-act-250-320.json`,
`fixtures/HEP204/fail-act-above-200.json`.
Silent: `fixtures/HEP204/pass-act-250-300.json`, `fixtures/HEP204/pass-act-above-250.json`.

## Options
- `min_act_seconds`, `max_act_seconds`: the source range.

## Source
000_db9ef64a206b36dc.txt:24.

## Limitations
Readings taken: the 250-300 s range is the target for unfractionated heparin, so HEP204 is silent when the
procedural anticoagulant under review is another parenteral anticoagulant (bivalirudin, argatroban,
fondaparinux) and no unfractionated heparin is under review; otherwise it judges every stated target in
BTK context, whether or not heparin is among the orders (an ACT target for a BTK procedure is the heparin
target). A Goal whose ACT value is not in a time unit is reported as a target that could not be read
(never silently passed). Texts are read by pattern (see HEP203's limitations): a target written in words the
pattern does not know is not judged, and "hold if ACT < 200" is read as a target with upper bound 200 s.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import ActTarget, Citation, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, RuleOptions
from linter.rules._common import drugs_in_class, fmt, make_finding
from linter.rules.heparin._act import request_targets
from linter.rules.heparin._bolus import heparin_orders

META = RuleMeta(
    code="HEP204",
    name="act-target-out-of-range",
    family="heparin",
    scope=Scope.BTK,
    default_indicator=Indicator.WARNING,
    summary=(
        "Stated ACT target not within {min_act_seconds}-{max_act_seconds} s (lower bound below "
        "{min_act_seconds} s or upper bound above {max_act_seconds} s)"
    ),
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "The procedure typically begins with administration of "
            "anticoagulation (unfractionated heparin 70-100 units/kg) to achieve an activated clotting time "
            "of 250-300 seconds.",
            "24",
        ),
    ),
    drugs=frozenset({"heparin"}),
)

OTHER_ANTICOAGULANT_CLASS = "parenteral_anticoagulant"


class Options(RuleOptions):
    min_act_seconds: float
    max_act_seconds: float


def _describe(t: ActTarget) -> str:
    if t.low_s is not None and t.high_s is not None:
        return f"{fmt(t.low_s)}-{fmt(t.high_s)} s"
    if t.low_s is not None:
        return f"lower bound {fmt(t.low_s)} s, no upper bound"
    if t.high_s is not None:
        return f"upper bound {fmt(t.high_s)} s, no lower bound"
    return "a value that could not be read in seconds"


def _problem(t: ActTarget, options: Options) -> str | None:
    if t.low_s is None and t.high_s is None:
        return "could not be read in seconds, so it could not be verified"
    problems = []
    if t.low_s is not None and t.low_s < options.min_act_seconds - 1e-9:
        problems.append(f"lower bound {fmt(t.low_s)} s is below {fmt(options.min_act_seconds)} s")
    if t.high_s is not None and t.high_s > options.max_act_seconds + 1e-9:
        problems.append(f"upper bound {fmt(t.high_s)} s is above {fmt(options.max_act_seconds)} s")
    return "; ".join(problems) or None


def check(order_set: OrderSet, options: Options) -> Iterable[Emitted]:
    out: list[Emitted] = []
    ufh = heparin_orders(order_set)
    if not ufh:
        others = drugs_in_class(OTHER_ANTICOAGULANT_CLASS)
        if any(m.drug.drugs & others for m in order_set.medications):
            return out  # another procedural anticoagulant: the heparin ACT range does not apply
    low_bound, high_bound = options.min_act_seconds - 1e-9, options.max_act_seconds + 1e-9
    by_source: dict[str, list[tuple[ActTarget, str]]] = {}
    for t in request_targets(order_set):
        low, high = t.low_s, t.high_s
        if (
            (low is not None or high is not None)
            and (low is None or low >= low_bound)
            and (high is None or high <= high_bound)
        ):
            continue  # within the range (most targets): `_problem` would say None
        problem = _problem(t, options)
        if problem is not None:
            by_source.setdefault(t.source_ref, []).append((t, problem))
    if not by_source:
        return out
    rng = f"{fmt(options.min_act_seconds)}-{fmt(options.max_act_seconds)} s"
    for source, bad in by_source.items():
        first = bad[0][0]
        unreadable = all(t.low_s is None and t.high_s is None for t, _ in bad)
        lines = [
            f"ACT target stated in `{source}`:",
            "\n".join(f'- "{t.as_written}" = {_describe(t)}: {problem}' for t, problem in bad),
            f"The source range is **{rng}**; a one-sided target is judged on its stated bound only.",
        ]
        if ufh:
            lines.append("Heparin order(s) under review: " + ", ".join(f"`{m.ref}`" for m in ufh) + ".")
        summary = (
            f'ACT target "{first.as_written}" could not be read; source range {rng}'
            if unreadable
            else f'ACT target {_describe(first)} ("{first.as_written}") outside source range {rng}'
        )
        out.append(
            make_finding(
                META,
                summary,
                lines,
                [source, *(m.ref for m in ufh)],
                values={
                    "targets": [{"low_s": t.low_s, "high_s": t.high_s, "as_written": t.as_written} for t, _ in bad]
                },
            )
        )
    return out
