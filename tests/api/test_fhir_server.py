"""The strict test FHIR server filters exactly as the query says and refuses what it does not implement:
the history tests are only as good as this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .fhir_server import StrictFhirServer, running
from .patient_history import condition

P = "p1"
TOKEN = "t"


@pytest.fixture(scope="module")
def server() -> Iterator[StrictFhirServer]:
    fhir = StrictFhirServer(token=TOKEN, default_page_size=2, max_page_size=3)
    fhir.add(
        {"resourceType": "Patient", "id": P},
        condition("active", P, "I70.213", "claudication, right leg"),
        condition("resolved", P, "G45.9", "TIA", clinical="resolved"),
        condition("no-status", P, "G45.9", "TIA", clinical=None, verification=None),
        condition("refuted", P, "G45.9", "TIA", clinical="resolved", verification="refuted"),
        condition("other-patient", "p2", "G45.9", "TIA", clinical="active"),
        *(
            {
                "resourceType": "Observation",
                "id": f"wt-{d}",
                "status": "final",
                "subject": {"reference": f"Patient/{P}"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "effectiveDateTime": f"2026-01-0{d}",
            }
            for d in (3, 1, 2)
        ),
    )
    with running(fhir):
        yield fhir


def get(server: StrictFhirServer, relative: str, token: str = TOKEN) -> httpx.Response:
    return httpx.get(f"{server.base_url}/{relative}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def all_ids(server: StrictFhirServer, relative: str) -> list[str]:
    bundle = get(server, relative).json()
    found = ids(bundle)
    while nxt := next((x["url"] for x in bundle.get("link", []) if x["relation"] == "next"), None):
        bundle = httpx.get(nxt, headers={"Authorization": f"Bearer {TOKEN}"}).json()
        found += ids(bundle)
    return found


def test_searches_filter_as_written(server: StrictFhirServer) -> None:
    assert sorted(all_ids(server, f"Condition?patient={P}&clinical-status=active")) == ["active"]
    assert sorted(all_ids(server, f"Condition?patient={P}")) == ["active", "no-status", "refuted", "resolved"]
    assert sorted(all_ids(server, f"Condition?patient=Patient/{P}&clinical-status=resolved,inactive")) == [
        "refuted",
        "resolved",
    ]
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    assert sorted(all_ids(server, f"Condition?patient={P}&code={icd}|G45.9")) == ["no-status", "refuted", "resolved"]
    assert all_ids(server, f"Condition?patient={P}&code=http://snomed.info/sct|G45.9") == []
    assert all_ids(server, f"Condition?patient={P}&code=G45") == []  # token search is exact, no prefix


def test_sort_count_and_paging(server: StrictFhirServer) -> None:
    latest = get(server, f"Observation?patient={P}&code=http://loinc.org|29463-7&_sort=-date&_count=1").json()
    assert ids(latest) == ["wt-3"] and latest["total"] == 3
    assert any(link["relation"] == "next" for link in latest["link"])
    assert all_ids(server, f"Observation?patient={P}&_sort=date") == ["wt-1", "wt-2", "wt-3"]
    page = get(server, f"Condition?patient={P}&_count=100").json()  # capped at the server's max page size
    assert len(page["entry"]) == 3 and page["total"] == 4


@pytest.mark.parametrize(
    "relative",
    [
        f"Condition?patient={P}&verification-status:not=refuted",  # modifier
        f"Condition?patient={P}&code:in=http://example.org/vs",
        f"Condition?patient={P}&onset-date=ge2020",  # parameter it does not implement
        f"Condition?patient={P}&_include=Condition:subject",
        f"Condition?patient={P}&clinical-status=active&clinical-status=resolved",  # repeated
        f"Goal?patient={P}&_sort=-date",
        f"Condition?patient={P}&_count=0",
        "Encounter?patient=p1",
        f"Patient/{P}?_elements=id",
    ],
)
def test_what_it_does_not_implement_is_refused(server: StrictFhirServer, relative: str) -> None:
    response = get(server, relative)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_reads_and_tokens(server: StrictFhirServer) -> None:
    assert get(server, f"Patient/{P}").json()["id"] == P
    assert get(server, "Patient/nobody").status_code == 404
    assert get(server, f"Patient/{P}", token="wrong").status_code == 401
