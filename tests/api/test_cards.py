"""Card rendering against CDS Hooks 2.0.1 §4 and the Inferno CRD card checks, on synthetic findings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linter.model import Coding, Finding, Indicator, OrderSet, Originals, PatientContext, Suggestion, UpdateAction
from linter.profiles import Profile, available_profiles
from linter.render.cards import ORDERS_EXTENSION, RULE_CODE_SYSTEM, SUMMARY_LIMIT, _md_text, card_detail, cards_response
from linter.render.values import DEFINITE, confidence_text, labelled_values
from linter.rules import RULES_BY_CODE

from .conftest import spec_example

CARD_KEYS = {
    "uuid",
    "summary",
    "detail",
    "indicator",
    "source",
    "suggestions",
    "selectionBehavior",
    "overrideReasons",
    "links",
    "extension",
}


@pytest.fixture(scope="module")
def profile() -> Profile:
    return available_profiles()["btk-angioplasty"]


def order_set() -> OrderSet:
    return OrderSet(
        source="hook:test",
        medications=(),
        procedures=(),
        patient=PatientContext(),
        evaluated_at=datetime.now(UTC),
    )


def finding(code: str, indicator: Indicator, **extra: Any) -> Finding:
    values: dict[str, Any] = {
        "summary": f"{code}: heparin bolus 15000 units is 214 units/kg",
        "detail": "**214 units/kg** for 70 kg",
        "refs": ("MedicationRequest/hep-1",),
        "rule_name": RULES_BY_CODE[code].META.name if code in RULES_BY_CODE else "",  # as make_finding fills it
    }
    values.update(extra)
    return Finding(code=code, indicator=indicator, **values)


def fake_actions(f: Finding, _os: OrderSet, _originals: Originals, _p: Profile) -> list[dict[str, Any]]:
    return [{"type": "update", "description": "set the dose", "resource": {"resourceType": "MedicationRequest"}}]


def assert_spec_card(card: dict[str, Any]) -> None:
    """Every constraint of a 2.0 card we can check structurally (cds-resp-1..6, Inferno card checks)."""
    assert set(card) <= CARD_KEYS
    assert {"summary", "indicator", "source"} <= set(card)
    uuid.UUID(card["uuid"])
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert isinstance(card["source"].get("label"), str) and card["source"]["label"]
    topic = card["source"].get("topic")
    if topic is not None:
        assert topic["system"] and topic["code"]
    if "suggestions" in card:
        assert card["suggestions"], "suggestions must not be empty when present"
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for suggestion in card["suggestions"]:
            assert suggestion["label"]
            uuid.UUID(suggestion["uuid"])
            for action in suggestion.get("actions", []):
                assert action["type"] in ("create", "update", "delete") and action["description"]
                if action["type"] == "delete":
                    assert "resourceId" in action and "resource" not in action
                else:
                    assert "resource" in action
    else:
        assert "selectionBehavior" not in card
    for reason in card.get("overrideReasons", []):
        assert reason["code"] and reason["system"] and reason["display"]

    def no_nulls(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                assert v is not None and v != "" and v != [] and v != {}
                no_nulls(v)
        elif isinstance(value, list):
            for v in value:
                no_nulls(v)

    no_nulls(card)


def test_spec_example_cards_pass_our_card_checks() -> None:
    # The checker itself is validated on the spec's own response example (links included).
    for card in spec_example("cds-hooks__docs__current.md-block22-Example.json")["cards"]:
        card.setdefault("uuid", str(uuid.uuid4()))
        assert_spec_card(card)


def test_no_findings_is_exactly_an_empty_card_list(profile: Profile) -> None:
    assert cards_response([], order_set(), profile) == {"cards": []}


def test_card_fields(profile: Profile) -> None:
    reasons = (
        Coding(
            "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
            "patient-contraindication",
            None,
        ),
        Coding("http://x", "weight-estimated", "Weight is estimated"),
        Coding(None, "no-system", "dropped"),
    )
    f = finding(
        "HEP201",
        Indicator.CRITICAL,
        suggestion=Suggestion("Use 80 units/kg", (UpdateAction("MedicationRequest/hep-1", "dose", ()),)),
        override_reasons=reasons,
    )
    [card] = cards_response([f], order_set(), profile, actions_for=fake_actions)["cards"]
    assert_spec_card(card)
    assert card["source"] == {
        "label": "orderlint - BTK angioplasty order set",
        "topic": {"system": RULE_CODE_SYSTEM, "code": "HEP201", "display": "heparin-bolus-dose"},
    }
    assert card["selectionBehavior"] == "at-most-one"
    assert card["suggestions"][0]["label"] == "Use 80 units/kg"
    assert card["suggestions"][0]["actions"] == fake_actions(f, order_set(), {}, profile)
    assert card["overrideReasons"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
            "code": "patient-contraindication",
            "display": "patient-contraindication",
        },
        {"system": "http://x", "code": "weight-estimated", "display": "Weight is estimated"},
    ]
    assert card["extension"] == {ORDERS_EXTENSION: ["MedicationRequest/hep-1"]}
    # the confidence explained (issue 12 §3), then the rule's detail as it wrote it
    assert card["detail"] == f"- **Confidence:** {DEFINITE}\n\n**214 units/kg** for 70 kg"


def test_optional_fields_are_omitted_not_null(profile: Profile) -> None:
    f = Finding(code="PR501", indicator=Indicator.INFO, summary="something", detail="  ")
    [card] = cards_response([f], order_set(), profile)["cards"]
    assert_spec_card(card)
    assert set(card) == {"uuid", "summary", "indicator", "source"}


def test_suggestion_without_actions_gives_no_suggestions(profile: Profile) -> None:
    f = finding("HEP201", Indicator.CRITICAL, suggestion=Suggestion("Fix", ()))
    [card] = cards_response([f], order_set(), profile, actions_for=lambda *_: [])["cards"]
    assert "suggestions" not in card and "selectionBehavior" not in card


def test_long_summary_is_cut_below_140(profile: Profile) -> None:
    f = finding("HEP201", Indicator.WARNING, summary="heparin " + "x" * 300)
    [card] = cards_response([f], order_set(), profile)["cards"]
    assert len(card["summary"]) == SUMMARY_LIMIT and card["summary"].startswith("heparin")
    assert card["summary"].endswith("…")


def test_cards_are_sorted_critical_first_with_unique_uuids(profile: Profile) -> None:
    findings = [
        finding("PR501", Indicator.INFO),
        finding("HEP201", Indicator.CRITICAL),
        finding("AT101", Indicator.WARNING),
        finding("AT102", Indicator.CRITICAL),
    ]
    cards = cards_response(findings, order_set(), profile)["cards"]
    assert [c["indicator"] for c in cards] == ["critical", "critical", "warning", "info"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["HEP201", "AT102", "AT101", "PR501"]
    assert len({c["uuid"] for c in cards}) == 4


def test_unknown_rule_code_falls_back_to_the_code(profile: Profile) -> None:
    [card] = cards_response([finding("ZZ999", Indicator.INFO)], order_set(), profile)["cards"]
    assert card["source"]["topic"]["display"] == "ZZ999"


# --- the detail's shortcuts say what the plain code said -----------------------------------------------------

_TRICKY = st.text(alphabet=st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u2028\u3000a1`*_[]<>|#~\\é")))


@settings(max_examples=300, deadline=None)
@given(text=_TRICKY)
def test_md_text_is_collapse_then_escape(text: str) -> None:
    plain = " ".join(text.split())
    expected = "".join("\\" + c if c in "\\`*_[]<>|#~" else c for c in plain)
    assert _md_text(text) == expected


@settings(max_examples=200, deadline=None)
@given(detail=_TRICKY, weight=st.one_of(st.none(), st.floats(min_value=1, max_value=300)))
def test_card_detail_joins_values_confidence_and_the_detail(detail: str, weight: float | None) -> None:
    f = finding("HEP201", Indicator.CRITICAL, detail=detail, values={"units_per_kg": 214.3} if weight else {})
    values = labelled_values(f, order_set())
    if not values and not detail.strip():
        assert card_detail(f, order_set()) == ""
        return
    lines = [f"- **{_md_text(v.label)}:** {_md_text(v.text)}" for v in values]
    lines.append(f"- **Confidence:** {_md_text(confidence_text(f))}")
    assert card_detail(f, order_set()) == "\n".join(lines) + ("\n\n" + detail if detail.strip() else "")
