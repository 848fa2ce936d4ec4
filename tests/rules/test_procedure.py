"""PR501-PR508: the readings the fixtures do not pin down, as tables of cases on small bundles."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.fixes import suggestion_actions
from linter.model import CreateAction, DeleteAction, Finding, OrderSet
from linter.profiles import Profile
from linter.rules.procedure._indication import text_kinds
from linter.rules.procedure.pr504_stent_without_documented_indication import documents_indication
from tests.conftest import FIXTURE_NOW, FIXTURES

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CLEAN = json.loads((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_text())


def _condition(id_: str, code: str, system: str = ICD) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id_,
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": system, "code": code}]},
    }


def _bundle(conditions: list[dict[str, Any]], **sr_changes: Any) -> dict[str, Any]:
    b = copy.deepcopy(CLEAN)
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "Condition"]
    for c in conditions:
        b["entry"].append({"fullUrl": f"Condition/{c['id']}", "resource": c})
    for e in b["entry"]:
        if e["resource"]["resourceType"] == "ServiceRequest":
            e["resource"].pop("reasonReference", None)
            e["resource"].update(sr_changes)
    return b


def _lint(bundle: dict[str, Any], profile: Profile) -> tuple[list[Finding], OrderSet]:
    result = load_bytes(orjson.dumps(bundle), "test", now=FIXTURE_NOW)
    assert not result.errors
    order_set = result.order_sets[0]
    return run(order_set, profile), order_set


def _codes(findings: list[Finding], prefix: str = "PR") -> dict[str, str]:
    return {f.code: f.indicator.value for f in findings if f.code.startswith(prefix)}


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([_condition("c", "I70.211")], {"PR501": "critical", "PR506": "info"}),
        ([_condition("c", "63491006", SCT)], {"PR501": "critical", "PR506": "info"}),
        # Any CLTI code silences PR501, even with claudication coded.
        ([_condition("c", "I70.211"), _condition("r", "I70.221")], {}),
        ([_condition("c", "I70.211"), _condition("u", "I70.234")], {}),
        ([_condition("c", "I70.211"), _condition("g", "I70.261")], {}),
        ([_condition("c", "I70.211"), _condition("u", "429768000", SCT)], {}),
        ([_condition("c", "I70.211"), _condition("g", "5111000119102", SCT)], {}),
    ],
)
def test_pr501_claudication_and_any_clti_code(
    conditions: list[dict[str, Any]], expected: dict[str, str], profile: Profile
) -> None:
    findings, _ = _lint(_bundle(conditions), profile)
    assert _codes(findings) == expected


def test_pr501_claudication_stated_as_reason_code_only(profile: Profile) -> None:
    bundle = _bundle([], reasonCode=[{"coding": [{"system": ICD, "code": "I70.212"}]}])
    findings, _ = _lint(bundle, profile)
    assert _codes(findings)["PR501"] == "critical"


def test_pr501_clti_written_in_the_order_note(profile: Profile) -> None:
    bundle = _bundle([_condition("c", "I70.211")], note=[{"text": "Non-healing ischemic ulcer of the right hallux"}])
    findings, _ = _lint(bundle, profile)
    assert "PR501" not in _codes(findings)


@pytest.mark.parametrize(
    ("reason", "conditions", "expected"),
    [
        ([{"text": "asymptomatic"}], [], "critical"),
        ([{"text": "asymptomatic"}], [_condition("c", "I70.211")], "info"),  # contradiction: correct the reason
        ([], [], "info"),  # nothing documented
        ([], [_condition("p", "I73.9")], None),  # an active PAD Condition is a documented indication
        ([{"text": "PAD"}], [], None),  # a stated reason that is not "asymptomatic"
    ],
)
def test_pr502_readings(
    reason: list[dict[str, Any]], conditions: list[dict[str, Any]], expected: str | None, profile: Profile
) -> None:
    bundle = _bundle(conditions, **({"reasonCode": reason} if reason else {}))
    findings, _ = _lint(bundle, profile)
    assert _codes(findings).get("PR502") == expected


@pytest.mark.parametrize(
    ("text", "documented"),
    [
        ("Residual stenosis 31% after PTA", True),
        ("residual stenosis of 30%", False),
        ("residual stenosis >30%", True),
        ("residual stenosis ≥30%", False),
        ("residual stenosis 30.5 %", True),
        ("Flow-limiting dissection after PTA", True),
        ("dissection, flow limiting", True),
        ("minor dissection, not flow-limiting", True),  # words only: documented (Limitations)
        ("suboptimal result", False),
    ],
)
def test_pr504_documentation_words(text: str, documented: bool) -> None:
    found = documents_indication(text, 30)
    assert found is documented


def test_pr503_words_naming_both_stents_stay_silent(profile: Profile) -> None:
    bundle = _bundle(
        [_condition("r", "I70.221")],
        code={"coding": [{"system": SCT, "code": "1296925008"}], "text": "anterior tibial stent"},
        orderDetail=[{"text": "drug-eluting stent preferred; bare-metal stent if unavailable"}],
        note=[{"text": "for flow-limiting dissection"}],
    )
    findings, _ = _lint(bundle, profile)
    assert "PR503" not in _codes(findings)


def test_pr505_one_suggestion_deletes_abi_and_creates_tbi_text_order(profile: Profile) -> None:
    bundle = json.loads((FIXTURES / "PR505" / "fail-abi-dialysis.json").read_text())
    findings, order_set = _lint(bundle, profile)
    (finding,) = [f for f in findings if f.code == "PR505"]
    assert finding.suggestion is not None
    actions = finding.suggestion.actions
    assert [type(a) for a in actions] == [DeleteAction, CreateAction]
    assert isinstance(actions[0], DeleteAction) and actions[0].ref == "ServiceRequest/abi"
    assert isinstance(actions[1], CreateAction) and actions[1].template == "toe_brachial_index"
    (read,) = load_bytes(orjson.dumps(bundle), "test", now=FIXTURE_NOW).read  # with the resources as read
    actions_sent = suggestion_actions(finding, order_set, read.originals, profile)
    created = [a for a in actions_sent if a.get("type") == "create"]
    assert created, actions_sent
    resource = created[0]["resource"]
    assert resource["resourceType"] == "ServiceRequest"
    assert "coding" not in resource["code"]  # no verified TBI code: text only
    assert "toe-brachial" in resource["code"]["text"].lower()


def test_pr505_silent_when_a_tbi_is_also_ordered(profile: Profile) -> None:
    bundle = json.loads((FIXTURES / "PR505" / "fail-abi-dialysis.json").read_text())
    bundle["entry"].append(
        {
            "fullUrl": "ServiceRequest/tbi",
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "tbi",
                "status": "active",
                "intent": "order",
                "code": {"text": "Toe-brachial index, bilateral"},
                "subject": {"reference": "Patient/p1"},
            },
        }
    )
    findings, _ = _lint(bundle, profile)
    assert "PR505" not in _codes(findings)


def test_pr505_hemodialysis_procedure_in_context_counts(profile: Profile) -> None:
    bundle = json.loads((FIXTURES / "PR505" / "pass-abi-no-renal-disease.json").read_text())
    bundle["entry"].append(
        {
            "fullUrl": "Procedure/hd",
            "resource": {
                "resourceType": "Procedure",
                "id": "hd",
                "status": "completed",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": SCT, "code": "302497006", "display": "Hemodialysis"}]},
                "performedDateTime": "2026-11-19",
            },
        }
    )
    findings, _ = _lint(bundle, profile)
    assert _codes(findings) == {"PR505": "info"}


def test_pr507_and_pr508_need_a_btk_vessel(profile: Profile) -> None:
    bundle = _bundle(
        [_condition("r", "I70.221")],
        code={"coding": [{"system": PCS, "code": "047M3ZZ"}], "text": "popliteal angioplasty"},
        bodySite=[{"coding": [{"system": SCT, "code": "43899006"}]}],
    )
    findings, order_set = _lint(bundle, profile)
    assert order_set.btk_context is None
    assert not {"PR507", "PR508", "PR501", "PR502"} & set(_codes(findings))


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Bare-metal nitinol self-expanding stent", {"bms", "stent"}),
        ("Supervised exercise therapy, 12 weeks", {"exercise"}),
        ("ABI with toe pressures", {"abi", "tbi"}),
        ("Toe-brachial index", {"tbi"}),
    ],
)
def test_words_for_devices_and_orders_without_codes(text: str, kinds: set[str]) -> None:
    assert kinds <= text_kinds(text)
