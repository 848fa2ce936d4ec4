"""HEP202 heparin-bolus-no-weight: could not verify a heparin bolus in absolute units, no body weight.

## What it checks
When an order under review is a procedural heparin bolus (unfractionated heparin, IV or intra-arterial, one
administration, a dose and not a rate) whose dose is in absolute heparin units ("5,000 units", or a volume
converted through a coded concentration), and the request carries no usable body weight (LOINC 29463-7),
then this warning says the dose per kg **could not be verified**.
It is silent when the dose is given per kg (80 [iU]/kg needs no weight: HEP201 judges it) and when a
usable body weight is present (HEP201 judges the dose / weight).

## Why it matters
The source dose is weight-based (70-100 units/kg). "5,000 units" is 71 units/kg at 70 kg but 125 units/kg
at 40 kg: without a weight, HEP201 cannot tell, and silence would look like a pass.

## Example
Fires: `fixtures/HEP202/fail-5000-units-iv-no-weight.json`.
Silent: `fixtures/HEP202/pass-80-units-per-kg-no-weight.json` (per-kg dose) and
`fixtures/HEP202/pass-weight-in-lb.json` (weight given in [lb_av]).

## Options
None.

## Source
000_db9ef64a206b36dc.txt:24 (the dose is per kg); reference/clinical-kb.md §2.1 ("weight missing ... cannot
compute").

## Limitations
Readings taken: a weight observation that exists but cannot be used (no value, a unit that is not a mass, or a
value <= 0) counts as no weight, and the detail says why it was not used; context data that the request could
not obtain (a prefetch or FHIR-server gap) is named too (DQ906 reports it on its own). The age of the weight
is not judged (RULES.md is silent). A heparin dose in mg or mL without a coded concentration is HEP205's (that
finding comes first; HEP202 follows once the unit is fixed). A free-text dose is a DQ901 "could not verify"
instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, CouldNotVerify, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules._dose import unit_problem_to_dq
from linter.rules.heparin._bolus import (
    absolute_units,
    bolus_dose,
    boluses,
    is_per_kg,
    route_label,
)
from linter.units import UnitProblem

META = RuleMeta(
    code="HEP202",
    name="heparin-bolus-no-weight",
    family="heparin",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Procedural heparin bolus in absolute units and no body weight: dose per kg could not be verified",
    citations=(
        Citation(
            "000_db9ef64a206b36dc.txt",
            "The procedure typically begins with administration of "
            "anticoagulation (unfractionated heparin 70-100 units/kg) to achieve an activated clotting time "
            "of 250-300 seconds.",
            "24",
        ),
        Citation(
            "reference/clinical-kb.md §2.1",
            "weight missing | no Observation 29463-7 (or 3141-9 measured / "
            "8349-3 preoperative) → cannot compute → *warning*",
        ),
    ),
    drugs=frozenset({"heparin"}),
    applies_to=frozenset({"class:heparin_ufh"}),  # heparin_orders: UFH under review
)

Options = NoOptions


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    out: list[Emitted] = []
    patient = order_set.patient
    if patient.weight is not None:
        return out
    for bolus in boluses(order_set):
        order = bolus.order
        quantities = bolus_dose(bolus, META.code)
        if isinstance(quantities, CouldNotVerify):
            out.append(quantities)
            continue
        if quantities is None:
            continue  # HEP205
        low_q, high_q = quantities
        if is_per_kg(low_q) and is_per_kg(high_q):
            continue  # per kg: no weight needed
        low, high = absolute_units(order, low_q), absolute_units(order, high_q)
        if isinstance(low, UnitProblem) or isinstance(high, UnitProblem):
            problem = low if isinstance(low, UnitProblem) else high
            if isinstance(problem, UnitProblem):
                out.append(unit_problem_to_dq(problem, order, META.code, "the heparin bolus dose"))
            continue
        route = route_label(bolus.route)
        dose_how = low.how if low is high or low.value == high.value else f"{low.how} to {high.how}"
        dose_text = f"{low.value:,.0f}" if low.value == high.value else f"{low.value:,.0f}-{high.value:,.0f}"
        lines = [
            f"**{order.name}** (`{order.ref}`): procedural bolus, {route}, one administration.",
            f"- dose: {dose_how} (absolute units, not per kg)",
            "**Could not verify** the dose per kg: the request has no usable body weight (Observation LOINC 29463-7).",
        ]
        if patient.weight_issue:
            lines.append(f"A weight observation was present but could not be used: {patient.weight_issue}.")
        gaps = [g for g in patient.gaps if g.key in ("weight", "observations")]
        if gaps:
            lines.append(
                "Patient data the request could not obtain: " + "; ".join(f"{g.key}: {g.reason}" for g in gaps) + "."
            )
        lines.append(
            "Record the body weight, or order the bolus per kg (units/kg), so that the dose can be "
            "checked against the weight-based source range."
        )
        out.append(
            make_finding(
                META,
                f"Heparin {dose_text} units {route} bolus: no usable body weight, dose per kg could not be verified",
                lines,
                [order.ref],
                values={
                    "dose_units_low": low.value,
                    "dose_units_high": high.value,
                    "weight_issue": patient.weight_issue,
                },
            )
        )
    return out
