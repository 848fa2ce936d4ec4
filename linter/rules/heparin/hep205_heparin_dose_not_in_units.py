"""HEP205 heparin-dose-not-in-units: a heparin dose in mg or mL that no concentration converts to units.

## What it checks
When an order under review for unfractionated heparin (any route, any indication) has a dose
(`doseQuantity` or either bound of a `doseRange`) in a mass unit (mg, g, ug, or per kg) or a volume unit
(mL, or per kg), and no coded concentration converts it to heparin units, then this warning says the dose
cannot be read as units. A volume of a coded product with a concentration (RxNorm 1361226, heparin 1000
UNT/mL: 5.6 mL = 5,600 units; or a Medication whose ingredient strength is a ratio in units per mL) is
converted and judged by HEP201; a mass is never converted (heparin is dosed in units, and a concentration
in units per mL says nothing about mg). This is HEP205 only: no DQ902 is added for the same dose.

## Why it matters
"5 mL" of heparin is 5,000 units from a 1,000 units/mL vial and 100,000 units from a 20,000 units/mL vial:
confusing vial strengths has caused fatal 10-fold heparin errors. A dose in mg has no defined meaning for
a heparin order.

## Example
Fires: `fixtures/HEP205/fail-heparin-5-ml-no-concentration.json` (5 mL, ingredient code only) and
`fixtures/HEP205/fail-heparin-mg.json`.
Silent: `fixtures/HEP205/pass-heparin-ml-coded-concentration.json` (5.6 mL of RxNorm 1361226 = 5,600 units).

## Options
None.

## Source
RULES.md HEP205 ("heparin is dosed in units"); reference/clinical-kb.md §6.1 (labels state heparin strength
in USP units) and §2.1 (dose entered as mL of a concentrate without concentration).

## Limitations
Low-molecular-weight heparins (enoxaparin, dalteparin) are dosed in mg or anti-Xa units and are not judged.
A concentration written only in text ("1,000 units/mL" in the dosage text) is not used: only coded
concentrations convert. Rates (an infusion in mL/h) are not doses and are not judged here. A dose count
("1 vial") that cannot be converted is a DQ902 "could not verify" from the dose rules, not HEP205.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Dosage, Indicator, MedicationOrder, OrderSet, RuleMeta, Scope, Strength
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import make_finding
from linter.rules.heparin._bolus import heparin_orders, mass_or_volume
from linter.units import unit_of

META = RuleMeta(
    code="HEP205",
    name="heparin-dose-not-in-units",
    family="heparin",
    scope=Scope.ANY,
    default_indicator=Indicator.WARNING,
    summary="Heparin dose in mass (mg) or volume (mL) without a concentration that converts it to units",
    citations=(
        Citation(
            "RULES.md",
            "HEP205 | heparin dose in mass (mg) or volume (mL) units without a concentration "
            "that converts it to units (this is HEP205 only, not also DQ902) | warning | | volume with a "
            "coded concentration (e.g. RxNorm 1361226, 1000 units/mL) is converted | | heparin is dosed in "
            "units",
        ),
        Citation(
            "reference/clinical-kb.md §6.1",
            "Heparin sodium injection labels state strengths in USP units "
            "(1,000 / 5,000 / 10,000 USP units per mL; the UCUM code is `[USP'U]`)",
        ),
        Citation("reference/clinical-kb.md §2.1", "dose entered as *mL* of a concentrate without concentration"),
    ),
    drugs=frozenset({"heparin"}),
    applies_to=frozenset({"class:heparin_ufh"}),  # heparin_orders: UFH under review
)

Options = NoOptions


# The doses of an order's dosages that HEP205 reports ((dosage index, mass or volume, the dose as written)), per
# process, by the identity of the dosages, checked with the product strength's (frozen values the reader shares
# between orders): a pure function of the two for dosages with no instruction (`extra_text`: a patientInstruction is
# written for one patient), the only ones kept. Each entry holds both, so that their ids are not reused while there.
Found = tuple[tuple[int, str, str], ...]
_FOUND: dict[int, tuple[tuple[Dosage, ...], Strength | None, Found]] = {}


def _read_doses(order: MedicationOrder) -> tuple[tuple[Dosage, ...], Strength | None, Found]:
    found: list[tuple[int, str, str]] = []
    for d in order.dosages:
        for q in dict.fromkeys(x for x in (d.dose, d.dose_low, d.dose_high) if x is not None):
            kind = mass_or_volume(order, q)
            if kind is not None:
                found.append((d.index, kind, f"{q.value:g} {unit_of(q)}"))
    dosages = order.dosages
    known = (dosages, order.drug.strength, tuple(found))
    if not any(d.extra_text for d in dosages):
        if len(_FOUND) >= 4096:
            _FOUND.clear()
        _FOUND[id(dosages)] = known
    return known


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    out: list[Emitted] = []
    for order in heparin_orders(order_set):
        dosages = order.dosages
        known = _FOUND.get(id(dosages))
        if known is None or known[0] is not dosages or known[1] is not order.drug.strength:
            known = _read_doses(order)
        found = known[2]
        if not found:
            continue
        kinds = {k for _, k, _ in found}
        doses = ", ".join(dict.fromkeys(text for _, _, text in found))
        product = (
            f"coded product RxNorm {order.drug.product_code} ({order.drug.product_display})"
            if order.drug.product_code
            else "no coded product with a concentration"
        )
        lines = [
            f"**{order.name}** (`{order.ref}`): dose {doses} "
            f"(dosageInstruction {', '.join(str(i) for i, _, _ in found)}).",
        ]
        if "volume" in kinds:
            lines.append(
                f"A volume needs the concentration in units per mL to become a dose, and the order has "
                f"{product}" + (" whose strength is not in units per mL." if order.drug.product_code else ".")
            )
        if "mass" in kinds:
            lines.append(
                "A mass (mg) is not a heparin dose: heparin is dosed and labelled in units "
                "(USP units), and no concentration converts mg to units."
            )
        lines.append(
            "The dose in units **could not be verified**; the heparin dose rules (HEP201, HEP202) did not "
            "judge it. Order the dose in units (or units/kg), or code the product with its "
            "concentration."
        )
        what = "mass (mg)" if kinds == {"mass"} else "volume (mL)" if kinds == {"volume"} else "mg and mL"
        out.append(
            make_finding(
                META,
                f"Heparin dose {doses} is a {what}, not units, and no concentration converts it; dose not verified",
                lines,
                [order.ref],
                values={"doses": [text for _, _, text in found], "kinds": sorted(kinds)},
            )
        )
    return out
