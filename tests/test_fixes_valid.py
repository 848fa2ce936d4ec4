"""Suggestions are valid by construction (issue 11 §2), so the service validates once per resource shape.

Three claims, each proven here with fhir.resources itself (`validate_resource`, never the cache):
1. every suggestion of every fixture, with every profile, in both modes, validates, and none is dropped
   when the drafts are valid FHIR (strict mode read them);
2. each edit kind (dose, frequency, duration, route) and each create template validates for any value its
   type admits (hypothesis);
3. two resources with one shape validate alike (hypothesis mutates the abstracted leaves), so the verdict
   cached per shape is the verdict of the resource: for the shape of the resource's JSON (`shape_key`, what
   the service computes) and for the tuple walk it falls back on (`resource_shape`, for what plain JSON does
   not say exactly).
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.engine import run
from linter.fhir_io import InvalidFhir, load_bytes, validate_resource
from linter.fixes import (
    ABSTRACT_KEYS,
    ROUTES,
    SNOMED,
    _plain_json,
    action_resource,
    apply_update,
    check_valid,
    clear_shape_cache,
    resource_shape,
    shape_key,
    suggestion_actions,
)
from linter.model import (
    NO_ORIGINALS,
    Coding,
    CreateAction,
    Finding,
    Indicator,
    SetDose,
    SetDuration,
    SetFrequency,
    SetRoute,
    Suggestion,
    UpdateAction,
)
from linter.profiles import Profile, available_profiles
from linter.unit_display import display_unit
from tests.conftest import FIXTURE_NOW, FIXTURES

FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*.json") if not p.name.endswith(".expected.json"))
UCUM_UNITS = ("mg", "g", "ug", "[iU]", "[iU]/kg", "mg/kg", "mL", "[iU]/h", "mg/d")
UCUM = "http://unitsofmeasure.org"
PERIOD_UNITS = ("s", "min", "h", "d", "wk", "mo", "a")
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def profiles() -> tuple[Profile, ...]:
    return tuple(available_profiles().values())


@cache
def suggested_resources() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(fixture/mode/rule, resource) of every create and update action over the whole fixture catalog."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in FIXTURE_FILES:
        data = path.read_bytes()
        for mode in ("fast", "strict"):
            for read in load_bytes(data, path.name, mode=mode, now=FIXTURE_NOW).read:
                order_set, originals = read.order_set, read.originals
                for profile in profiles():
                    for finding in run(order_set, profile):
                        if finding.suggestion is None:
                            continue
                        actions = suggestion_actions(finding, order_set, originals, profile)
                        if mode == "strict":  # the drafts were validated on reading: nothing may be dropped
                            assert actions, f"{path.name} {finding.code}: suggestion dropped"
                        where = f"{path.relative_to(FIXTURES)} {mode} {profile.id} {finding.code}"
                        out.extend((where, a["resource"]) for a in actions if "resource" in a)
    return tuple(out)


def test_every_fixture_suggestion_validates_with_fhir_resources() -> None:
    resources = suggested_resources()
    assert len(resources) > 50  # the catalog exercises suggestions widely
    for where, resource in resources:
        try:
            validate_resource(resource)
        except InvalidFhir as exc:
            pytest.fail(f"{where}: {exc}")


def _valid(resource: dict[str, Any]) -> bool:
    try:
        validate_resource(resource)
        return True
    except InvalidFhir:
        return False


def _drafts() -> list[dict[str, Any]]:
    """Every MedicationRequest draft with a dosage in the fixtures that strict mode reads as valid FHIR."""
    out = []
    for path in FIXTURE_FILES:
        for read in load_bytes(path.read_bytes(), path.name, mode="strict", now=FIXTURE_NOW).read:
            for ref, raw in read.originals.items():
                if ref.startswith("MedicationRequest/") and raw.get("dosageInstruction") and _valid(dict(raw)):
                    out.append(dict(raw))
    return out


DRAFTS = _drafts()

doses = st.one_of(st.integers(1, 10**7), st.floats(1e-6, 1e7, allow_nan=False, allow_infinity=False))
changes = st.one_of(
    st.builds(SetDose, st.just(0), doses, st.sampled_from(UCUM_UNITS), st.sampled_from(("units", "mg", "mcg"))),
    st.builds(
        SetFrequency,
        st.just(0),
        st.integers(1, 48),
        st.one_of(st.integers(1, 30), st.floats(0.25, 30)),
        st.sampled_from(PERIOD_UNITS),
        st.text(min_size=1, max_size=20).filter(str.strip),
    ),
    st.builds(SetDuration, st.integers(1, 3650)),
    st.builds(
        SetRoute, st.just(0), st.sampled_from([Coding(SNOMED, code, display) for code, display in ROUTES.values()])
    ),
)


@SLOW
@given(st.sampled_from(DRAFTS), st.lists(changes, min_size=1, max_size=4))
def test_every_edit_kind_yields_valid_fhir(draft: dict[str, Any], edits: list[Any]) -> None:
    before = copy.deepcopy(draft)
    updated = apply_update(draft, UpdateAction(f"MedicationRequest/{draft.get('id')}", "fix", tuple(edits)))
    assert draft == before  # the draft is never mutated (the copy shares untouched subtrees)
    validate_resource(updated)


def _written(value: float) -> str:
    """How a sig must write a dose number (an oracle apart from linter.fixes_sig): exact, with thousands
    separators, no trailing zeros, no exponent: 5600.0 -> 5,600; 1e-06 -> 0.000001."""
    return f"{Decimal(repr(value) if isinstance(value, float) else value).normalize():,f}"


def _states_number(text: str, value: float) -> bool:
    forms = {_written(value), _written(value).replace(",", "")}
    # a number of its own: not the 1 of "x1" or "q8h", not part of 1,500 or 0.15
    return any(re.search(rf"(?<![\w,.]){re.escape(f)}(?![\d,.]|,\d)", text) for f in forms)


def _old_dose(dosage: dict[str, Any]) -> float | None:
    dar = dosage.get("doseAndRate")
    first = dar[0] if isinstance(dar, list) and dar else dar if isinstance(dar, dict) else dosage
    q = first.get("doseQuantity") if isinstance(first, dict) else None
    value = q.get("value") if isinstance(q, dict) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _check_sig(before: dict[str, Any], after: dict[str, Any], value: float, unit: str) -> None:
    """Never deleted; when changed, it says the new dose as written; when kept, it does not say the old one."""
    old = _old_dose(before)
    for key in ("text", "patientInstruction"):
        was, now = before.get(key), after.get(key)
        if not isinstance(was, str) or not was.strip():
            continue
        assert isinstance(now, str) and now.strip(), f"{key} deleted: {was!r}"
        if now != was:
            assert f"{_written(value)} {display_unit(unit)}" in now, (was, now)
        if old is not None and _written(old) != _written(value):
            assert not _states_number(now, old), f"{key} still says the old dose {old}: {was!r} -> {now!r}"


@SLOW
@given(st.sampled_from(DRAFTS), doses, st.sampled_from(UCUM_UNITS))
def test_a_new_dose_never_leaves_a_draft_sig_contradicting_it(draft: dict[str, Any], value: float, unit: str) -> None:
    dose = SetDose(0, value, unit, display_unit(unit))
    updated = apply_update(draft, UpdateAction(f"MedicationRequest/{draft.get('id')}", "fix", (dose,)))
    _check_sig(draft["dosageInstruction"][0], updated["dosageInstruction"][0], value, unit)
    validate_resource(updated)


OLD_UNITS = {"[iU]": ("units", "U", "unit", "[iU]", "IU"), "mg": ("mg",), "ug": ("mcg", "ug"), "mL": ("mL", "ml")}


@SLOW
@given(
    st.sampled_from(sorted(OLD_UNITS)),
    st.data(),
    st.one_of(st.integers(1, 10**6), st.floats(0.01, 1e6, allow_nan=False)),
    doses,
    st.sampled_from(UCUM_UNITS),
    st.sampled_from(["", " IV once", " intravenously at start of procedure", " (see protocol)", " x1", " q8h"]),
    st.sampled_from(["", "Give ", "Heparin "]),
    st.booleans(),
)
def test_a_sig_stating_the_old_dose_never_survives_a_new_dose(
    old_unit: str,
    data: st.DataObject,
    old: float,
    value: float,
    unit: str,
    tail: str,
    head: str,
    in_patient_instruction: bool,
) -> None:
    word = data.draw(st.sampled_from(OLD_UNITS[old_unit]))
    number = data.draw(st.sampled_from([_written(old), _written(old).replace(",", "")]))
    sig = f"{head}{number} {word}{tail}"
    dosage: dict[str, Any] = {
        "text": sig,
        "doseAndRate": [{"doseQuantity": {"value": old, "unit": word, "system": UCUM, "code": old_unit}}],
        **({"patientInstruction": f"You will get {number} {word}."} if in_patient_instruction else {}),
    }
    draft = {"resourceType": "MedicationRequest", "id": "m", "status": "draft", "intent": "order"}
    draft |= {"subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"text": "x"}}
    draft["dosageInstruction"] = [dosage]
    dose = SetDose(0, value, unit, display_unit(unit))
    updated = apply_update(draft, UpdateAction("MedicationRequest/m", "fix", (dose,)))
    after = updated["dosageInstruction"][0]
    _check_sig(dosage, after, value, unit)
    if _written(old) != _written(value) or old_unit != unit:
        assert after["text"] != sig
    validate_resource(updated)


@SLOW
@given(st.sampled_from(profiles()), st.data())
def test_every_create_template_validates(profile: Profile, data: st.DataObject) -> None:
    template = data.draw(st.sampled_from(sorted({*profile.regimens, *profile.orders})))
    order_set = load_bytes(
        (FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes(), "c", now=FIXTURE_NOW
    ).order_sets[0]
    validate_resource(action_resource(CreateAction(template, "add"), order_set, NO_ORIGINALS, profile))


leaf_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _mutate(value: Any, key: str, draw: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mutate(v, k, draw) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate(v, key, draw) for v in value]
    if key in ABSTRACT_KEYS and isinstance(value, str) and draw(st.booleans()):
        return draw(
            st.one_of(
                leaf_text,
                st.sampled_from(
                    ["", " ", "a b", "2026-11-21", "2026-02-30", "2026-11-21T10:00:00Z", "x" * 70, " lead"]
                ),
            )
        )
    if key in ABSTRACT_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool) and draw(st.booleans()):
        return draw(st.one_of(doses, st.integers(-5, 5), st.floats(-1e20, 1e20, allow_nan=False)))
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_shape_one_verdict(data: st.DataObject) -> None:
    resources = [r for _, r in suggested_resources()]
    original = data.draw(st.sampled_from(resources))
    mutated = _mutate(original, "", data.draw)
    if resource_shape(mutated) == resource_shape(original):  # else the cache validates it afresh
        assert _valid(mutated) == _valid(original)
    text, mutated_text = _plain_json(original), _plain_json(mutated)
    assert text is not None  # suggestions are plain JSON
    if mutated_text is None:
        # a drawn leaf that spells "null" (a string): _plain_json declines any text holding null, and
        # check_valid then judges by the tuple walk, checked above
        return
    if shape_key(mutated_text) == shape_key(text):
        assert _valid(mutated) == _valid(original)


def test_the_json_shape_abstracts_the_leaves_the_tuple_walk_does() -> None:
    resource = {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "note": [{"text": "x"}],
        "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 5.0, "code": "mg"}}], "sequence": 1}],
        "subject": {"reference": "Patient/p", "display": 'a"b\\'},  # escaped quote and backslash in the JSON
    }
    text = _plain_json(resource)
    assert text is not None
    key = shape_key(text)
    for leaf in (b'a\\"b', b'"x"', b"5.0", b"Patient/p"):
        assert leaf not in key
    for kept in (b'"code":"mg"', b'"sequence":1', b'"resourceType":"MedicationRequest"'):
        assert kept in key
    same = {**resource, "id": "other-id", "subject": {"reference": "Patient/q", "display": 'c"d\\'}}
    assert shape_key(_plain_json(same) or b"") == key
    assert shape_key(_plain_json({**resource, "id": "not an id!"}) or b"") != key  # another IdType verdict


@pytest.mark.parametrize("leaf", [float("nan"), float("inf"), None, 2**70])
def test_what_plain_json_cannot_say_takes_the_tuple_walk(leaf: Any) -> None:
    """orjson writes NaN and infinity as null: such a resource is never judged by its JSON."""
    assert _plain_json({"resourceType": "MedicationRequest", "x": {"value": leaf}}) is None


def test_a_nan_dose_is_never_valid() -> None:
    """Its JSON would say null (valid to the models: absent); the resource itself is judged, and fails."""
    clear_shape_cache()
    draft = DRAFTS[0]
    dose = SetDose(0, 5600, "[iU]", "units")
    updated = apply_update(draft, UpdateAction(f"MedicationRequest/{draft.get('id')}", "fix", (dose,)))
    check_valid(updated)
    quantity = updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    for value in (float("nan"), float("inf")):
        broken = copy.deepcopy(updated)
        broken["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {**quantity, "value": value}
        for _ in range(2):  # validated, then answered from the cache
            with pytest.raises(InvalidFhir):
                check_valid(broken)


def test_the_cache_keeps_an_invalid_verdict_and_drops_the_suggestion(profile: Profile) -> None:
    clear_shape_cache()
    read = load_bytes(
        (FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes(), "c", mode="fast", now=FIXTURE_NOW
    ).read[0]
    order_set, originals = read.order_set, dict(read.originals)
    draft = dict(originals["MedicationRequest/heparin"])
    draft["authoredOn"] = "not a date"  # fast mode does not validate drafts: the suggestion must not be sent
    originals["MedicationRequest/heparin"] = draft
    finding = Finding(
        "HEP201",
        Indicator.CRITICAL,
        "x",
        "y",
        ("MedicationRequest/heparin",),
        Suggestion("fix", (UpdateAction("MedicationRequest/heparin", "u", (SetDose(0, 5600, "[iU]", "units"),)),)),
    )
    for _ in range(2):  # validated, then answered from the cache: the same verdict
        assert suggestion_actions(finding, order_set, originals, profile) == []
        with pytest.raises(InvalidFhir):
            check_valid(apply_update(draft, finding.suggestion.actions[0]))  # type: ignore[union-attr, arg-type]
    draft["authoredOn"] = "2026-11-20"
    assert [a["type"] for a in suggestion_actions(finding, order_set, originals, profile)] == ["update"]
