"""HEP206 heparin-with-hit: heparin ordered for a patient with heparin-induced thrombocytopenia.

## What it checks
When an order under review is heparin (unfractionated heparin, any route, dose or indication, flushes
included; or a low-molecular-weight heparin: enoxaparin, dalteparin) and the request holds a Condition of
heparin-induced thrombocytopenia (ICD-10-CM D75.82-: D75.821, D75.822, D75.828, D75.829; or the words
"heparin-induced thrombocytopenia" / "HIT" when no code we know is present), active or in the patient's
history (resolved, inactive, in remission), and not refuted or entered in error, then this critical finding
names the Condition and its clinical status.

## Why it matters
Heparin re-exposure in HIT can cause catastrophic thrombosis (limb loss, stroke, death); HIT history is a
labelled contraindication of heparin. The BTK procedure itself needs an anticoagulant, so the order set
must use a non-heparin one.

## Example
Fires: `fixtures/HEP206/fail-heparin-bolus-with-hit.json` (D75.822 and a heparin bolus) and
`fixtures/HEP206/fail-enoxaparin-with-hit.json`.
Silent: `fixtures/HEP206/pass-bivalirudin-with-hit.json` (a non-heparin anticoagulant),
`fixtures/HEP206/pass-heparin-hit-refuted.json` (the HIT Condition's verificationStatus is refuted) and
`fixtures/HEP206/pass-heparin-thrombocytopenia-not-hit.json` (D69.6 thrombocytopenia, not HIT).

## Options
None.

## Source
reference/clinical-kb.md §6.1 (heparin sodium injection labels: HIT among the adverse reactions, HIT history a
labelled contraindication) and §3.2 / §6 (ICD-10-CM D75.82-, verified).

## Limitations
Reading taken on low-molecular-weight heparins: they count. The label fact in clinical-kb.md §6.1 is about
heparin sodium, but HIT antibodies cross-react with enoxaparin and dalteparin, and silence on an enoxaparin
order for a patient with HIT would be a silent pass of a dangerous order; the enoxaparin label itself was
not re-read (clinical-kb.md §0.2 [NRR]), so the detail says so. Fondaparinux, bivalirudin and argatroban
are not heparins and are silent.
Reading taken on history: a resolved HIT counts, at the same indicator, because HIT *history* is what the
heparin label contraindicates (clinical-kb.md §6.1); a planned re-exposure after antibodies turned negative
is a documented override ("patient-specific reason", "institutional protocol"), not a silent pass.
Only Conditions the request carries are read: a HIT recorded as an AllergyIntolerance (heparin allergy) is
not read. A Condition recognized from its text only (no D75.82
code) gives an "inferred" finding that quotes the words; the word "HIT" in unrelated text ("hit by a car")
in an uncoded Condition is a known false positive.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Indicator, OrderSet, PatientContext, RuleMeta, Scope
from linter.rules._base import Emitted, NoOptions
from linter.rules._common import drug_display, drugs_in_class, make_finding
from linter.rules.heparin._bolus import LMWH_CLASS, UFH_CLASS

META = RuleMeta(
    code="HEP206",
    name="heparin-with-hit",
    family="heparin",
    scope=Scope.ANY,
    default_indicator=Indicator.CRITICAL,
    summary="Heparin ordered for a patient with heparin-induced thrombocytopenia (ICD-10-CM D75.82-)",
    citations=(
        Citation(
            "reference/clinical-kb.md §6.1 (heparin sodium injection labels)",
            "the labels warn of fatal "
            "medication errors from confusing vial strengths, and list heparin-induced thrombocytopenia among "
            "the adverse reactions (HIT history is a labelled contraindication in current US labels; confirm "
            "the wording before quoting it)",
        ),
        Citation(
            "reference/clinical-kb.md §6",
            "heparin-induced thrombocytopenia, ICD-10-CM | D75.82- (D75.821, "
            "D75.822, D75.828, D75.829) | V (CMS ICD-10-CM April 2026)",
        ),
    ),
    drugs=frozenset({"heparin", "enoxaparin", "dalteparin"}),
)

Options = NoOptions

HISTORY = frozenset({"inactive", "resolved", "remission"})


def _hit_on_record(patient: PatientContext) -> bool:
    """Whether `conditions_in("hit", include_history=True)` finds one, read without building its tuple (most
    requests have none)."""
    for conditions in (patient.conditions, patient.condition_history):
        for c in conditions:  # a loop, not any() over a generator (a frame per call)
            if "hit" in c.categories:
                return True
    return False


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Emitted]:
    out: list[Emitted] = []
    if not _hit_on_record(order_set.patient):
        return out
    hit = order_set.patient.conditions_in("hit", include_history=True)
    ufh = drugs_in_class(UFH_CLASS)
    lmwh = drugs_in_class(LMWH_CLASS)
    # coded and active first: the strongest evidence leads the finding
    hit = tuple(sorted(hit, key=lambda c: (c.matched_by != "code", c.clinical_status in HISTORY)))
    by_code = [c for c in hit if c.matched_by == "code"]
    evidence = by_code or hit
    cond_lines = []
    for c in evidence:
        codes = ", ".join(f"{x.code}" for x in c.concept.codings if x.code) or "no code"
        how = "by code" if c.matched_by == "code" else f'by its text "{c.concept.label}" only'
        cond_lines.append(
            f"- `{c.ref}` {c.concept.label} ({codes}; clinical status "
            f"{c.clinical_status or 'not stated'}; recognized {how})"
        )
    first = evidence[0]
    first_code = next((x.code for x in first.concept.codings if x.code), None)
    for order in order_set.medications:
        is_ufh = bool(order.drug.drugs & ufh)
        is_lmwh = bool(order.drug.drugs & lmwh)
        if not (is_ufh or is_lmwh):
            continue
        kind = "low-molecular-weight heparin" if is_lmwh and not is_ufh else "heparin"
        lines = [
            f"**{order.name}** (`{order.ref}`) is a {kind} order, and the patient has heparin-induced "
            "thrombocytopenia:",
            "\n".join(cond_lines),
            "Heparin re-exposure in HIT risks life- and limb-threatening thrombosis. Use a non-heparin "
            "anticoagulant for the procedure and stop every heparin source, flushes included.",
        ]
        if is_lmwh and not is_ufh:
            lines.append(
                "Low-molecular-weight heparins are included because HIT antibodies cross-react with "
                "them (reading taken by this rule; the enoxaparin label was not re-read for this "
                "profile, reference/clinical-kb.md §0.2)."
            )
        where = f"Condition {first_code}" if first_code else "Condition matched by text"
        if first.clinical_status in HISTORY:
            where += f", {first.clinical_status}"
        names = sorted(drug_display(k) for k in order.drug.drugs & (ufh | lmwh))
        drug = " + ".join(names).capitalize() + (" (LMWH)" if kind != "heparin" else "")
        out.append(
            make_finding(
                META,
                f"{drug} ordered with heparin-induced thrombocytopenia on record ({where}): contraindicated",
                lines,
                [order.ref, *(c.ref for c in evidence)],
                values={"conditions": [c.ref for c in evidence], "lmwh": is_lmwh and not is_ufh},
                confidence="definite" if by_code else "inferred",
            )
        )
    return out
