"""POST /lint with an order-set definition (issue 14): the seeded BTK PlanDefinition and its RequestGroup give
the seeded findings at their actions, named by the actions' titles, as JSON and as an OperationOutcome; a
malformed definition is a 400 OperationOutcome, never a 500."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES

SEEDED = (FIXTURES / "plandef" / "btk-os-seeded.json").read_bytes()
SEEDED_RG = (FIXTURES / "plandef" / "btk-os-seeded-requestgroup.json").read_bytes()
WANT = [
    ("AT101", "action[2].action[0]"),
    ("AT110", "action[2].action[1].action[1]"),
    ("AT113", "action[2].action[0]"),
    ("HEP202", "action[1].action[0]"),
    ("VD301", "action[3].action[0]"),
]


def test_lint_reports_the_seeded_defects_at_their_actions(client: TestClient) -> None:
    for body, prefix in ((SEEDED, "PlanDefinition/btk-os-seeded "), (SEEDED_RG, "RequestGroup/btk-os-seeded-applied ")):
        response = client.post("/lint", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        (order_set,) = response.json()["orderSets"]
        got = sorted((f["code"], f["refs"][0].removeprefix(prefix)) for f in order_set["findings"])
        assert got == WANT
        titles = {f["code"]: f["order"] for f in order_set["findings"]}
        assert titles["HEP202"] == "Heparin 15,000 units IV bolus"
        assert titles["AT110"] == "Ticagrelor 90 mg twice daily"


def test_lint_operation_outcome_names_the_action_and_points_at_it(client: TestClient) -> None:
    response = client.post("/lint", content=SEEDED, headers={"Accept": "application/fhir+json"})
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and len(outcome["issue"]) == 5
    vd = next(i for i in outcome["issue"] if i["details"]["coding"][0]["code"] == "VD301")
    assert vd["severity"] == "error"
    assert vd["details"]["text"].startswith("Nitroglycerin 100 mg intra-arterial as needed: ")
    assert vd["expression"] == ["Bundle.entry[0].resource.action[3].action[0]"]


def test_lint_refuses_a_malformed_definition_with_a_400(client: TestClient) -> None:
    doc = json.loads(SEEDED)
    doc["entry"][3] = "not an entry"
    response = client.post("/lint", content=json.dumps(doc).encode())
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and "entry[3]" in json.dumps(body)
