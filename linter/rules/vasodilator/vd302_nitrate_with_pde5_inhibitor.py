"""VD302 nitrate-with-pde5-inhibitor: a nitrate and a PDE5 inhibitor together in the regimen.

## What it checks
A combination rule (RULES.md "Combination rules"). When an order under review is a nitrate (nitroglycerin by
any route, isosorbide mononitrate, isosorbide dinitrate: terminology class `nitrate`) and the regimen (orders
under review plus active medications in context) holds a PDE5 inhibitor (sildenafil, tadalafil, vardenafil,
avanafil: class `pde5_inhibitor`), or the reverse (a PDE5 inhibitor under review while a nitrate is in the
regimen), then this critical finding names both. One finding per order under review: on the nitrate order
when a nitrate is under review (listing every PDE5 inhibitor), otherwise on the PDE5 inhibitor order.

## Why it matters
PDE5 inhibitors potentiate the hypotensive effect of nitrates: the combination can cause profound, refractory
hypotension, and the FDA labels of all four PDE5 inhibitors contraindicate it. Sublingual nitroglycerin "as
needed" counts: it is exactly the dose a patient takes at home after the procedure.

## Example
Fires: `fixtures/VD302/fail-ia-nitroglycerin-with-tadalafil.json` (tadalafil active in context) and
`fixtures/VD302/fail-sildenafil-with-active-isosorbide.json` (the PDE5 inhibitor under review).
Silent: `fixtures/VD302/pass-nitroglycerin-tadalafil-stopped.json` (the tadalafil order is stopped: not in
the regimen) and `fixtures/VD302/pass-tadalafil-no-nitrate.json`.

## Options
None.

## Source
RULES.md VD302 (external: FDA labels of sildenafil, tadalafil, vardenafil and avanafil). The label text is not
recorded in shared/reference; the catalog row is quoted.

## Limitations
Only tadalafil has a verified RxNorm code (clinical-kb.md §6); sildenafil, vardenafil, avanafil and the
isosorbide nitrates are recognized by name (DQ903 says so). The washout windows the labels state after the
last PDE5 inhibitor dose cannot be judged (the request carries no administration times): a PDE5 inhibitor
counts while its order is active, and a stopped or completed one does not count. Riociguat and other
guanylate cyclase stimulators are not in the terminology and are not checked. Amyl nitrite is not recognized.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, MedicationOrder, OrderSet, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import drug_display, drugs_in_class, make_finding, regimen_in_class

META = RuleMeta(
    code="VD302",
    name="nitrate-with-pde5-inhibitor",
    family="vasodilator",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="A nitrate ordered while a PDE5 inhibitor is in the regimen (or the reverse)",
    citations=(
        Citation(
            "RULES.md VD302 (external: FDA labels of sildenafil, tadalafil, vardenafil, avanafil)",
            "VD302 | any nitrate ordered while a PDE5 inhibitor (sildenafil, tadalafil, vardenafil, avanafil) "
            "is in the regimen | critical | | | external: FDA labels",
        ),
        Citation(
            "RULES.md (Terms: Combination rules)",
            "Combination rules (AT109, AT110, AT113, AT114, VD302, ...) "
            "fire when at least one drug of the combination is among the orders under review; the others may "
            "come from the regimen.",
        ),
    ),
    # the members of the terminology classes `nitrate` and `pde5_inhibitor` (a test keeps them in step)
    drugs=frozenset(
        {
            "nitroglycerin",
            "isosorbide_mononitrate",
            "isosorbide_dinitrate",
            "sildenafil",
            "tadalafil",
            "vardenafil",
            "avanafil",
        }
    ),
    applies_to=frozenset({"class:pde5_inhibitor"}),  # and a nitrate
    applies_to_regimen=True,
)

Options = NoOptions

NITRATE = "nitrate"
PDE5 = "pde5_inhibitor"


def _where(m: MedicationOrder) -> str:
    return "order under review" if m.under_review else f"active medication ({m.status})"


def _names(orders: list[MedicationOrder], cls: str) -> str:
    """Drug names (terminology display), not product names: "tadalafil", "isosorbide mononitrate"."""
    members = drugs_in_class(cls)
    return ", ".join(sorted({drug_display(k) for m in orders for k in m.drug.drugs & members}))


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    nitrates = regimen_in_class(order_set, NITRATE)
    pde5 = regimen_in_class(order_set, PDE5)
    if not nitrates or not pde5:
        return
    nitrate_drugs, pde5_drugs = drugs_in_class(NITRATE), drugs_in_class(PDE5)
    nitrate_under_review = any(m.under_review for m in nitrates)
    for order in order_set.medications:
        is_nitrate = bool(order.drug.drugs & nitrate_drugs)
        is_pde5 = bool(order.drug.drugs & pde5_drugs)
        if is_nitrate:
            partners = [m for m in pde5 if m.ref != order.ref]
        elif is_pde5 and not nitrate_under_review:
            partners = [m for m in nitrates if m.ref != order.ref]
        else:
            continue  # a PDE5 inhibitor whose nitrate partner is under review: reported on the nitrate order
        if not partners:
            continue
        other = "PDE5 inhibitor" if is_nitrate else "nitrate"
        lines = [
            f"**{order.name}** (`{order.ref}`, {_where(order)}) is a {'nitrate' if is_nitrate else 'PDE5 inhibitor'}, "
            f"and the regimen holds a {other}:",
            "\n".join(f"- `{m.ref}` {m.name} — {_where(m)}" for m in partners),
            "PDE5 inhibitors potentiate the hypotensive effect of nitrates; the combination is contraindicated "
            "in the PDE5 inhibitors' labels. Do not give the nitrate while the PDE5 inhibitor is active (mind "
            "the washout the labels state after the last PDE5 inhibitor dose); use another vasodilator, or "
            "document why the combination is intended.",
        ]
        if is_nitrate:
            summary = (
                f"{_names([order], NITRATE).capitalize()} ordered with PDE5 inhibitor "
                f"{_names(partners, PDE5)} in the regimen: severe hypotension risk"
            )
        else:
            summary = (
                f"{_names([order], PDE5).capitalize()} (PDE5 inhibitor) ordered with nitrate "
                f"{_names(partners, NITRATE)} in the regimen: severe hypotension risk"
            )
        yield make_finding(
            META,
            summary,
            lines,
            [order.ref, *(m.ref for m in partners)],
            values={"partners": [m.ref for m in partners]},
        )
