"""run(order_set, profile) -> findings.

For every rule the profile enables (and the user selected): check its scope (any / pad / btk), run it
with its options from the profile, turn "could not verify" records into DQ901/DQ902 findings, apply the
profile's indicator overrides, keep one finding per rule per order, and sort critical first.
A rule that raises becomes a finding that says so; it never takes the other rules down with it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from itertools import chain, repeat
from operator import call
from typing import Any

from linter import logs
from linter.model import CouldNotVerify, Finding, Indicator, OrderSet, Scope
from linter.model_fast import copy_with
from linter.orderset_run import run_definition
from linter.profiles import Profile
from linter.rules import RULES
from linter.rules._base import RuleModule
from linter.rules._drug_index import drug_index
from linter.rules._memo import RunScope
from linter.rules.data_quality import could_not_verify_findings, text_identified
from linter.terminology import terminology

LOGGER = "orderlint.engine"


def selected(code: str, select: Collection[str] | None, ignore: Collection[str]) -> bool:
    """`--select`/`--ignore` take codes or prefixes ("HEP", "AT1"), like ruff."""
    if any(code.startswith(p.strip().upper()) for p in ignore if p.strip()):
        return False
    if select is None:
        return True
    return any(code.startswith(p.strip().upper()) for p in select if p.strip())


# (profile, select, ignore) -> the enabled rules with their validated options, computed once: the service
# lints every request with the same profile, and this is on its hot path.
_PLANS: dict[tuple[int, tuple[str, ...] | None, tuple[str, ...]], tuple[Profile, list[tuple[RuleModule, Any]]]] = {}


def _plan(profile: Profile, select: Collection[str] | None, ignore: Collection[str]) -> list[tuple[RuleModule, Any]]:
    key = (id(profile), tuple(sorted(select)) if select is not None else None, tuple(sorted(ignore)))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is profile:
        return cached[1]
    plan = []
    for rule in RULES:
        cfg = profile.rule(rule.META.code)
        if cfg is None or not cfg.enabled or not selected(rule.META.code, select, ignore):
            continue
        plan.append((rule, profile.options(rule.META.code)))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[key] = (profile, plan)
    return plan


_CODES: dict[int, tuple[list[tuple[RuleModule, Any]], frozenset[str]]] = {}


def _codes(plan: list[tuple[RuleModule, Any]]) -> frozenset[str]:
    """The codes a plan enables (plans are cached, so this is computed once per plan)."""
    cached = _CODES.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    codes = frozenset(r.META.code for r, _ in plan)
    if len(_CODES) > 64:
        _CODES.clear()
    _CODES[id(plan)] = (plan, codes)
    return codes


def _crash_finding(rule: RuleModule, order_set: OrderSet, exc: Exception) -> Finding:
    return Finding(
        code=rule.META.code,
        indicator=Indicator.WARNING,
        summary=f"{rule.META.code} could not be evaluated: internal error ({type(exc).__name__}); order not checked",
        detail=(
            f"The rule **{rule.META.code} {rule.META.name}** stopped with an internal error "
            f"(`{type(exc).__name__}`), so what it checks was **not verified** for this order set. "
            "Please report this to the orderlint maintainers with the input file."
        ),
        refs=tuple(m.ref for m in order_set.medications) or tuple(p.ref for p in order_set.procedures),
        confidence="inferred",
        rule_name=rule.META.name,
        citations=rule.META.citations,
    )


def run(
    order_set: OrderSet,
    profile: Profile,
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
) -> list[Finding]:
    if order_set.definition is not None:  # an order-set definition: each orderable configuration, merged
        return run_definition(order_set, lambda one: run(one, profile, select=select, ignore=ignore))
    plan = _plan(profile, select, ignore)
    with RunScope():
        findings, unverified, needed_drugs, reads_procedures = _run_rules(plan, order_set)
    dq_codes = _codes(plan)
    if unverified:  # most order sets: every dose was read
        findings.extend(f for f in could_not_verify_findings(unverified, order_set) if f.code in dq_codes)
    if "DQ903" in dq_codes:
        findings.extend(text_identified(order_set, needed_drugs, reads_procedures))
    return finalize(findings, profile)


# A rule of the plan as the engine calls it: the module, its options, and the drug keys one of which must be among
# the orders under review (`on_regimen`: the regimen) for the rule to be called (None: always called).
Call = tuple[RuleModule, Any, frozenset[str] | None, bool]

# (plan, no BTK context, no PAD context) -> the rules of the plan whose scope the context allows, with the drugs
# they read and whether any reads procedure orders: computed once per plan and context, not per rule and order set.
_ACTIVE: dict[tuple[int, bool, bool], tuple[list[tuple[RuleModule, Any]], list[Call], frozenset[str], bool]] = {}


def _active(plan: list[tuple[RuleModule, Any]], no_btk: bool, no_pad: bool) -> tuple[list[Call], frozenset[str], bool]:
    key = (id(plan), no_btk, no_pad)
    cached = _ACTIVE.get(key)
    if cached is not None and cached[0] is plan:
        return cached[1], cached[2], cached[3]
    active = [
        (rule, options)
        for rule, options in plan
        if not ((rule.META.scope is Scope.BTK and no_btk) or (rule.META.scope is Scope.PAD and no_pad))
    ]
    drugs = frozenset().union(*(rule.META.drugs for rule, _ in active))
    reads_procedures = any(rule.META.reads_procedures for rule, _ in active)
    calls = [
        (rule, options, _applies_to(rule.META.applies_to), rule.META.applies_to_regimen)
        for rule, options in active
        if not rule.META.engine_only
    ]
    if len(_ACTIVE) > 256:
        _ACTIVE.clear()
    _ACTIVE[key] = (plan, calls, drugs, reads_procedures)
    return calls, drugs, reads_procedures


def _applies_to(keys: frozenset[str]) -> frozenset[str] | None:
    """A rule's `applies_to` as drug keys ("class:<key>" expanded through terminology); None when empty."""
    if not keys:
        return None
    t = terminology()
    out: set[str] = set()
    for key in keys:
        out |= t.drugs_in_class(key[6:]) if key.startswith("class:") else {key}
    return frozenset(out)


# (the active calls, drugs under review, drugs in the regimen) -> the rules to call: order sets repeat the same
# drugs (the keys are terminology drug keys, nothing of the patient), so the choice is made once per combination.
# The rules to call, as (rule, options) pairs and as two parallel tuples (the rules, their options) for the C-level
# loop of `_run_rules`.
Called = tuple[list[tuple[RuleModule, Any]], tuple[RuleModule, ...], tuple[Any, ...]]
_CALLED: dict[tuple[int, frozenset[str], frozenset[str]], tuple[list[Call], Called]] = {}


def _called(active: list[Call], reviewed: frozenset[str], regimen: frozenset[str]) -> Called:
    """The active rules whose `applies_to` drugs are under review (or in the regimen, for `on_regimen`)."""
    key = (id(active), reviewed, regimen)
    cached = _CALLED.get(key)
    if cached is not None and cached[0] is active:
        return cached[1]
    calls = [
        (rule, options)
        for rule, options, applies_to, on_regimen in active
        if applies_to is None or not applies_to.isdisjoint(regimen if on_regimen else reviewed)
    ]
    called = (calls, tuple(rule for rule, _ in calls), tuple(options for _, options in calls))
    if len(_CALLED) > 256:
        _CALLED.clear()
    _CALLED[key] = (active, called)
    return called


def _run_rules(
    plan: list[tuple[RuleModule, Any]], order_set: OrderSet, *, use_index: bool = True
) -> tuple[list[Finding], list[CouldNotVerify], frozenset[str], bool]:
    """Every active rule on `order_set`, but those whose drugs (META.applies_to) are not in it: the order set's
    drug index (linter.rules._drug_index, shared with the rules) says which drugs are under review and in the
    regimen. `use_index=False` calls every rule (tests/test_engine_dispatch.py: the index changes nothing)."""
    findings: list[Finding] = []
    unverified: list[CouldNotVerify] = []
    # The rules whose scope (any / pad / btk) the order set's context allows, read once per plan and context.
    active, needed_drugs, reads_procedures = _active(plan, order_set.btk_context is None, order_set.pad_context is None)
    if use_index:
        index = drug_index(order_set)
        reviewed = frozenset(index.reviewed)  # the regimen is the orders under review when no medication is active
        regimen = reviewed if index.in_regimen is index.reviewed else frozenset(index.in_regimen)
        calls, rules, options_of = _called(active, reviewed, regimen)
        # Every rule's check (looked up per run: tests replace a rule's check) called and drained in C, not by a
        # Python loop per rule. A rule that raises: the loop below runs them all again, one by one (a rule's
        # reading is a pure function of the order set and the run cache, so the others say the same again).
        emitted_all: list[Any] | None
        try:
            emitted_all = list(
                chain.from_iterable(map(call, map(getattr, rules, repeat("check")), repeat(order_set), options_of))
            )
        except Exception:  # said by the loop below, for the rule that raised
            emitted_all = None
        if emitted_all is not None:
            for item in emitted_all:  # most order sets: a few findings
                if isinstance(item, CouldNotVerify):
                    unverified.append(item)
                else:
                    findings.append(item)
            return findings, unverified, needed_drugs, reads_procedures
    else:
        calls = [(rule, options) for rule, options, _, _ in active]
    for rule, options in calls:
        try:
            emitted = list(rule.check(order_set, options))  # looked up per run: tests replace a rule's check
        except Exception as exc:  # a broken rule is a finding, not a crash
            # The type and the stack only: an exception message may quote patient data.
            logs.error_with_stack(LOGGER, "rule %s raised %s\n%s", exc, rule.META.code, type(exc).__name__)
            findings.append(_crash_finding(rule, order_set, exc))
            continue
        if emitted:  # most rules emit nothing
            for item in emitted:
                if isinstance(item, CouldNotVerify):
                    unverified.append(item)
                else:
                    findings.append(item)
    return findings, unverified, needed_drugs, reads_procedures


# id(profile) -> (profile, the codes whose indicator it overrides): finalize runs once per order set.
_OVERRIDDEN: dict[int, tuple[Profile, frozenset[str]]] = {}


def _overridden(profile: Profile) -> frozenset[str]:
    cached = _OVERRIDDEN.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    codes = frozenset(code for code, cfg in profile.rules.items() if cfg.indicator_overrides)
    if len(_OVERRIDDEN) > 64:
        _OVERRIDDEN.clear()
    _OVERRIDDEN[id(profile)] = (profile, codes)
    return codes


def _override(profile: Profile, finding: Finding) -> Finding:
    cfg = profile.rule(finding.code)
    if cfg is None or not cfg.indicator_overrides or finding.indicator not in cfg.indicator_overrides:
        return finding
    return copy_with(finding, indicator=cfg.indicator_overrides[finding.indicator])


def finalize(findings: Iterable[Finding], profile: Profile) -> list[Finding]:
    """Overrides, one finding per rule per order (the most urgent kept), sorted critical first."""
    best: dict[tuple[str, str], Finding] = {}
    overridden = _overridden(profile)
    for f in findings:
        if f.code in overridden:
            f = _override(profile, f)
        key = (f.code, f.refs[0] if f.refs else "")  # Finding.primary_ref, inlined: every finding passes here
        kept = best.get(key)
        if kept is None or kept.indicator < f.indicator:
            best[key] = f
    if len(best) < 2:
        return list(best.values())
    return sorted(best.values(), key=_rank_order)


# Indicator value -> its rank, negated (Indicator.rank, read without its property; an Enum member's hash is Python).
_NEGATED_RANK = {i.value: -i.rank for i in Indicator}


def _rank_order(f: Finding) -> tuple[int, str, str]:
    """Critical first, then by code and primary ref."""
    return _NEGATED_RANK[f.indicator._value_], f.code, f.refs[0] if f.refs else ""
