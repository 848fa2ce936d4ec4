"""Findings -> a CDS Hooks 2.0 response (`{"cards": [...]}`), shared by the API and `--format cards`.

Card rules (CDS Hooks 2.0.1 §Card; issue 3 §5): one card per finding, critical first; `uuid` set; `summary`
under 140 characters; `detail` markdown; `source.label` "orderlint - <profile title>" and `source.topic` the
rule code (system RULE_CODE_SYSTEM, display the rule name); suggestions with `uuid`s and validated actions
plus `selectionBehavior: at-most-one`; `overrideReasons` Codings with displays; the orders a card concerns
under the ORDERS_EXTENSION key; `source.url` the rule's page when the caller knows the service's URL. Optional
fields are omitted, never null or empty. No HTTP here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from linter.ids import new_uuid
from linter.model import Finding, OrderSet
from linter.profiles import Profile

RULE_CODE_SYSTEM = "https://orderlint.dev/fhir/CodeSystem/rule"
ORDERS_EXTENSION = "https://orderlint.dev/cds-hooks/extension/orders"
SUMMARY_LIMIT = 139  # the spec says "<140 characters"; Inferno flags length >= 140

SuggestionActions = Callable[[Finding, OrderSet, Profile], list[dict[str, Any]]]
RuleUrl = Callable[[str], str]  # rule code -> the absolute URL of its page (the service's GET /rules/{code})


def _rule_name(code: str) -> str:
    """The rule's readable name (its slug) from the rule registry, or the code when unknown."""
    from linter.rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(code)
    return str(rule.META.name) if rule is not None else code


def short_summary(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def _default_actions() -> SuggestionActions:
    from linter.fixes import suggestion_actions

    return suggestion_actions


def card_for(
    finding: Finding,
    order_set: OrderSet,
    profile: Profile,
    actions_for: SuggestionActions | None = None,
    rule_url: RuleUrl | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": short_summary(finding.summary),
        "indicator": finding.indicator.value,
    }
    if finding.detail.strip():
        card["detail"] = finding.detail
    card["source"] = {
        "label": f"orderlint - {profile.title}",
        "topic": {"system": RULE_CODE_SYSTEM, "code": finding.code, "display": _rule_name(finding.code)},
    }
    if rule_url is not None:
        card["source"]["url"] = rule_url(finding.code)
    if finding.suggestion is not None:
        actions = (actions_for or _default_actions())(finding, order_set, profile)
        if actions:
            card["suggestions"] = [{"label": finding.suggestion.label, "uuid": new_uuid(), "actions": actions}]
            card["selectionBehavior"] = "at-most-one"
    reasons = [
        {"system": c.system, "code": c.code, "display": c.display or c.code}
        for c in finding.override_reasons
        if c.system and c.code
    ]
    if reasons:
        card["overrideReasons"] = reasons
    if finding.refs:
        card["extension"] = {ORDERS_EXTENSION: list(finding.refs)}
    return card


def cards_response(
    findings: Sequence[Finding],
    order_set: OrderSet,
    profile: Profile,
    *,
    actions_for: SuggestionActions | None = None,
    rule_url: RuleUrl | None = None,
) -> dict[str, Any]:
    """`{"cards": [...]}` sorted critical first (stable within an indicator); `{"cards": []}` for none.
    With `rule_url`, every card's source links to its rule's page (the service passes it; the CLI has none)."""
    ordered = sorted(findings, key=lambda f: -f.indicator.rank)
    return {"cards": [card_for(f, order_set, profile, actions_for, rule_url) for f in ordered]}
