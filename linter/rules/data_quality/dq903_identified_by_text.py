"""DQ903 identified-by-text: a medication or procedure a rule needs was recognized from its name alone.

## What it checks
When an order under review that an applicable rule reads (its drug is one the rule checks, or it is the
procedure that puts the order set in BTK context) carries no code orderlint knows (a local EHR code, NDC, a
code system we do not read) and was recognized from its text ("anterior tibial PTA", "Aspirin EC 81mg"),
then this info finding says it was identified by name, not by code.

## Why it matters
Name matching is careful but not certain. The pharmacist should know which findings rest on it, and the
EHR build team which orderables lack RxNorm / CPT / SNOMED codes.

## Example
Fires: `fixtures/DQ903/fail-heparin-local-code.json` (heparin ordered with a local code and text only).
Silent: `fixtures/DQ903/pass-heparin-rxnorm.json`.

## Options
None.

## Source
RULES.md DQ903 ("identified by name, not by code").

## Limitations
A drug whose name is misspelled beyond our name list is not recognized at all, and no rule checks it.
Toe-brachial index and supervised exercise orders have no verified code (reference/clinical-kb.md §3.3):
they are always recognized by text and DQ903 does not report them.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import Citation, Finding, Indicator, OrderSet, RuleMeta, Scope
from linter.rules._base import NoOptions
from linter.rules._common import OVERRIDE_DATA_WRONG, make_finding

META = RuleMeta(
    code="DQ903",
    name="identified-by-text",
    family="data_quality",
    scope=Scope.ANY,
    default_indicator=Indicator.INFO,
    summary="A medication or procedure a rule needs was recognized from its text alone, not from a code",
    citations=(
        Citation(
            "RULES.md",
            "DQ903: a medication or procedure that a rule needs was recognized from its text "
            "alone, because none of its codes is one we know (a local EHR code, a code system we do not "
            "read).",
        ),
    ),
    engine_only=True,
)

Options = NoOptions

TEXT_ONLY_KINDS = frozenset({"tbi", "exercise"})  # reference/clinical-kb.md §3.3: no verified LOINC/SNOMED


def check(order_set: OrderSet, options: NoOptions) -> Iterable[Finding]:
    """Assembled by the engine with `text_identified`, which knows which rules applied."""
    return ()


def text_identified(order_set: OrderSet, needed_drugs: frozenset[str], reads_procedures: bool) -> list[Finding]:
    out: list[Finding] = []
    for m in order_set.medications:
        if m.drug.matched_by != "text" or not (m.drug.drugs & needed_drugs):
            continue
        codes = ", ".join(f"{c.system or '?'}|{c.code}" for c in m.drug.unknown_codes) or "no code"
        names = ", ".join(sorted(m.drug.drugs))
        out.append(
            make_finding(
                META,
                f"{m.name}: identified as {names} by name, not by code ({codes})",
                [
                    f'`{m.ref}` was recognized as **{names}** from its text "{m.medication.label}"; '
                    f"none of its codes ({codes}) is an RxNorm or ATC code orderlint knows.",
                    "Findings about this order rest on name matching. Map the orderable to RxNorm.",
                ],
                [m.ref],
                override_reasons=(OVERRIDE_DATA_WRONG,),
                confidence="inferred",
            )
        )
    btk = order_set.btk_context
    for p in order_set.procedures:
        # Kinds with no verified code anywhere (toe-brachial index, supervised exercise) can only be named:
        # there is nothing to map them to, so saying so on every such order would be noise.
        codeable = p.identity.kinds - TEXT_ONLY_KINDS
        by_text = p.identity.matched_by == "text" and bool(codeable)
        drives_context = btk is not None and btk.ref == p.ref and btk.by_text
        if not by_text or not (reads_procedures or drives_context):
            continue
        kinds = ", ".join(sorted(p.identity.kinds))
        where = " (below-the-knee)" if p.identity.btk else ""
        out.append(
            make_finding(
                META,
                f"{p.name}: recognized as {kinds}{where} by its text, not by a code",
                [
                    f'`{p.ref}` was recognized as **{kinds}{where}** from the words "{p.identity.matched}"; '
                    "it has no CPT, HCPCS, ICD-10-PCS or SNOMED CT code orderlint knows.",
                    "The BTK / PAD context of this order set rests on that text match."
                    if drives_context
                    else "Findings about this procedure rest on text matching.",
                ],
                [p.ref],
                override_reasons=(OVERRIDE_DATA_WRONG,),
                confidence="inferred",
            )
        )
    return out
