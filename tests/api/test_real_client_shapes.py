"""Requests shaped as real CDS Hooks clients and exports send them (issue 8): doses as tablet counts.

The reference client (CDS Hooks sandbox) writes `{"value": 1, "system": UCUM, "code": "{pill}"}` next to an
RxNorm SCD; Da Vinci CRD clients write `TAB` in v3-orderableDrugForm; Synthea writes a bare `{"value": 1.0}`.
Each request gets exactly the cards listed here, with the suggestion that fixes the order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES

HOOKS = FIXTURES / "hooks"


def _post(client: TestClient, name: str) -> list[dict[str, Any]]:
    body = json.loads((HOOKS / name).read_text())
    service = f"btk-angioplasty-{body['hook']}"
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def _dose(card: dict[str, Any]) -> dict[str, Any]:
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    dosage: dict[str, Any] = action["resource"]["dosageInstruction"][0]
    return dosage


def test_sandbox_pill_once_daily_gets_one_at106_card_with_twice_daily_update(client: TestClient) -> None:
    cards = _post(client, "sandbox-order-sign-rivaroxaban-pill-once-daily.json")
    assert [(c["indicator"], c["source"]["topic"]["code"]) for c in cards] == [("warning", "AT106")]
    card = cards[0]
    assert "2.5 mg once daily" in card["summary"]
    assert "1 pill x 2.5 mg per pill = 2.5 mg" in card["detail"]
    dosage = _dose(card)
    assert dosage["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 2.5
    assert card["suggestions"][0]["actions"][0]["resource"]["id"] == "request-123"


def test_sandbox_pill_twice_daily_is_silent(client: TestClient) -> None:
    assert _post(client, "sandbox-order-sign-rivaroxaban-pill-twice-daily.json") == []


def test_davinci_crd_brand_tab_count_is_a_critical_clopidogrel_card(client: TestClient) -> None:
    cards = _post(client, "davinci-crd-order-select-plavix-4-tab-daily.json")
    assert [(c["indicator"], c["source"]["topic"]["code"]) for c in cards] == [("critical", "AT102")]
    assert "4 tablets x 75 mg per tablet = 300 mg" in cards[0]["detail"]
    dose = _dose(cards[0])["doseAndRate"][0]["doseQuantity"]
    assert (dose["value"], dose["code"]) == (75, "mg")


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        ({"value": 1, "system": "http://unitsofmeasure.org", "code": "{pill}"}, "AT106"),
        ({"value": 1, "unit": "ea"}, "AT106"),
        ({"value": 1.0}, "AT106"),
        ({"value": 1, "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB"}, "AT106"),
        ({"value": 1, "unit": "tablet(s)"}, "AT106"),
        ({"value": 2.5, "system": "http://unitsofmeasure.org", "code": "mg", "unit": "mg"}, "AT106"),
        ({"value": 1, "system": "http://unitsofmeasure.org", "code": "{bottle}"}, "DQ902"),
    ],
)
def test_every_count_shape_reads_like_milligrams(client: TestClient, dose: dict[str, Any], expected: str) -> None:
    body = json.loads((HOOKS / "sandbox-order-sign-rivaroxaban-pill-once-daily.json").read_text())
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = dose
    response = client.post("/cds-services/btk-angioplasty-order-sign", json=body)
    assert response.status_code == 200
    assert [c["source"]["topic"]["code"] for c in response.json()["cards"]] == [expected]


def test_pill_of_a_product_with_no_known_strength_is_could_not_verify(client: TestClient) -> None:
    body = json.loads((HOOKS / "sandbox-order-sign-rivaroxaban-pill-once-daily.json").read_text())
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1114195", "display": "rivaroxaban"}
        ]
    }
    cards = client.post("/cds-services/btk-angioplasty-order-sign", json=body).json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["DQ902"]
    assert "strength" in cards[0]["detail"] and "1 pill" in cards[0]["detail"]
