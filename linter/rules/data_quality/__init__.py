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
    grouped: dict[tuple[str, str], list[CouldNotVerify]] = {}
    for item in items:
        grouped.setdefault((item.dq_code, item.ref), []).append(item)
    names = {m.ref: m.name for m in order_set.medications}
    out = []
    for (code, ref), group in grouped.items():
        meta = _META[code]
        rules = ", ".join(sorted({g.needed_by for g in group}))
        first = group[0]
        name = names.get(ref, ref)
        kind = "dose not machine-readable" if code == "DQ901" else "dose unit not convertible"
        lines = [
            f"**Could not verify** {first.what} of `{ref}` ({name}) because {first.reason}.",
            f"Rules that could not check this order: {rules}.",
        ]
        lines.extend(f"- {g.needed_by}: {g.what}: {g.reason}" for g in group[1:])
        out.append(
            make_finding(
                meta,
                f"Could not verify {first.what} ({name}): {kind}",
                lines,
                [ref],
                override_reasons=(OVERRIDE_DATA_WRONG,),
                values={"rules": sorted({g.needed_by for g in group}), "reason": first.reason},
            )
        )
    return out


text_identified = dq903_identified_by_text.text_identified

__all__ = ["could_not_verify_findings", "text_identified"]
