"""The explicit rule registry. Each family package lists its rule modules (sorted by code); this module
joins them. A rule lands complete: module, docs, META with citation, fixtures, registry line.
"""

from __future__ import annotations

from linter.rules import antithrombotic, data_quality, heparin, lipid, procedure, vasodilator
from linter.rules._base import RuleModule, as_rule

RULES: tuple[RuleModule, ...] = tuple(
    sorted(
        (
            as_rule(m)
            for family in (antithrombotic, heparin, vasodilator, lipid, procedure, data_quality)
            for m in family.MODULES
        ),
        key=lambda r: r.META.code,
    )
)
RULES_BY_CODE: dict[str, RuleModule] = {r.META.code: r for r in RULES}

if len(RULES_BY_CODE) != len(RULES):  # pragma: no cover - guarded by tests/test_rule_catalog.py
    raise RuntimeError("duplicate rule code in the registry")

__all__ = ["RULES", "RULES_BY_CODE"]
