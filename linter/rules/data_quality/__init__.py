"""Rule family: data quality (DQ). What could not be checked is said, never silently passed.

DQ901/DQ902 are assembled here from the CouldNotVerify records the other rules emit (one finding per DQ
code per order, listing every rule that could not run); DQ903 from what the applicable rules read.
The rules of this family are registered in linter/rules/__init__.py (RULE_MODULES), the one registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from linter.model import CouldNotVerify, Finding, OrderSet
from linter.rules._common import OVERRIDE_DATA_WRONG, make_finding
from linter.rules.data_quality import (
    dq901_dose_not_machine_readable,
    dq902_dose_unit_not_convertible,
    dq903_identified_by_text,
)

_META = {
    "DQ901": dq901_dose_not_machine_readable.META,
    "DQ902": dq902_dose_unit_not_convertible.META,
}


def could_not_verify_findings(items: Iterable[CouldNotVerify], order_set: OrderSet) -> list[Finding]:
    """One finding per DQ code per order. It lists every rule that could not check the order and explains
    each one: what it needed and why it could not read it (the first record alone used to give the headline
    and the others a line each, so the first rule was listed but never explained)."""
    grouped: dict[tuple[str, str], list[CouldNotVerify]] = {}
    for item in items:
        grouped.setdefault((item.dq_code, item.ref), []).append(item)
    names = {m.ref: m.name for m in order_set.medications}
    out = []
    for (code, ref), group in grouped.items():
        meta = _META[code]
        per_rule = _explanations(group)
        first = group[0]
        name = names.get(ref, ref)
        kind = "dose not machine-readable" if code == "DQ901" else "dose unit not convertible"
        lines = [
            f"**Could not verify** {first.what} of `{ref}` ({name}) because {first.reason}.",
            f"Rules that could not check this order: {', '.join(per_rule)}.",
        ]
        lines.append(
            "\n".join(
                f"- {rule} needs {what}"
                + ("" if reason == first.reason else f", which could not be read because {reason}")
                for rule, pairs in per_rule.items()
                for what, reason in pairs
            )
        )
        out.append(
            make_finding(
                meta,
                f"Could not verify {first.what} ({name}): {kind}",
                lines,
                [ref],
                override_reasons=(OVERRIDE_DATA_WRONG,),
                values={"rules": list(per_rule), "reason": first.reason},
            )
        )
    return out


def _explanations(group: Iterable[CouldNotVerify]) -> dict[str, list[tuple[str, str]]]:
    """Rule code (sorted) -> each distinct (what it needed, why it could not be read), in emission order."""
    per_rule: dict[str, list[tuple[str, str]]] = {}
    for item in group:
        pairs = per_rule.setdefault(item.needed_by, [])
        if (item.what, item.reason) not in pairs:
            pairs.append((item.what, item.reason))
    return dict(sorted(per_rule.items()))


text_identified = dq903_identified_by_text.text_identified

__all__ = ["could_not_verify_findings", "text_identified"]
