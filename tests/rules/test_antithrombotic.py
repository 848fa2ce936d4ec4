"""AT101-AT115 beyond the fixtures: boundary pairs, doseRange, timing.code, tablets x strength, sequenced
loading + maintenance dosages, regimen in context, profile options, and suggestions that build valid FHIR."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest

from linter.engine import run
from linter.fhir_io import load_bytes
from linter.fixes import suggestion_actions
from linter.model import CreateAction, DeleteAction, Finding, OrderSet, SetDose, SetDuration, SetFrequency, UpdateAction
from linter.profiles import Profile
from linter.rules import RULES
from linter.rules._dose import per_period
from linter.rules.antithrombotic import at105_dapt_missing
from tests.conftest import FIXTURE_NOW, FIXTURES

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
CLEAN = json.loads((FIXTURES / "clean" / "pass-btk-order-set-complete.json").read_text())

ASPIRIN_IN, ASPIRIN_81, ASPIRIN_325 = "1191", "243670", "212033"
CLOPIDOGREL_75, CLOPIDOGREL_300 = "309362", "749196"
RIVAROXABAN_2_5, RIVAROXABAN_10 = "2059015", "1114198"
TICAGRELOR_90, PRASUGREL_10, APIXABAN_5, CILOSTAZOL_IN = "1116635", "855812", "1364445", "21107"


# ------------------------------------------------------------------------------------------------ builders


def timing(
    freq: int | None = None,
    period: float = 1,
    unit: str = "d",
    *,
    code: str | None = None,
    count: int | None = None,
    bounds_days: float | None = None,
    bounds_period: dict[str, str] | None = None,
) -> dict[str, Any]:
    t: dict[str, Any] = {}
    rp: dict[str, Any] = {}
    if freq is not None:
        rp.update({"frequency": freq, "period": period, "periodUnit": unit})
    if count is not None:
        rp["count"] = count
    if bounds_days is not None:
        rp["boundsDuration"] = {"value": bounds_days, "unit": "days", "system": UCUM, "code": "d"}
    if bounds_period is not None:
        rp["boundsPeriod"] = bounds_period
    if rp:
        t["repeat"] = rp
    if code:
        t["code"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": code}]}
    return t


def dosage(
    value: float | None = None,
    unit: str = "mg",
    tm: dict[str, Any] | None = None,
    *,
    low: float | None = None,
    high: float | None = None,
    sequence: int | None = None,
    text: str = "as directed",
) -> dict[str, Any]:
    d: dict[str, Any] = {"text": text}
    if sequence is not None:
        d["sequence"] = sequence
    if tm:
        d["timing"] = tm
    if value is not None:
        d["doseAndRate"] = [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}]
    elif low is not None and high is not None:
        d["doseAndRate"] = [
            {
                "doseRange": {
                    "low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                    "high": {"value": high, "unit": unit, "system": UCUM, "code": unit},
                }
            }
        ]
    return d


def med(
    mid: str,
    code: str,
    *dosages: dict[str, Any],
    status: str = "draft",
    statement: bool = False,
    authored: str | None = None,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "MedicationStatement" if statement else "MedicationRequest",
        "id": mid,
        "status": "active" if statement and status == "draft" else status,
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }
    if statement:
        if dosages:
            r["dosage"] = list(dosages)
    else:
        r["intent"] = "order"
        r["dosageInstruction"] = list(dosages)
    if authored:
        r["authoredOn"] = authored
    return r


def condition(cid: str, system: str, code: str, *, text: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": system, "code": code}]} if code else {"text": text},
        "subject": {"reference": "Patient/p1"},
    }
    return c


PAD = condition("clti", ICD, "I70.221")


def bundle(*resources: dict[str, Any], pad: bool = False) -> dict[str, Any]:
    res = [{"resourceType": "Patient", "id": "p1"}, *([PAD] if pad else []), *resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in res],
    }


def clean(
    replace: dict[str, dict[str, Any]] | None = None, add: tuple[dict[str, Any], ...] = (), drop: tuple[str, ...] = ()
) -> dict[str, Any]:
    b = copy.deepcopy(CLEAN)
    replace = replace or {}
    entries = []
    for e in b["entry"]:
        rid = e["resource"]["id"]
        if rid in drop:
            continue
        if rid in replace:
            r = replace[rid]
            e = {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r}
        entries.append(e)
    entries += [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in add]
    b["entry"] = entries
    return b


def read(b: dict[str, Any], mode: str = "strict") -> Any:
    """The OrderSet and the resources as read (what a suggested update changes)."""
    result = load_bytes(orjson.dumps(b), "test.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    assert not result.errors, result.errors
    (r,) = result.read
    return r


def order_set(b: dict[str, Any], mode: str = "strict") -> OrderSet:
    os_: OrderSet = read(b, mode).order_set
    return os_


def lint(b: dict[str, Any], profile: Profile) -> list[Finding]:
    return run(order_set(b), profile)


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def indicator(findings: list[Finding], code: str) -> str | None:
    got = only(findings, code)
    assert len(got) <= 1, got
    return got[0].indicator.value if got else None


# ------------------------------------------------------------------------------------------------ AT101


@pytest.mark.parametrize(
    ("mg_per_admin", "per_day", "expected"),
    [
        (74, 1, "warning"),
        (75, 1, None),  # lower bound
        (325, 1, None),
        (350, 1, "warning"),
        (326, 1, "warning"),  # upper bound
        (325, 3, "warning"),
        (500, 2, "critical"),  # 975 vs 1000 mg/day
        (333.3, 3, "warning"),
        (1000, 1, "critical"),
        (30, 1, "warning"),
        (29, 1, "critical"),  # 30 vs 29 mg/day
        (50, 2, None),  # 100 mg/day in two doses
    ],
)
def test_at101_boundaries(profile: Profile, mg_per_admin: float, per_day: int, expected: str | None) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_IN, dosage(mg_per_admin, tm=timing(per_day)))})
    assert indicator(lint(b, profile), "AT101") == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"), [(81, 400, "warning"), (50, 100, "warning"), (81, 162, None), (25, 81, "critical")]
)
def test_at101_dose_range_judges_each_end(profile: Profile, low: float, high: float, expected: str | None) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_IN, dosage(low=low, high=high, tm=timing(1)))})
    assert indicator(lint(b, profile), "AT101") == expected


@pytest.mark.parametrize(
    ("code", "tablets", "expected"),
    [(ASPIRIN_325, 4, "critical"), (ASPIRIN_81, 2, None), (ASPIRIN_325, 2, "warning"), (ASPIRIN_81, 0.5, "warning")],
)
def test_at101_tablets_times_strength(profile: Profile, code: str, tablets: float, expected: str | None) -> None:
    b = clean({"aspirin": med("aspirin", code, dosage(tablets, "{tbl}", timing(1)))})
    findings = lint(b, profile)
    assert indicator(findings, "AT101") == expected
    if expected:
        assert " mg per tablet = " in only(findings, "AT101")[0].detail


def test_at101_grams_are_converted(profile: Profile) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_IN, dosage(0.081, "g", timing(1)))})
    assert indicator(lint(b, profile), "AT101") is None


@pytest.mark.parametrize(
    ("mg", "expected"), [(150, None), (325, None), (400, "warning"), (1000, "critical"), (81, None), (20, "critical")]
)
def test_at101_single_administration(profile: Profile, mg: float, expected: str | None) -> None:
    """Loading range 150-325 mg once is silent; outside it a single administration is judged as a daily dose."""
    b = clean(add=(med("aspirin-once", ASPIRIN_IN, dosage(mg, tm=timing(count=1))),))
    got = only(lint(b, profile), "AT101")
    assert (got[0].indicator.value if got else None) == expected
    if got:
        assert "judged as a daily dose" in got[0].detail


def test_at101_timing_code_tid(profile: Profile) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_325, dosage(325, tm=timing(code="TID")))})
    (f,) = only(lint(b, profile), "AT101")
    assert f.values["mg_per_day"] == 975
    assert f.summary == "Aspirin 975 mg/day (325 mg three times daily); maintenance range 75-325 mg/day"


def test_at101_suggestion_is_81_mg_once_daily_and_builds_fhir(profile: Profile) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_325, dosage(325, tm=timing(2)))})
    r = read(b)
    os_ = r.order_set
    (f,) = only(run(os_, profile), "AT101")
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction)
    assert action.changes == (SetDose(0, 81, "mg", "mg"), SetFrequency(0, 1, 1, "d", "once daily"))
    (card_action,) = suggestion_actions(f, os_, r.originals, profile)
    assert card_action["type"] == "update"
    assert card_action["resource"]["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 1


def test_at101_unreadable_dose_is_dq901_not_a_pass(profile: Profile) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_81, dosage(tm=timing(1), text="one tablet daily"))})
    findings = lint(b, profile)
    assert not only(findings, "AT101")
    (dq,) = only(findings, "DQ901")
    assert "AT101" in dq.detail


def test_at101_tablets_without_strength_is_dq902(profile: Profile) -> None:
    b = clean({"aspirin": med("aspirin", ASPIRIN_IN, dosage(1, "{tbl}", timing(1)))})
    findings = lint(b, profile)
    assert not only(findings, "AT101")
    assert only(findings, "DQ902")


def test_at101_active_aspirin_in_context_is_not_judged(profile: Profile) -> None:
    b = clean(add=(med("aspirin-home", ASPIRIN_325, dosage(325, tm=timing(3)), statement=True),))
    assert indicator(lint(b, profile), "AT101") is None


# ------------------------------------------------------------------------------------------------ AT102


@pytest.mark.parametrize(
    ("dosages", "expected"),
    [
        ((dosage(75, tm=timing(1)),), None),
        ((dosage(75, tm=timing(code="QD")),), None),
        ((dosage(75, tm=timing(code="BID")),), "warning"),
        ((dosage(150, tm=timing(1)),), "warning"),
        ((dosage(225, tm=timing(1)),), "warning"),
        ((dosage(300, tm=timing(1)),), "critical"),
        ((dosage(150, tm=timing(2)),), "critical"),  # 300 mg/day repeating
        ((dosage(300, tm=timing(count=1)),), None),
        ((dosage(600, tm=timing(count=1)),), None),
        ((dosage(299, tm=timing(count=1)),), "warning"),
        ((dosage(601, tm=timing(count=1)),), "warning"),
        ((dosage(900, tm=timing(count=1)),), "warning"),  # a single dose is never "repeating"
        ((dosage(75, tm=timing(count=1)),), None),  # judged as 75 mg once a day
        ((dosage(600, tm=timing(count=1), sequence=1), dosage(75, tm=timing(1), sequence=2)), None),
        ((dosage(600, tm=timing(count=1), sequence=1), dosage(150, tm=timing(1), sequence=2)), "warning"),
        ((dosage(low=75, high=150, tm=timing(1)),), "warning"),
    ],
)
def test_at102(profile: Profile, dosages: tuple[dict[str, Any], ...], expected: str | None) -> None:
    b = bundle(med("clopidogrel", CLOPIDOGREL_75, *dosages))
    assert indicator(lint(b, profile), "AT102") == expected


def test_at102_300mg_tablet_daily_is_critical_through_strength(profile: Profile) -> None:
    b = bundle(med("clopidogrel", CLOPIDOGREL_300, dosage(1, "{tbl}", timing(1))))
    (f,) = only(lint(b, profile), "AT102")
    assert f.indicator.value == "critical"
    assert f.values["mg_per_day"] == 300


def test_at102_suggestion_targets_the_maintenance_dosage(profile: Profile) -> None:
    b = bundle(
        med(
            "clopidogrel",
            CLOPIDOGREL_75,
            dosage(600, tm=timing(count=1), sequence=1),
            dosage(150, tm=timing(1), sequence=2),
        )
    )
    (f,) = only(lint(b, profile), "AT102")
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction)
    assert action.changes == (SetDose(1, 75, "mg", "mg"), SetFrequency(1, 1, 1, "d", "once daily"))


# ------------------------------------------------------------------------------------------------ AT103


@pytest.mark.parametrize(("bounds", "expected"), [(29, "warning"), (30, None), (90, None), (None, "info")])
def test_at103_duration_boundaries(profile: Profile, bounds: float | None, expected: str | None) -> None:
    b = clean({"clopidogrel": med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1, bounds_days=bounds)))})
    findings = lint(b, profile)
    assert indicator(findings, "AT103") == expected
    if expected:
        (f,) = only(findings, "AT103")
        assert f.suggestion is not None
        (action,) = f.suggestion.actions
        assert isinstance(action, UpdateAction)
        assert action.changes == (SetDuration(90),)


def test_at103_bounds_period(profile: Profile) -> None:
    period = {"start": "2026-11-21", "end": "2026-12-05"}
    b = clean({"clopidogrel": med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1, bounds_period=period)))})
    (f,) = only(lint(b, profile), "AT103")
    assert f.values["duration_days"] == 14


def test_at103_only_in_btk_context(profile: Profile) -> None:
    b = bundle(med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1, bounds_days=7))), pad=True)
    assert indicator(lint(b, profile), "AT103") is None


# ------------------------------------------------------------------------------------------------ AT104 / AT105


def test_at104_suggestion_and_ref(profile: Profile) -> None:
    r = read(clean(drop=("aspirin", "clopidogrel")))
    os_ = r.order_set
    (f,) = only(run(os_, profile), "AT104")
    assert f.primary_ref == "ServiceRequest/pta"
    assert f.suggestion is not None
    assert f.suggestion.actions == (CreateAction("aspirin_81_daily", f.suggestion.actions[0].description),)
    (card_action,) = suggestion_actions(f, os_, r.originals, profile)
    assert card_action["type"] == "create"


def test_at104_silent_without_btk_context(profile: Profile) -> None:
    b = bundle(med("atorvastatin", "259255", dosage(80, tm=timing(1))), pad=True)
    assert not only(lint(b, profile), "AT104")


def test_at105_suggests_clopidogrel_when_aspirin_is_alone(profile: Profile) -> None:
    (f,) = only(lint(clean(drop=("clopidogrel",)), profile), "AT105")
    assert f.suggestion is not None
    assert isinstance(f.suggestion.actions[0], CreateAction)
    assert f.suggestion.actions[0].template == "clopidogrel_75_daily_90d"


def test_at105_no_duplicate_suggestion_when_clopidogrel_is_alone(profile: Profile) -> None:
    (f,) = only(lint(clean(drop=("aspirin",)), profile), "AT105")
    assert f.suggestion is None
    assert "aspirin" in f.detail


@pytest.mark.parametrize(
    ("tm", "expected"),
    [
        (timing(code="BID"), None),
        (timing(2), None),
        (timing(1, 12, "h"), None),
        (timing(1), "warning"),
        (timing(3), "warning"),
    ],
)
def test_at105_dpi_silences(profile: Profile, tm: dict[str, Any], expected: str | None) -> None:
    b = clean(drop=("clopidogrel",), add=(med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=tm)),))
    assert indicator(lint(b, profile), "AT105") == expected


def test_at105_cilostazol_counts_only_when_the_profile_says_so(profile: Profile) -> None:
    os_ = order_set(clean(drop=("clopidogrel",), add=(med("cilostazol", CILOSTAZOL_IN, dosage(100, tm=timing(2))),)))
    default = profile.options("AT105")
    assert list(at105_dapt_missing.check(os_, default))
    jp = default.replace(cilostazol_counts_as_second_agent=True)
    assert not list(at105_dapt_missing.check(os_, jp))


def test_at105_unreadable_rivaroxaban_in_context_is_reported(profile: Profile) -> None:
    b = clean(drop=("clopidogrel",), add=(med("rivaroxaban-home", RIVAROXABAN_2_5, statement=True),))
    findings = lint(b, profile)
    assert not only(findings, "AT105")
    (dq,) = only(findings, "DQ901")
    assert dq.primary_ref == "MedicationStatement/rivaroxaban-home"


# ------------------------------------------------------------------------------------------------ AT106 / AT107


@pytest.mark.parametrize(
    ("value", "tm", "expected"),
    [
        (2.5, timing(code="BID"), None),
        (2.5, timing(2), None),
        (2.5, timing(1, 12, "h"), None),
        (2.5, timing(1), "warning"),
        (2.5, timing(3), "warning"),
        (5, timing(1), "warning"),
        (2.5, timing(count=1), "warning"),  # a single administration is judged as 2.5 mg/day
        (2.5, None, "warning"),  # no timing at all: one administration, not twice daily
        (10, timing(1), None),
        (20, timing(1), None),  # full dose: not AT106
        (7.5, timing(1), "warning"),
    ],
)
def test_at106(profile: Profile, value: float, tm: dict[str, Any] | None, expected: str | None) -> None:
    b = clean(add=(med("rivaroxaban", RIVAROXABAN_2_5 if value < 10 else RIVAROXABAN_10, dosage(value, tm=tm)),))
    assert indicator(lint(b, profile), "AT106") == expected


def test_at106_q12h_timing_code_is_not_fhir_and_is_reported(profile: Profile) -> None:
    b = clean(add=(med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(code="Q12H"))),))
    findings = lint(b, profile)
    assert not only(findings, "AT106")
    assert only(findings, "DQ901")


def test_at106_tablets_twice_daily(profile: Profile) -> None:
    b = clean(add=(med("rivaroxaban", RIVAROXABAN_2_5, dosage(1, "{tbl}", timing(code="BID"))),))
    assert indicator(lint(b, profile), "AT106") is None


def test_at107_fires_for_dpi_without_aspirin_and_not_with_aspirin(profile: Profile) -> None:
    dpi = med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(code="BID")))
    assert indicator(lint(clean(drop=("aspirin",), add=(dpi,)), profile), "AT107") == "warning"
    assert indicator(lint(clean(add=(dpi,)), profile), "AT107") is None
    once = med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(1)))
    assert indicator(lint(clean(drop=("aspirin",), add=(once,)), profile), "AT107") is None  # AT106's business


# ------------------------------------------------------------------------------------------------ AT108 / AT109


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), "critical"),
        ((condition("af", ICD, "I48.91"),), "warning"),
        ((condition("pe", ICD, "I26.99"),), "warning"),
        ((condition("valve", "", "", text="Mechanical heart valve"),), "warning"),
    ],
)
def test_at108_other_indication_lowers_to_warning(
    profile: Profile, extra: tuple[dict[str, Any], ...], expected: str
) -> None:
    b = bundle(*extra, med("apixaban", APIXABAN_5, dosage(5, tm=timing(2))), pad=True)
    findings = lint(b, profile)
    (f,) = only(findings, "AT108")
    assert f.indicator.value == expected
    assert f.suggestion is None
    assert f.override_reasons


@pytest.mark.parametrize(("value", "expected"), [(5, None), (9.9, None), (10, "critical"), (15, "critical")])
def test_at108_rivaroxaban_full_dose_boundary(profile: Profile, value: float, expected: str | None) -> None:
    b = bundle(med("rivaroxaban", RIVAROXABAN_10, dosage(value, tm=timing(1))), pad=True)
    assert indicator(lint(b, profile), "AT108") == expected


def test_at108_cilostazol_is_not_the_antiplatelet(profile: Profile) -> None:
    b = bundle(
        med("apixaban", APIXABAN_5, dosage(5, tm=timing(2))),
        med("cilostazol", CILOSTAZOL_IN, dosage(100, tm=timing(2))),
        pad=True,
    )
    (f,) = only(lint(b, profile), "AT108")
    assert "Cilostazol is in the regimen" in f.detail


def test_at109_needs_an_order_under_review(profile: Profile) -> None:
    context_only = bundle(
        med("aspirin", ASPIRIN_81, dosage(81, tm=timing(1)), statement=True),
        med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1)), statement=True),
        med("apixaban", APIXABAN_5, dosage(5, tm=timing(2)), statement=True),
        med("atorvastatin", "259255", dosage(80, tm=timing(1))),
    )
    assert not only(lint(context_only, profile), "AT109")
    new_oac = bundle(
        med("aspirin", ASPIRIN_81, dosage(81, tm=timing(1)), statement=True),
        med("ticagrelor", TICAGRELOR_90, dosage(90, tm=timing(2)), statement=True),
        med("apixaban", APIXABAN_5, dosage(5, tm=timing(2))),
    )
    (f,) = only(lint(new_oac, profile), "AT109")
    assert f.primary_ref == "MedicationRequest/apixaban"


# ------------------------------------------------------------------------------------------------ AT110


def test_at110_deletes_the_latest_authored_under_review(profile: Profile) -> None:
    b = bundle(
        med("ticagrelor", TICAGRELOR_90, dosage(90, tm=timing(2)), authored="2026-11-21T10:00:00Z"),
        med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1)), authored="2026-11-21T11:00:00Z"),
    )
    (f,) = only(lint(b, profile), "AT110")
    assert f.primary_ref == "MedicationRequest/clopidogrel"
    assert f.suggestion is not None
    assert f.suggestion.actions == (DeleteAction("MedicationRequest/clopidogrel", f.suggestion.actions[0].description),)


def test_at110_undated_deletes_the_last_under_review(profile: Profile) -> None:
    b = bundle(
        med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1))),
        med("prasugrel", PRASUGREL_10, dosage(10, tm=timing(1))),
    )
    (f,) = only(lint(b, profile), "AT110")
    assert f.primary_ref == "MedicationRequest/prasugrel"


def test_at110_context_only_is_silent(profile: Profile) -> None:
    b = bundle(
        med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1)), statement=True),
        med("prasugrel", PRASUGREL_10, dosage(10, tm=timing(1)), statement=True),
        med("atorvastatin", "259255", dosage(80, tm=timing(1))),
    )
    assert not only(lint(b, profile), "AT110")


# ------------------------------------------------------------------------------------------------ AT111 / AT112


@pytest.mark.parametrize(
    ("dose", "tm", "expected"),
    [
        (100, timing(2), None),
        (100, timing(code="BID"), None),
        (50, timing(2), None),
        (200, timing(1), None),
        (125, timing(2), "warning"),
        (100, timing(3), "warning"),
        (250, timing(count=1), "warning"),
    ],
)
def test_at111(profile: Profile, dose: float, tm: dict[str, Any], expected: str | None) -> None:
    b = bundle(med("cilostazol", CILOSTAZOL_IN, dosage(dose, tm=tm)))
    assert indicator(lint(b, profile), "AT111") == expected


def test_at111_suggestion(profile: Profile) -> None:
    b = bundle(med("cilostazol", CILOSTAZOL_IN, dosage(150, tm=timing(2))))
    (f,) = only(lint(b, profile), "AT111")
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction)
    assert action.changes == (SetDose(0, 100, "mg", "mg"), SetFrequency(0, 2, 1, "d", "twice daily"))


def test_at112_heart_failure_by_icd10(profile: Profile) -> None:
    b = bundle(condition("hf", ICD, "I50.9"), med("cilostazol", CILOSTAZOL_IN, dosage(100, tm=timing(2))))
    (f,) = only(lint(b, profile), "AT112")
    assert f.indicator.value == "critical"
    assert f.suggestion is not None
    assert isinstance(f.suggestion.actions[0], DeleteAction)


# ------------------------------------------------------------------------------------------------ AT113


@pytest.mark.parametrize(
    ("asa", "expected"),
    [
        (dosage(100, tm=timing(1)), None),
        (dosage(101, tm=timing(1)), "warning"),
        (dosage(81, tm=timing(1)), None),
        (dosage(81, tm=timing(2)), "warning"),
        (dosage(low=81, high=162, tm=timing(1)), "warning"),
        (dosage(325, tm=timing(count=1)), None),  # an initial dose
    ],
)
def test_at113_with_ticagrelor(profile: Profile, asa: dict[str, Any], expected: str | None) -> None:
    b = bundle(med("aspirin", ASPIRIN_IN, asa), med("ticagrelor", TICAGRELOR_90, dosage(90, tm=timing(2))))
    assert indicator(lint(b, profile), "AT113") == expected


def test_at113_with_dpi_and_not_with_once_daily_rivaroxaban(profile: Profile) -> None:
    asa = med("aspirin", ASPIRIN_325, dosage(325, tm=timing(1)))
    dpi = med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(code="BID")))
    once = med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(1)))
    (f,) = only(lint(bundle(asa, dpi), profile), "AT113")
    assert f.suggestion is not None
    (action,) = f.suggestion.actions
    assert isinstance(action, UpdateAction)
    assert action.changes[0] == SetDose(0, 81, "mg", "mg")
    assert not only(lint(bundle(asa, once), profile), "AT113")


def test_at113_aspirin_in_context_with_new_ticagrelor_has_no_update(profile: Profile) -> None:
    b = bundle(
        med("aspirin-home", ASPIRIN_325, dosage(325, tm=timing(1)), statement=True),
        med("ticagrelor", TICAGRELOR_90, dosage(90, tm=timing(2))),
    )
    (f,) = only(lint(b, profile), "AT113")
    assert f.primary_ref == "MedicationStatement/aspirin-home"
    assert f.suggestion is None


def test_at113_unreadable_aspirin_without_partner_is_not_reported(profile: Profile) -> None:
    """Full-dose rivaroxaban is not DPI: AT113 does not need the aspirin dose, so it asks for nothing."""
    b = bundle(
        med("aspirin", ASPIRIN_81, dosage(tm=timing(1), text="one tablet daily")),
        med("rivaroxaban", RIVAROXABAN_10, dosage(20, tm=timing(1))),
    )
    assert not only(lint(b, profile), "DQ901")
    with_ticagrelor = bundle(
        med("aspirin", ASPIRIN_81, dosage(tm=timing(1), text="one tablet daily")),
        med("ticagrelor", TICAGRELOR_90, dosage(90, tm=timing(2))),
    )
    (dq,) = only(lint(with_ticagrelor, profile), "DQ901")
    assert "AT113" in dq.detail


# ------------------------------------------------------------------------------------------------ AT114 / AT115


@pytest.mark.parametrize(
    ("tm", "expected"),
    [
        (timing(1, bounds_days=183), None),
        (timing(1, bounds_days=184), "warning"),
        (timing(1), "warning"),
        (timing(1, bounds_period={"end": "2027-03-01"}), None),  # 100 days from the evaluation time
        (timing(1, bounds_period={"end": "2027-12-01"}), "warning"),
        (timing(count=1), None),  # a loading dose: no duration to judge
    ],
)
def test_at114(profile: Profile, tm: dict[str, Any], expected: str | None) -> None:
    clop = med("clopidogrel", CLOPIDOGREL_75, dosage(75 if tm.get("repeat", {}).get("count") is None else 300, tm=tm))
    dpi = med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(2)))
    b = bundle(med("aspirin", ASPIRIN_81, dosage(81, tm=timing(1))), clop, dpi, pad=True)
    assert indicator(lint(b, profile), "AT114") == expected


def test_at114_silent_outside_pad(profile: Profile) -> None:
    b = bundle(
        med("clopidogrel", CLOPIDOGREL_75, dosage(75, tm=timing(1))),
        med("rivaroxaban", RIVAROXABAN_2_5, dosage(2.5, tm=timing(2))),
    )
    assert not only(lint(b, profile), "AT114")


@pytest.mark.parametrize("code", ["I63.9", "G45.9", "Z86.73"])
def test_at115_stroke_codes(profile: Profile, code: str) -> None:
    b = bundle(condition("stroke", ICD, code), med("prasugrel", PRASUGREL_10, dosage(10, tm=timing(1))))
    (f,) = only(lint(b, profile), "AT115")
    assert f.indicator.value == "critical"
    assert f.suggestion is not None
    assert f.suggestion.actions == (DeleteAction("MedicationRequest/prasugrel", f.suggestion.actions[0].description),)


# ------------------------------------------------------------------------------------------------ family


def test_modules_sorted_and_summaries_short(profile: Profile) -> None:
    codes = [r.META.code for r in RULES if r.META.family == "antithrombotic"]
    # AT101-AT115 are all there; a rule added later (scripts/new-rule) does not edit this test.
    assert codes == sorted(codes) and {f"AT1{n:02d}" for n in range(1, 16)} <= set(codes)
    assert all(c.startswith("AT") for c in codes)


@pytest.mark.parametrize("mode", ["strict", "fast"])
def test_clean_order_set_has_no_at_finding(profile: Profile, mode: str) -> None:
    assert not [f for f in run(order_set(CLEAN, mode), profile) if f.code.startswith("AT")]


def test_could_not_verify_card_explains_every_rule_it_lists(profile: Profile) -> None:
    """Issue 8 §3: 'Rules that could not check this order: AT106, AT109, AT114.' then explained only AT109
    and AT114: the first record gave the headline and was never attributed to its rule."""
    b = clean(add=(med("rivaroxaban", RIVAROXABAN_2_5, dosage(tm=timing(2), text="one tablet twice daily")),))
    (dq,) = only(lint(b, profile), "DQ901")
    assert dq.values["rules"] == ["AT106", "AT109", "AT114"]
    assert "Rules that could not check this order: AT106, AT109, AT114." in dq.detail
    bullets = [line for line in dq.detail.splitlines() if line.startswith("- ")]
    assert [b.split()[1] for b in bullets] == ["AT106", "AT109", "AT114"]
    assert all(" needs the rivaroxaban " in b for b in bullets)


def test_frequency_text_reads_per_day_not_the_ucum_period() -> None:
    assert per_period(1, "d") == "per day"
    assert per_period(12, "h") == "per 12 hours"
    assert per_period(1, "wk") == "per week"
