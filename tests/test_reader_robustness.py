"""The reader cannot crash (issue 10 item 1).

The set of JSON paths the reader touches is DERIVED, not listed: a rich CDS Hooks request (every resource
type the rules read, in the draft orders and in every prefetch key) is wrapped in recording dict/list
proxies and read, in both modes, then linted and rendered as cards; every key looked up (present or not)
and every array element visited is a path. At each path one value of every JSON type (array, object,
number, boolean, null, string) is substituted: the reader reports the resource as DQ904 naming the field,
ignores the value, or refuses the request (InputError, a 400); whatever it accepts is linted and rendered.
The same substitutions go through the hook endpoint (zero 5xx: tests/api/test_hook_robustness.py) and, as
files, through the upload reader in both modes; Hypothesis draws arbitrary JSON values at the derived
paths through fast and strict mode.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.engine import run
from linter.errors import InputError
from linter.fhir_io import load_bytes, order_set_from_hook
from linter.profiles import Profile, load_profile
from linter.render.cards import cards_response
from tests.conftest import FIXTURE_NOW

Path = tuple[str | int, ...]
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PATIENT = "Patient/pat-1"


# --- a request that reaches every reader -----------------------------------------------------------------


def _q(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def _cc(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _dosage() -> dict[str, Any]:
    return {
        "sequence": 1,
        "text": "5000 units IV once",
        "additionalInstruction": [{"text": "check ACT 250-300 s"}],
        "patientInstruction": "none",
        "timing": {
            "code": _cc("http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "BID", "twice daily"),
            "repeat": {
                "frequency": 2,
                "frequencyMax": 3,
                "period": 1,
                "periodMax": 2,
                "periodUnit": "d",
                "count": 10,
                "when": ["MORN"],
                "boundsDuration": {"value": 30, "unit": "d", "code": "d"},
            },
        },
        "asNeededBoolean": False,
        "route": _cc(SCT, "47625008", "intravenous"),
        "method": _cc(SCT, "129326001", "injection"),
        "doseAndRate": [
            {"doseQuantity": _q(5000, "[iU]"), "rateQuantity": _q(1000, "[iU]/h")},
            {"doseRange": {"low": _q(1, "mg"), "high": _q(2, "mg")}},
        ],
    }


def _bounded_dosage() -> dict[str, Any]:
    dosage = _dosage()
    del dosage["timing"]["repeat"]["boundsDuration"]
    dosage["timing"]["repeat"]["boundsPeriod"] = {"start": "2025-01-01", "end": "2025-02-01T00:00:00Z"}
    dosage["sequence"] = 2
    return dosage


def _heparin() -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "hep-1",
        "status": "draft",
        "intent": "order",
        "authoredOn": "2025-01-01T08:00:00Z",
        "medicationCodeableConcept": _cc(RX, "5224", "heparin"),
        "subject": {"reference": PATIENT},
        "note": [{"text": "target ACT 250-300 s"}],
        "dosageInstruction": [_dosage(), _bounded_dosage()],
        "dispenseRequest": {
            "expectedSupplyDuration": {"value": 30, "unit": "d", "code": "d"},
            "validityPeriod": {"start": "2025-01-01", "end": "2025-03-01"},
        },
    }


def _clopidogrel() -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "clop-1",
        "status": "draft",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med1",
                "code": _cc(RX, "309362", "clopidogrel 75 MG Oral Tablet"),
                "form": _cc(SCT, "385055001", "tablet"),
                "ingredient": [
                    {
                        "itemCodeableConcept": _cc(RX, "32968", "clopidogrel"),
                        "strength": {"numerator": _q(75, "mg"), "denominator": _q(1, "{tbl}")},
                    }
                ],
            }
        ],
        "medicationReference": {"reference": "#med1", "display": "clopidogrel"},
        "subject": {"reference": PATIENT},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": _q(1, "{tbl}")}],
            }
        ],
    }


def _aspirin_by_bundle_reference() -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "asa-1",
        "status": "draft",
        "intent": "order",
        "medicationReference": {"reference": "Medication/asa"},
        "subject": {"reference": PATIENT},
        "dosageInstruction": [
            {"doseAndRate": [{"doseQuantity": _q(650, "mg")}], "route": _cc(SCT, "26643006", "oral")}
        ],
    }


def _medication() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": "asa",
        "code": _cc(RX, "243670", "aspirin 81 MG Oral Tablet"),
        "ingredient": [{"itemCodeableConcept": _cc(RX, "1191", "aspirin"), "strength": {"numerator": _q(81, "mg")}}],
    }


def _angioplasty() -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "draft",
        "intent": "order",
        "code": _cc("http://www.ama-assn.org/go/cpt", "37228", "tibial angioplasty"),
        "reasonCode": [_cc(SCT, "399957001", "peripheral arterial disease")],
        "reasonReference": [{"reference": "Condition/c-1"}],
        "bodySite": [_cc(SCT, "12611008", "tibial artery")],
        "orderDetail": [{"text": "drug-coated balloon"}],
        "occurrencePeriod": {"start": "2025-01-02T08:00:00Z"},
        "authoredOn": "2025-01-01",
        "patientInstruction": "ACT goal 250",
        "note": [{"text": "below the knee"}],
        "subject": {"reference": PATIENT},
    }


def _procedure() -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": "pr-1",
        "status": "completed",
        "code": _cc("http://www.ama-assn.org/go/cpt", "37228", "tibial angioplasty"),
        "bodySite": [_cc(SCT, "12611008", "tibial artery")],
        "performedPeriod": {"start": "2024-12-20T08:00:00Z"},
        "focalDevice": [{"manipulated": {"reference": "Device/dev-1", "display": "stent"}}],
        "usedCode": [{"text": "balloon"}],
        "usedReference": [{"reference": "Device/dev-1"}],
        "subject": {"reference": PATIENT},
    }


def _device() -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "id": "dev-1",
        "type": _cc(SCT, "65818007", "stent"),
        "deviceName": [{"name": "drug-eluting stent", "type": "user-friendly-name"}],
    }


def _weight() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "wt-1",
        "status": "final",
        "code": _cc(LOINC, "29463-7", "Body weight"),
        "subject": {"reference": PATIENT},
        "effectiveDateTime": "2025-01-01T08:00:00Z",
        "issued": "2025-01-01T09:00:00Z",
        "valueQuantity": _q(70, "kg"),
    }


def _weight_over_a_period() -> dict[str, Any]:
    weight = _weight()
    del weight["effectiveDateTime"]
    return {**weight, "id": "wt-2", "effectivePeriod": {"start": "2024-12-31", "end": "2025-01-01"}}


def _condition() -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "c-1",
        "code": _cc("http://hl7.org/fhir/sid/icd-10-cm", "I70.213", "atherosclerosis with claudication"),
        "clinicalStatus": _cc("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
        "verificationStatus": _cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
        ),
        "subject": {"reference": PATIENT},
    }


def _goal() -> dict[str, Any]:
    return {
        "resourceType": "Goal",
        "id": "g-1",
        "lifecycleStatus": "active",
        "description": {"text": "ACT 250-300 seconds"},
        "subject": {"reference": PATIENT},
        "target": [
            {"measure": _cc(LOINC, "3184-9", "ACT"), "detailRange": {"low": _q(250, "s"), "high": _q(300, "s")}},
            {"measure": _cc(LOINC, "3184-9", "ACT"), "detailQuantity": {**_q(250, "s"), "comparator": ">="}},
        ],
    }


def _statement() -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "medicationCodeableConcept": _cc(RX, "11289", "warfarin"),
        "subject": {"reference": PATIENT},
        "dosage": [_dosage()],
    }


def _searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def base_request(hook: str = "order-sign") -> dict[str, Any]:
    drafts = [_heparin(), _clopidogrel(), _aspirin_by_bundle_reference(), _angioplasty(), _medication()]
    context: dict[str, Any] = {
        "userId": "Practitioner/1",
        "patientId": "pat-1",
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in drafts]},
    }
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/hep-1", "ServiceRequest/sr-1"]
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "pat-1", "birthDate": "1950-01-01"},
            "weight": _searchset(_weight(), _weight_over_a_period()),
            "conditions": _searchset(_condition()),
            "medications": _searchset(_statement(), {**_heparin(), "id": "old-hep", "status": "active"}),
            "procedures": _searchset(_procedure(), _device()),
            "goals": _searchset(_goal()),
            "failed": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "error", "code": "timeout", "details": {"text": "timed out"}},
                    {"severity": "error", "code": "timeout", "diagnostics": "timed out"},
                ],
            },
        },
    }


# --- recording proxies: which paths does the reader touch? ----------------------------------------------


class _RecDict(dict[str, Any]):
    def __init__(self, data: dict[str, Any] | None = None, path: Path = (), seen: set[Path] | None = None) -> None:
        self._path, self._seen = path, seen if seen is not None else set()
        super().__init__({k: _wrap(v, (*path, k), self._seen) for k, v in (data or {}).items()})

    def _saw(self, key: Any) -> None:
        if isinstance(key, str):
            self._seen.add((*self._path, key))

    def get(self, key: Any, default: Any = None) -> Any:
        self._saw(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._saw(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._saw(key)
        return super().__contains__(key)

    def items(self) -> Any:
        for key in self.keys():
            self._saw(key)
        return super().items()

    def values(self) -> Any:
        for key in self.keys():
            self._saw(key)
        return super().values()


class _RecList(list[Any]):
    def __init__(self, data: list[Any] | None = None, path: Path = (), seen: set[Path] | None = None) -> None:
        self._path, self._seen = path, seen if seen is not None else set()
        super().__init__(_wrap(v, (*path, i), self._seen) for i, v in enumerate(data or []))

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            self._seen.add((*self._path, i))
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):
            self._seen.add((*self._path, index % max(len(self), 1)))
        return super().__getitem__(index)


def _wrap(value: Any, path: Path, seen: set[Path]) -> Any:
    if isinstance(value, dict):
        return _RecDict(value, path, seen)
    if isinstance(value, list):
        return _RecList(value, path, seen)
    return value


@cache
def profile() -> Profile:
    return load_profile("btk-angioplasty")


def lint_request(request: dict[str, Any], mode: str) -> None:
    read = order_set_from_hook(request, mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    findings = run(read.order_set, profile())
    orjson.dumps(cards_response(findings, read.order_set, profile(), originals=read.originals))


@cache
def touched_paths() -> tuple[Path, ...]:
    seen: set[Path] = set()
    for hook in ("order-sign", "order-select"):
        for mode in ("fast", "strict"):
            lint_request(_wrap(base_request(hook), (), seen), mode)
    return tuple(sorted(seen, key=lambda p: tuple(str(x) for x in p)))


# --- substitution ------------------------------------------------------------------------------------------


def substitutes(original: Any) -> list[Any]:
    """One value of each JSON type, built from the original where it can be (the crash in the issue: a
    code inside a list)."""
    inner = original if original is not None else "29463-7"
    return [[inner], {"value": inner}, 7 if not isinstance(original, int) else -1.5, True, None, "zz"]


def substituted(request: dict[str, Any], path: Path, value: Any) -> dict[str, Any] | None:
    out = copy.deepcopy(request)
    node: Any = out
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    last = path[-1]
    if (isinstance(node, dict) and isinstance(last, str)) or (
        isinstance(node, list) and isinstance(last, int) and last < len(node)
    ):
        node[last] = value
    else:
        return None
    return out


def _value_at(request: dict[str, Any], path: Path) -> Any:
    node: Any = request
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def cases(hooks: tuple[str, ...] = ("order-sign",)) -> Iterator[tuple[str, Path, Any, dict[str, Any]]]:
    for hook in hooks:
        base = base_request(hook)
        for path in touched_paths():
            if hook == "order-select" and path[:2] != ("context", "selections"):
                continue  # the other paths read the same way in both hooks
            for value in substitutes(_value_at(base, path)):
                request = substituted(base, path, value)
                if request is not None:
                    yield hook, path, value, request


def _name(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def test_the_derived_paths_cover_every_resource_type_and_prefetch_key() -> None:
    paths = touched_paths()
    assert len(paths) > 300, len(paths)
    names = {_name(p) for p in paths}
    for expected in (
        ".prefetch.weight.entry[0].resource.code.coding[0].code",  # the crash in the issue
        ".context.draftOrders.entry[0].resource.dosageInstruction[1].timing.repeat.boundsPeriod.start",
        ".context.draftOrders.entry[1].resource.contained[0].ingredient[0].strength.denominator.value",
        ".context.draftOrders.entry[4].resource.ingredient[0].strength.numerator.value",
        ".context.draftOrders.entry[3].resource.occurrencePeriod.start",
        ".prefetch.procedures.entry[0].resource.focalDevice[0].manipulated.display",
        ".prefetch.procedures.entry[1].resource.deviceName[0].name",
        ".prefetch.conditions.entry[0].resource.verificationStatus.coding[0].code",
        ".prefetch.goals.entry[0].resource.target[1].detailQuantity.comparator",
        ".prefetch.medications.entry[0].resource.dosage[0].doseAndRate[0].doseQuantity.value",
        ".prefetch.patient.resourceType",
        ".prefetch.failed.issue[0].details.text",
        ".context.selections[0]",
        ".context.patientId",
        ".hook",
    ):
        assert expected in names, expected


def test_every_json_type_at_every_path_the_reader_touches_is_a_finding_or_a_400() -> None:
    """Fast mode (the service default) over every case: the reader either reports the resource (DQ904,
    naming a path inside it), ignores the value, or refuses the request (InputError); whatever it accepts
    is linted and rendered as cards without raising. Strict mode validates first and then reads the same
    way: it is sampled below (Hypothesis, the upload reader and the endpoint)."""
    failures: list[str] = []
    count = 0
    base_invalid: set[str] = set()
    for hook, path, value, request in cases(("order-sign", "order-select")):
        count += 1
        try:
            read = order_set_from_hook(request, mode="fast", now=FIXTURE_NOW)
            order_set = read.order_set
            invalid = {i.path for i in order_set.invalid} - base_invalid
            if invalid:
                leaf = next(str(p) for p in reversed(path) if isinstance(p, str))
                assert all(leaf in p for p in invalid), (_name(path), invalid)  # DQ904 names the field
                continue  # DQ904 for that resource, the rest as before: linted in the hook test below
            orjson.dumps(cards_response(run(order_set, profile()), order_set, profile(), originals=read.originals))
        except InputError:
            pass
        except Exception as exc:
            failures.append(f"{hook} {_name(path)} = {value!r}: {type(exc).__name__}: {str(exc)[:300]}")
    assert count > 4000, count
    assert not failures, f"{len(failures)} crashes, e.g.\n" + "\n".join(failures[:40])


def test_the_crash_in_the_issue_is_dq904_naming_the_path() -> None:
    """A prefetched body-weight Observation whose code.coding[0].code is a list or an object."""
    for value in (["29463-7"], {"code": "29463-7"}):
        request = substituted(
            base_request(), ("prefetch", "weight", "entry", 0, "resource", "code", "coding", 0, "code"), value
        )
        assert request is not None
        for mode in ("fast", "strict"):
            order_set = order_set_from_hook(request, mode=mode, now=FIXTURE_NOW).order_set  # type: ignore[arg-type]
            bad = [i for i in order_set.invalid if i.ref == "Observation/wt-1"]
            assert bad and "code" in bad[0].path and "coding[0]" in bad[0].path, order_set.invalid
            findings = run(order_set, profile())
            assert any(f.code == "DQ904" and "Observation/wt-1" in f.summary + " ".join(f.refs) for f in findings)


def test_every_substitution_in_an_uploaded_file_is_read_without_raising() -> None:
    """The upload reader (strict and fast): the draft-order Bundle alone, and its resources as NDJSON."""
    failures: list[str] = []
    for n, (_hook, path, value, request) in enumerate(cases()):
        if path[:2] != ("context", "draftOrders") or n % 7:
            continue  # a deterministic sample of the draft-order substitutions
        bundle = request["context"]["draftOrders"]
        ndjson = (
            b"\n".join(
                orjson.dumps(e.get("resource") if isinstance(e, dict) else e)
                for e in bundle.get("entry", [])
                if isinstance(bundle, dict)
            )
            if isinstance(bundle.get("entry"), list)
            else b"{}"
        )
        for data in (orjson.dumps(bundle), ndjson):
            for mode in ("fast", "strict"):
                try:
                    result = load_bytes(data, "upload.json", mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
                    for order_set in result.order_sets:
                        run(order_set, profile())
                except Exception as exc:
                    failures.append(f"{mode} {_name(path)} = {value!r}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures[:40])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_json_at_derived_paths(data: st.DataObject) -> None:
    paths = touched_paths()
    request = base_request(data.draw(st.sampled_from(["order-sign", "order-select"])))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        changed = substituted(request, path, data.draw(json_values))
        request = changed if changed is not None else request
    for mode in ("fast", "strict"):
        with contextlib.suppress(InputError):
            lint_request(request, mode)


@pytest.mark.parametrize("mode", ["fast", "strict"])
def test_the_base_request_itself_is_clean_input(mode: str) -> None:
    """The base request reads without DQ904: a substitution test on broken input would prove little."""
    order_set = order_set_from_hook(base_request(), mode=mode, now=FIXTURE_NOW).order_set  # type: ignore[arg-type]
    assert not order_set.invalid, order_set.invalid
    assert order_set.patient.weight is not None and order_set.patient.act_targets
    assert len(order_set.medications) == 3 and order_set.procedures


EDGE_NUMBERS = (0, -1, 1e-300, 1e300)


def test_edge_numbers_at_every_numeric_path_raise_in_no_rule() -> None:
    """A zero, a negative, a tiny and a huge number at every number the reader touches (a Medication's
    strength of 0 mg per tablet divided DQ905's ratio by zero): every rule either checks the order or says it
    could not, none raises. A rule that raises is a finding ("could not be evaluated: internal error"), not an
    exception, so the test above would not see it: here no such finding may appear."""
    base = base_request()
    failures: list[str] = []
    count = 0
    for path in touched_paths():
        original = _value_at(base, path)
        if not isinstance(original, int | float) or isinstance(original, bool):
            continue
        for value in EDGE_NUMBERS:
            request = substituted(base, path, value)
            if request is None:
                continue
            count += 1
            for mode in ("fast", "strict"):
                try:
                    read = order_set_from_hook(request, mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
                except InputError:
                    continue
                findings = run(read.order_set, profile())
                crashed = [f.code for f in findings if "internal error" in f.summary]
                if crashed:
                    failures.append(f"{mode} {_name(path)} = {value!r}: {crashed}")
                orjson.dumps(cards_response(findings, read.order_set, profile(), originals=read.originals))
    assert count > 40, count
    assert not failures, f"{len(failures)} rules raised, e.g.\n" + "\n".join(failures[:40])
