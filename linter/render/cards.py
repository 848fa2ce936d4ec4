"""Findings -> a CDS Hooks 2.0 response (`{"cards": [...]}`), shared by the API and `--format cards`.

Card rules (CDS Hooks 2.0.1 §Card; issue 3 §5): one card per finding, critical first; `uuid` set; `summary`
under 140 characters; `detail` markdown; `source.label` "orderlint - <profile title>" and `source.topic` the
rule code (system RULE_CODE_SYSTEM, display the rule name); suggestions with `uuid`s and validated actions
plus `selectionBehavior: at-most-one`; `overrideReasons` Codings with displays; the orders a card concerns
under the ORDERS_EXTENSION key; `source.url` the rule's page when the caller knows the service's URL. Optional
fields are omitted, never null or empty. No HTTP here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from linter.fixes import suggestion_actions
from linter.ids import new_uuid
from linter.messages import SUMMARY_LIMIT as SUMMARY_LIMIT  # the clip's limit, for callers and tests
from linter.messages import clip_summary
from linter.model import NO_ORIGINALS, Coding, Finding, Indicator, OrderSet, Originals
from linter.profiles import Profile
from linter.render.values import confidence_text, labelled_values

RULE_CODE_SYSTEM = "https://orderlint.dev/fhir/CodeSystem/rule"
ORDERS_EXTENSION = "https://orderlint.dev/cds-hooks/extension/orders"

SuggestionActions = Callable[[Finding, OrderSet, Originals, Profile], list[dict[str, Any]]]
RuleUrl = Callable[[str], str]  # rule code -> the absolute URL of its page (the service's GET /rules/{code})


def _default_actions() -> SuggestionActions:
    return suggestion_actions


_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>|#~]")
_MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#~"})  # not a regex's group template


def _md_text(text: str) -> str:
    """Plain text (refs, reasons quoted from the request) as GitHub-flavoured markdown that shows it as is."""
    # Already collapsed (nearly every text) when printable with no double, leading or trailing space: every
    # whitespace character but the space is unprintable (linter.messages.clip_summary makes the same test).
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        plain = text
    else:
        plain = " ".join(text.split())
    return plain.translate(_MARKDOWN_ESCAPES) if _MARKDOWN_SPECIAL.search(plain) else plain


@lru_cache(maxsize=1024)
def _md_label(text: str) -> str:
    """`_md_text` of our own words (value labels, confidence texts), which repeat on every card."""
    return _md_text(text)


_RANK = {indicator.value: indicator.rank for indicator in Indicator}
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
_STR_ONLY = frozenset({str})
HEAD_CACHE_SIZE = 4096
_heads: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _plain_key(value: Any) -> Any:
    """`value` as part of a cache key, with its type; None for what is not cached: anything but a scalar or a
    list of scalars, a float zero or NaN (-0.0 == 0.0 but prints apart; NaN equals nothing)."""
    kind = type(value)
    if kind is list:
        if set(map(type, value)) <= _STR_ONLY:  # a list of texts (the places a rule looked in): in C
            return (list, str, tuple(value))
        items = tuple(_plain_key(item) for item in value)
        return None if None in items else (list, items)
    if kind not in _SCALAR_TYPES or (kind is float and (value == 0 or value != value)):
        return None
    return (kind, value)


def _head_key(finding: Finding, order_set: OrderSet | None) -> tuple[Any, ...] | None:
    """What the value and confidence lines depend on, when every value can be part of a key (None otherwise).
    Each value's type is in the key: 1, 1.0 and True are equal keys but print apart. Flat: a str, int, bool,
    None or cached float value adds (name, type, value), any other value (name, `_plain_key(value)`), a tuple
    where the others have a type: no two findings that print apart have equal keys."""
    key: list[Any] = [finding.code, finding.confidence]
    for name, value in finding.values.items():
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None or (kind is float and value and value == value):
            key += (name, kind, value)
            continue
        part = _plain_key(value)
        if part is None:
            return None
        key += (name, part)
    if "weight_kg" in finding.values:  # the only line that reads the order set
        weight = order_set.patient.weight if order_set is not None else None
        key.append(None if weight is None else (weight.kg, weight.ref, weight.effective))
    return tuple(key)


def _head_lines(finding: Finding, order_set: OrderSet | None, key: tuple[Any, ...] | None) -> tuple[str, ...]:
    """The value lines, then the confidence line; formatted once per distinct key (`_head_key`): a rule
    gives the same values to many orders and requests (the usual dose, the same weight)."""
    head = _heads.get(key) if key is not None else None
    if head is None:
        lines = [f"- **{_md_label(v.label)}:** {_md_text(v.text)}" for v in labelled_values(finding, order_set)]
        lines.append(f"- **Confidence:** {_md_label(confidence_text(finding))}")
        head = tuple(lines)
        if key is not None:
            if len(_heads) >= HEAD_CACHE_SIZE:
                _heads.clear()
            _heads[key] = head
    return head


DETAIL_CACHE_SIZE = 512
# (head key, the finding's detail) -> the card's detail. A rule gives the same detail (~1-2 KB, with its source
# quotes) to the same orders on every request, and the response encoder turns a string of non-Latin-1 text into
# UTF-8 once per string object (CPython keeps the UTF-8 beside it): a new join per card cost that encoding and
# the copy on every request (issue 11 §3).
_details: dict[tuple[tuple[Any, ...], str], str] = {}


def card_detail(finding: Finding, order_set: OrderSet | None = None) -> str:
    """The card's detail, GitHub-flavoured markdown: the computed values with their labels and the confidence
    explained, as a list ("- **Dose per kg:** 214 units/kg"), then the rule's detail (which ends with its
    source quotes). Empty when the finding has neither values nor detail."""
    detail = finding.detail
    has_body = bool(detail) and not detail.isspace()  # `detail.strip()` without copying a text of ~1-2 KB
    key = _head_key(finding, order_set)
    if has_body and key is not None:
        joined = _details.get((key, detail))
        if joined is not None:
            return joined
    head = _head_lines(finding, order_set, key)
    if not has_body:
        return "\n".join(head) if len(head) > 1 else ""  # no value line and no detail: no detail at all
    joined = "\n".join((*head, "", detail))  # a blank line, then the detail: one join, one copy of it
    if key is not None:
        if len(_details) >= DETAIL_CACHE_SIZE:
            _details.clear()
        _details[(key, detail)] = joined
    return joined


REASONS_CACHE_SIZE = 256
_reason_lists: dict[int, tuple[tuple[Coding, ...], list[dict[str, str]]]] = {}


def _override_reasons(codings: tuple[Coding, ...]) -> list[dict[str, str]]:
    """The card's `overrideReasons` for a finding's override reasons: one list per tuple of codings, shared by
    every card that offers them (read-only: cards are serialized, never edited). Rules offer a few constant
    tuples; building the list anew cost ~1 us a card, and the hook route records each shared list's reasons
    once (linter.api.routes.hooks.card_record). Looked up by identity, the tuple kept alive with its list."""
    hit = _reason_lists.get(id(codings))
    if hit is not None and hit[0] is codings:
        return hit[1]
    listed = [
        {"system": c.system, "code": c.code, "display": c.display or c.code} for c in codings if c.system and c.code
    ]
    if len(_reason_lists) >= REASONS_CACHE_SIZE:
        _reason_lists.clear()
    _reason_lists[id(codings)] = (codings, listed)
    return listed


SOURCE_CACHE_SIZE = 1024
_sources: dict[tuple[str, str, str, RuleUrl | None], dict[str, Any]] = {}


def _source(title: str, code: str, name: str, rule_url: RuleUrl | None) -> dict[str, Any]:
    """The card's `source`: one dict per profile, rule and link maker (the service's is one per base URL and
    profile), shared by the cards of that rule (read-only, like `_override_reasons`)."""
    key = (title, code, name, rule_url)
    source = _sources.get(key)
    if source is None:
        source = {"label": f"orderlint - {title}", "topic": {"system": RULE_CODE_SYSTEM, "code": code, "display": name}}
        if rule_url is not None:
            source["url"] = rule_url(code)
        if len(_sources) >= SOURCE_CACHE_SIZE:
            _sources.clear()
        _sources[key] = source
    return source


def card_for(
    finding: Finding,
    order_set: OrderSet,
    profile: Profile,
    actions_for: SuggestionActions | None = None,
    rule_url: RuleUrl | None = None,
    originals: Originals = NO_ORIGINALS,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": clip_summary(finding.summary),
        "indicator": finding.indicator._value_,  # `.value` is a Python-level descriptor (enum), ~10x slower
    }
    if detail := card_detail(finding, order_set):
        card["detail"] = detail
    card["source"] = _source(profile.title, finding.code, finding.name, rule_url)
    if finding.suggestion is not None:
        actions = (actions_for or _default_actions())(finding, order_set, originals, profile)
        if actions:
            card["suggestions"] = [{"label": finding.suggestion.label, "uuid": new_uuid(), "actions": actions}]
            card["selectionBehavior"] = "at-most-one"
    reasons = _override_reasons(finding.override_reasons)
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
    originals: Originals = NO_ORIGINALS,
) -> dict[str, Any]:
    """`{"cards": [...]}` sorted critical first (stable within an indicator); `{"cards": []}` for none.
    With `rule_url`, every card's source links to its rule's page (the service passes it; the CLI has none).
    `originals` (the resources as read, beside the OrderSet) are what a suggested update changes."""
    ordered = sorted(findings, key=lambda f: -_RANK[f.indicator._value_])  # Indicator.rank without its property
    return {"cards": [card_for(f, order_set, profile, actions_for, rule_url, originals) for f in ordered]}
