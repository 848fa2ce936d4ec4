"""The history the rules read is asked for (issue 8 item 9), end to end over HTTP.

A strict FHIR server (tests/api/fhir_server.py: it applies every search parameter as written and refuses the
ones it does not know) holds one patient per case; orderlint runs under a real uvicorn on 127.0.0.1.

- prefetch mode: the test plays the EHR. It reads the service's own discovery document, fills each prefetch
  template ({{context.patientId}}, {{userPractitionerId}} ...), GETs it from the FHIR server and sends the
  first page of each answer as the prefetch, with no `fhirServer`: the service sees exactly what the templates
  ask for.
- FHIR-server mode: no prefetch; the service fetches from the (allowed) FHIR server itself.

A TIA or stroke recorded as resolved is still a prasugrel contraindication (AT115), a resolved HIT still a
heparin contraindication (HEP206); a refuted or entered-in-error record is not a fact and stays silent.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from linter.api.main import create_app
from linter.settings import Settings

from .conftest import RXNORM, heparin_order
from .fhir_server import StrictFhirServer, running
from .patient_history import condition, fixture_conditions, synthea_like_history

pytestmark = pytest.mark.slow

TOKEN = "history-test-access-token"
USER = "Practitioner/dr-who"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# patient id -> (the history Conditions of the case, the draft order kind)
CASES: dict[str, tuple[list[dict[str, Any]], str]] = {}


TIA = ("G45.9", "Transient cerebral ischemic attack, unspecified")


def _case(
    patient: str, order: str, code: tuple[str, str], clinical: str | None, verification: str | None = "confirmed"
) -> str:
    """One patient whose history holds one Condition `<patient>-hx` with this code and status."""
    record = condition(f"{patient}-hx", patient, *code, clinical=clinical, verification=verification)
    CASES[patient] = ([record], order)
    return patient


TIA_RESOLVED = _case("p-tia-resolved", "prasugrel", TIA, clinical="resolved")
TIA_HISTORY_CODE = _case(
    "p-tia-z86",
    "prasugrel",
    ("Z86.73", "Personal history of TIA and cerebral infarction without residual deficits"),
    clinical="resolved",
    verification=None,
)
TIA_INACTIVE = _case("p-tia-inactive", "prasugrel", TIA, clinical="inactive")
TIA_REFUTED = _case("p-tia-refuted", "prasugrel", TIA, clinical="resolved", verification="refuted")
TIA_IN_ERROR = _case("p-tia-error", "prasugrel", TIA, clinical="active", verification="entered-in-error")
HIT_RESOLVED = _case(
    "p-hit-resolved", "heparin", ("D75.822", "Immune-mediated heparin-induced thrombocytopenia"), clinical="resolved"
)
HIT_REFUTED = _case(
    "p-hit-refuted",
    "heparin",
    ("D75.829", "Heparin-induced thrombocytopenia, unspecified"),
    clinical="resolved",
    verification="refuted",
)
FIRES = {TIA_RESOLVED: "AT115", TIA_HISTORY_CODE: "AT115", TIA_INACTIVE: "AT115", HIT_RESOLVED: "HEP206"}
SILENT = {TIA_REFUTED: "AT115", TIA_IN_ERROR: "AT115", HIT_REFUTED: "HEP206"}


def prasugrel(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "prasugrel-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "855812", "display": "prasugrel 10 MG Oral Tablet"}]
        },
        "subject": {"reference": f"Patient/{patient}"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"}}],
            }
        ],
    }


def draft_order(patient: str) -> dict[str, Any]:
    if CASES[patient][1] == "prasugrel":
        return prasugrel(patient)
    order = heparin_order(6000)  # 6,000 units for 80 kg: inside 70-100 units/kg, so HEP206 is the only concern
    order["subject"] = {"reference": f"Patient/{patient}"}
    return order


def patient_record(patient: str) -> list[dict[str, Any]]:
    """Everything the FHIR server holds for one patient: demographics, eight body weights (the latest 80 kg),
    a long Synthea-shaped history and the fixtures' Conditions (none of a stroke, TIA or HIT), the case's
    history, an active medication, a procedure and a goal."""
    weights = [
        {
            "resourceType": "Observation",
            "id": f"{patient}-wt-{day}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": f"2026-11-{day:02d}T08:00:00Z",
            "valueQuantity": {"value": 72 + day, "unit": "kg", "system": UCUM, "code": "kg"},
        }
        for day in range(1, 9)
    ]
    neutral = [
        c
        for c in fixture_conditions(patient)
        if not re.search(
            r"G45|I63|Z86\.?73|D75\.?82|stroke|isch(a)?emic attack|\bTIA\b|thrombocytopenia",
            str(c.get("code")),
            re.IGNORECASE,
        )
    ]
    return [
        {"resourceType": "Patient", "id": patient, "gender": "male", "birthDate": "1956-04-11"},
        *weights,
        *neutral,
        *synthea_like_history(60, patient, seed=len(patient)),
        *CASES[patient][0],
        {
            "resourceType": "MedicationRequest",
            "id": f"{patient}-atorva",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{patient}"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "83367", "display": "atorvastatin"}]},
        },
        {
            "resourceType": "Goal",
            "id": f"{patient}-goal",
            "lifecycleStatus": "active",
            "description": {"text": "Walk 30 minutes daily"},
            "subject": {"reference": f"Patient/{patient}"},
        },
    ]


# --- the two servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fhir() -> Iterator[StrictFhirServer]:
    server = StrictFhirServer(token=TOKEN, default_page_size=20, max_page_size=100)
    for patient in CASES:
        server.add(*patient_record(patient))
    with running(server):
        yield server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def service(fhir: StrictFhirServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """orderlint under uvicorn on 127.0.0.1, allowed to fetch from the strict FHIR server."""
    db = Path(tmp_path_factory.mktemp("history")) / "svc.db"
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{db}",
        allowed_fhir_servers=[fhir.base_url],
        fhir_timeout_s=10,
    )
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# --- the EHR side --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def fill(template: str, context: dict[str, Any]) -> str:
    """Fill a CDS Hooks 2.0 prefetch template as an EHR does: context fields and the user tokens."""
    kind, _, user_id = USER.partition("/")
    values = {f"context.{k}": v for k, v in context.items() if isinstance(v, str)}
    values.update({"userPractitionerId": user_id} if kind == "Practitioner" else {})

    def one(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"the EHR cannot fill {match.group(0)} in {template}"
        return values[match.group(1)]

    return _TOKEN.sub(one, template)


def discovery(service: str) -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = httpx.get(f"{service}/cds-services", timeout=30).json()["services"]
    assert services
    return services


def request_for(entry: dict[str, Any], patient: str, **top: Any) -> dict[str, Any]:
    order = draft_order(patient)
    context: dict[str, Any] = {
        "userId": USER,
        "patientId": patient,
        "encounterId": f"enc-{patient}",
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
    }
    if entry["hook"] == "order-select":
        context["selections"] = [f"MedicationRequest/{order['id']}"]
    return {"hook": entry["hook"], "hookInstance": str(uuid.uuid4()), "context": context, **top}


def ehr_prefetch(entry: dict[str, Any], request: dict[str, Any], fhir: StrictFhirServer) -> dict[str, Any]:
    """GET every template of the service from the FHIR server; the first page of each answer is the value."""
    prefetch = {}
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for key, template in entry.get("prefetch", {}).items():
            response = client.get(f"{fhir.base_url}/{fill(template, request['context'])}")
            assert response.status_code == 200, f"{key}: {template} -> {response.status_code} {response.text}"
            prefetch[key] = response.json()
    return prefetch


def call(service: str, entry: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.post(f"{service}/cds-services/{entry['id']}", json=request, timeout=30)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def codes(cards: list[dict[str, Any]]) -> dict[str, str]:
    return {c["source"]["topic"]["code"]: c["indicator"] for c in cards}


def fhir_mode(fhir: StrictFhirServer) -> dict[str, Any]:
    return {
        "fhirServer": fhir.base_url,
        "fhirAuthorization": {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "orderlint",
        },
    }


# --- the tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prefetch", "fhir-server"])
@pytest.mark.parametrize("patient", sorted(FIRES))
def test_history_is_a_contraindication_in_both_modes(
    service: str, fhir: StrictFhirServer, patient: str, mode: str
) -> None:
    rule = FIRES[patient]
    for entry in discovery(service):
        if entry["hook"] not in ("order-sign", "order-select"):
            continue
        if mode == "prefetch":
            request = request_for(entry, patient)
            request["prefetch"] = ehr_prefetch(entry, request, fhir)
        else:
            request = request_for(entry, patient, **fhir_mode(fhir))
        cards = call(service, entry, request)
        found = codes(cards)
        assert found.get(rule) == "critical", f"{entry['id']} {mode}: {found}"
        card = next(c for c in cards if c["source"]["topic"]["code"] == rule)
        assert f"Condition/{patient}-hx" in card["detail"]
        assert "DQ906" not in found, f"{entry['id']} {mode}: data reported unavailable: {cards}"


@pytest.mark.parametrize("mode", ["prefetch", "fhir-server"])
@pytest.mark.parametrize("patient", sorted(SILENT))
def test_records_that_are_not_facts_stay_silent(service: str, fhir: StrictFhirServer, patient: str, mode: str) -> None:
    entries = [e for e in discovery(service) if e["hook"] == "order-sign"]
    for entry in entries:
        if mode == "prefetch":
            request = request_for(entry, patient)
            request["prefetch"] = ehr_prefetch(entry, request, fhir)
            assert any(  # the record was sent: it is the service that sets it aside
                e["resource"]["id"] == f"{patient}-hx" for e in request["prefetch"]["conditions"].get("entry", [])
            )
        else:
            request = request_for(entry, patient, **fhir_mode(fhir))
        found = codes(call(service, entry, request))
        assert SILENT[patient] not in found, f"{entry['id']} {mode}: {found}"
        assert "DQ906" not in found


def test_the_service_asks_for_every_condition(service: str, fhir: StrictFhirServer) -> None:
    """FHIR-server mode: the Condition search the service sends carries no clinical-status filter, and the
    other searches are ones the strict server accepts (it refuses unknown parameters)."""
    entry = next(e for e in discovery(service) if e["hook"] == "order-sign")
    before = len(fhir.requests)
    call(service, entry, request_for(entry, TIA_RESOLVED, **fhir_mode(fhir)))
    sent = fhir.requests[before:]
    searches = [urlsplit(p) for p in sent if "?" in p and not p.startswith("/fhir?")]
    conditions = [s for s in searches if s.path == "/fhir/Condition"]
    assert conditions and all("clinical-status" not in s.query for s in conditions)
    assert {s.path.rsplit("/", 1)[-1] for s in searches} >= {"Observation", "Condition", "MedicationRequest"}


def test_the_old_active_only_template_misses_the_resolved_tia(service: str, fhir: StrictFhirServer) -> None:
    """Why the template changed: filled with `clinical-status=active`, a strict server leaves the resolved TIA
    out and prasugrel gets no card. Guards the test's own server: it must filter as the query says."""
    entry = next(e for e in discovery(service) if e["hook"] == "order-sign")
    request = request_for(entry, TIA_RESOLVED)
    request["prefetch"] = ehr_prefetch(entry, request, fhir)
    old = httpx.get(
        f"{fhir.base_url}/Condition?patient={TIA_RESOLVED}&clinical-status=active",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert old["entry"] and all(e["resource"]["id"] != f"{TIA_RESOLVED}-hx" for e in old["entry"])
    request["prefetch"]["conditions"] = old
    assert "AT115" not in codes(call(service, entry, request))


def test_history_beyond_one_page_is_read(service: str, fhir: StrictFhirServer) -> None:
    """A patient with more Conditions than one page: the prefetched first page is completed from the server
    (prefetch mode with fhirServer), and the TIA recorded last is still found."""
    patient = _case("p-long-record", "prasugrel", TIA, clinical="resolved")
    fhir.add(*synthea_like_history(150, patient, seed=3, prefix="old"), *patient_record(patient))
    entry = next(e for e in discovery(service) if e["hook"] == "order-sign")
    request = request_for(entry, patient, **fhir_mode(fhir))
    request["prefetch"] = ehr_prefetch(entry, request, fhir)
    first = request["prefetch"]["conditions"]
    assert first["total"] > len(first["entry"]) and f"{patient}-hx" not in {e["resource"]["id"] for e in first["entry"]}
    found = codes(call(service, entry, request))
    assert found.get("AT115") == "critical" and "DQ906" not in found
