"""The engine's index (linter.engine: a rule is called only when its `META.applies_to` drugs are among the order set's
orders) changes nothing: over the fixture catalog (in every context, with both profiles) and over generated order
sets, the rules give the same findings and the same could-not-verify records, by repr, with the index as without
it (every rule called). A rule declared `engine_only` emits nothing of its own. And every `applies_to` names drugs
the terminology knows (a misspelt class would silently turn its rule off)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter import engine
from linter.fhir_io import load_bytes
from linter.model import OrderSet
from linter.profiles import load_profile
from linter.rules import RULES
from linter.rules._memo import RunScope
from linter.terminology import terminology
from tests.conftest import FIXTURE_NOW, FIXTURES
from tests.test_engine_fuzz import EXAMPLES, VALID_CTX, VALID_MR

PROFILES = [load_profile("btk-angioplasty"), load_profile("btk-angioplasty-jp")]


def _same_with_and_without_the_index(order_set: OrderSet) -> None:
    for profile in PROFILES:
        plan = engine._plan(profile, None, ())
        with RunScope():
            indexed = engine._run_rules(plan, order_set)
        with RunScope():
            every = engine._run_rules(plan, order_set, use_index=False)
        assert repr(indexed) == repr(every), order_set.source


@pytest.mark.parametrize("context", [None, "btk", "pad"])
def test_the_index_changes_no_finding_over_the_catalog(context: Any) -> None:
    cases = sorted(FIXTURES.rglob("*.json"))
    assert len(cases) > 200
    for path in cases:
        for order_set in load_bytes(
            path.read_bytes(), path.name, mode="fast", now=FIXTURE_NOW, context=context
        ).order_sets:
            _same_with_and_without_the_index(order_set)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALID_MR, min_size=1, max_size=4), st.lists(VALID_CTX, max_size=4), st.sampled_from([None, "btk"]))
def test_the_index_changes_no_finding_on_generated_order_sets(
    meds: list[dict[str, Any]], ctx: list[dict[str, Any]], context: Any
) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in meds + ctx]}
    for order_set in load_bytes(
        orjson.dumps(bundle), "gen.json", mode="fast", now=FIXTURE_NOW, context=context
    ).order_sets:
        _same_with_and_without_the_index(order_set)


def test_applies_to_names_known_drugs_and_engine_only_rules_emit_nothing() -> None:
    t = terminology()
    clean = FIXTURES / "clean" / "pass-btk-order-set-complete.json"
    order_set = load_bytes(clean.read_bytes(), clean.name, now=FIXTURE_NOW).order_sets[0]
    for rule in RULES:
        for key in rule.META.applies_to:
            known = t.drugs_in_class(key[6:]) if key.startswith("class:") else ({key} & set(t.drugs))
            assert known, f"{rule.META.code}: applies_to {key!r} names no drug"
        if rule.META.engine_only:
            assert not list(rule.check(order_set, None)), rule.META.code  # type: ignore[arg-type]


def test_lazy_texts_and_the_index_on_bench_bundles() -> None:
    """The bench's generated 20-entry bundles (bench/lint_bench.py), both modes: the index changes nothing, and
    a finding's texts read while the run's cache is live (as eagerly built texts were) equal those read after
    the run (as a report reads them)."""
    import random  # here only: the one test that generates bench bundles

    from bench.lint_bench import NOW, make_bundle

    rng = random.Random(11)
    for _ in range(40):
        data = make_bundle(rng, rng.choice([12, 20, 30]))
        for mode in ("fast", "strict"):
            for order_set in load_bytes(data, "bench.json", mode=mode, now=NOW).order_sets:
                _same_with_and_without_the_index(order_set)
                plan = engine._plan(PROFILES[0], None, ())
                with RunScope():
                    inside = repr(engine._run_rules(plan, order_set))
                with RunScope():
                    found = engine._run_rules(plan, order_set)
                assert repr(found) == inside
