"""Profiles: the JP profile extends the default with only its differences, every knowledge change is in the
CHANGELOG, and an institution's profile changes findings without touching code (aspirin 100 mg + cilostazol:
AT105 under the default profile, none under btk-angioplasty-jp)."""

from __future__ import annotations

import copy
import json
import tomllib
from typing import Any

import orjson
import pytest

from linter.engine import run
from linter.fhir_io import load_bytes, validate_resource
from linter.fixes import medication_request
from linter.profiles import Profile, load_profile, profiles_dir
from tests.conftest import FIXTURE_NOW, FIXTURES

JP = "btk-angioplasty-jp"
DEFAULT = "btk-angioplasty"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ORAL = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}]}


def _raw(name: str) -> dict[str, Any]:
    with (profiles_dir() / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_jp_profile_extends_the_default_and_writes_only_differences() -> None:
    raw = _raw(JP)
    assert raw["extends"] == DEFAULT
    assert set(raw["rules"]) == {"AT101", "AT104", "AT105", "AT107", "AT113"}
    assert set(raw["regimens"]) == {"aspirin_100_daily"}
    jp, default = load_profile(JP), load_profile(DEFAULT)
    assert jp.id == JP and jp.extends == DEFAULT
    assert jp.version.startswith("20") and jp.status in ("draft", "active") and jp.publisher
    # Everything not written is inherited unchanged.
    for code, cfg in default.rules.items():
        if code not in raw["rules"]:
            assert jp.rules[code] == cfg, code
        else:
            for key, value in cfg.options.items():
                if key not in raw["rules"][code].get("options", {}):
                    assert jp.rules[code].options[key] == value, (code, key)
    assert jp.rules["AT101"].options["suggest_mg"] == 100
    assert jp.rules["AT105"].options["cilostazol_counts_as_second_agent"] is True
    assert jp.rules["AT102"].options["maintenance_mg_per_day"] == 75  # clopidogrel 75 mg, inherited
    assert jp.rules["AT111"].options["max_mg_per_day"] == 200  # cilostazol 100-200 mg/day, inherited


def test_every_changed_threshold_cites_its_source() -> None:
    raw = _raw(JP)
    for code, cfg in raw["rules"].items():
        for key in cfg.get("options", {}):
            cite = cfg["cite"][key]
            assert "002_6cec19d6dc2f6528.txt:62" in cite, (code, key, cite)


def test_aspirin_100_template_uses_the_verified_ingredient_code() -> None:
    jp = load_profile(JP)
    tmpl = jp.regimens["aspirin_100_daily"]
    assert (tmpl.rxnorm, tmpl.dose, tmpl.unit) == ("1191", 100, "mg")  # the 100 mg SCD is UNVERIFIED
    result = load_bytes(
        (FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_bytes(), "clean", now=FIXTURE_NOW
    )
    resource = medication_request(tmpl, result.order_sets[0], result.read[0].originals)
    validate_resource(resource)
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "1191"


def test_changelog_has_a_line_for_each_profile_version() -> None:
    text = (profiles_dir() / "CHANGELOG.md").read_text()
    for name in (DEFAULT, JP):
        profile = load_profile(name)
        section = text.split(f"## {profile.id}\n", 1)[1].split("\n## ", 1)[0]
        assert f"- {profile.version} " in section, f"CHANGELOG.md has no line for {profile.id} {profile.version}"


def _aspirin_100_cilostazol_bundle() -> bytes:
    b = json.loads((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_text())
    b["entry"] = [e for e in b["entry"] if e["resource"]["id"] not in ("aspirin", "clopidogrel")]

    def order(id_: str, code: str, text: str, dose: float, frequency: int) -> dict[str, Any]:
        return {
            "fullUrl": f"MedicationRequest/{id_}",
            "resource": {
                "resourceType": "MedicationRequest",
                "id": id_,
                "status": "draft",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [{"system": RX, "code": code}], "text": text},
                "subject": {"reference": "Patient/p1"},
                "dosageInstruction": [
                    {
                        "text": text,
                        "route": copy.deepcopy(ORAL),
                        "timing": {"repeat": {"frequency": frequency, "period": 1, "periodUnit": "d"}},
                        "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "mg", "system": UCUM, "code": "mg"}}],
                    }
                ],
            },
        }

    b["entry"] += [
        order("aspirin", "1191", "aspirin 100 mg tablet once daily", 100, 1),
        order("cilostazol", "21107", "cilostazol 100 mg tablet twice daily", 100, 2),
    ]
    return orjson.dumps(b)


def test_aspirin_100_with_cilostazol_is_dapt_only_in_the_jp_profile() -> None:
    result = load_bytes(_aspirin_100_cilostazol_bundle(), "jp", now=FIXTURE_NOW)
    assert not result.errors
    order_set = result.order_sets[0]
    assert order_set.btk_context is not None
    default_codes = {f.code for f in run(order_set, load_profile(DEFAULT))}
    jp_codes = {f.code for f in run(order_set, load_profile(JP))}
    assert "AT105" in default_codes
    assert "AT105" not in jp_codes
    assert "AT101" not in jp_codes  # aspirin 100 mg/day is within 75-325 mg


@pytest.mark.parametrize(
    ("fixture", "code", "default_text", "jp_text"),
    [
        ("AT104/fail-no-antiplatelet.json", "AT104", "start aspirin 81 mg daily", "start aspirin 100 mg daily"),
        ("AT107/fail-dpi-without-aspirin.json", "AT107", "needs aspirin 81 mg daily", "needs aspirin 100 mg daily"),
    ],
)
def test_messages_name_the_regimen_of_the_active_profile(
    fixture: str, code: str, default_text: str, jp_text: str
) -> None:
    # The suggestion creates the profile's regimen; the summary must name that regimen, not a dose written in code.
    order_set = load_bytes((FIXTURES / fixture).read_bytes(), fixture, now=FIXTURE_NOW).order_sets[0]
    default = [f.summary for f in run(order_set, load_profile(DEFAULT)) if f.code == code]
    jp = [f.summary for f in run(order_set, load_profile(JP)) if f.code == code]
    assert default and all(default_text in s for s in default), default
    assert jp and all(jp_text in s and "81 mg" not in s for s in jp), jp


def test_ll401_names_the_profiles_statin_regimen() -> None:
    data = load_profile(DEFAULT).model_dump()
    data["regimens"]["atorvastatin_80_daily"].update(
        {
            "dose": 40,
            "display": "atorvastatin 40 MG Oral Tablet",
            "text": "atorvastatin 40 mg by mouth once daily",
        }
    )
    profile = Profile.model_validate(data)
    order_set = load_bytes((FIXTURES / "LL401/fail-no-statin.json").read_bytes(), "ll401", now=FIXTURE_NOW).order_sets[
        0
    ]
    (finding,) = [f for f in run(order_set, profile) if f.code == "LL401"]
    assert "(atorvastatin 40 mg daily)" in finding.summary
    assert finding.suggestion is not None and finding.suggestion.label == "Add atorvastatin 40 mg once daily"
    assert "Suggested: atorvastatin 40 mg by mouth once daily (high intensity)" in finding.detail
