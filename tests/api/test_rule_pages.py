"""Every card links to its rule's page (`source.url`, absolute), and the service serves that page: what the
rule checks, the thresholds of the profile that answered with their citations, the quoted sources and the
limits, as self-contained HTML with no authentication and no patient data (issue 8 §4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from linter.rules import RULES_BY_CODE

from .conftest import PATIENT_ID, PUBLIC_BASE, Signer, full_prefetch, hook_request

SIGN = "/cds-services/btk-angioplasty-order-sign"


def _cards(client: TestClient, path: str = SIGN) -> list[dict]:  # type: ignore[type-arg]
    response = client.post(path, json=hook_request(prefetch=full_prefetch()))
    assert response.status_code == 200, response.text
    cards: list[dict] = response.json()["cards"]  # type: ignore[type-arg]
    assert cards
    return cards


def test_every_card_links_to_its_rule_page_under_the_public_base_url(make_client: Callable[..., TestClient]) -> None:
    client = make_client(public_base_url="https://cds.example.org/orderlint/")
    for card in _cards(client):
        code = card["source"]["topic"]["code"]
        assert card["source"]["url"] == f"https://cds.example.org/orderlint/rules/{code}?profile=btk-angioplasty"


def test_without_a_public_base_url_the_link_is_built_from_the_request(make_client: Callable[..., TestClient]) -> None:
    client = make_client(public_base_url=None)
    for card in _cards(client):
        url = card["source"]["url"]
        assert url.startswith(f"{PUBLIC_BASE}/rules/{card['source']['topic']['code']}?profile=")
        page = client.get(url, headers={"Accept": "text/html"})  # the link opens the page
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_a_cards_link_opens_the_rule_page_with_the_answering_profile(client: TestClient) -> None:
    card = next(c for c in _cards(client) if c["source"]["topic"]["code"] == "HEP201")
    parts = urlsplit(card["source"]["url"])
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    html = page.text
    meta = RULES_BY_CODE["HEP201"].META
    assert f"HEP201 {meta.name}" in html
    for heading in ("What it checks", "Source", "Thresholds (profile", "Limitations"):
        assert heading in html, heading
    assert "min_units_per_kg" in html and "max_units_per_kg" in html  # thresholds with their citations
    assert "000_db9ef64a206b36dc.txt:24" in html  # the threshold's citation
    assert "unfractionated heparin 70-100 units/kg" in html  # the quoted source sentence
    assert "Q&amp;A: below-knee angioplasty (2025-03-24), line 24" in html  # and its short title
    # self-contained: nothing fetched, nothing run
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "src=" not in html and "http://" not in html and "https://" not in html
    assert PATIENT_ID not in html


def test_the_page_shows_the_thresholds_of_the_profile_asked_for(client: TestClient) -> None:
    default = client.get("/rules/AT101").text
    jp = client.get("/rules/AT101?profile=btk-angioplasty-jp").text
    assert "profile <code>btk-angioplasty</code>" in default
    assert "profile <code>btk-angioplasty-jp</code>" in jp
    assert default != jp


def test_rule_pages_need_no_authentication(make_client: Callable[..., TestClient], signer: Signer) -> None:
    client = make_client(trusted_issuers={signer.issuer: str(signer.jwks_path)})
    assert client.post(SIGN, json=hook_request(prefetch=full_prefetch())).status_code == 401
    assert client.get("/rules/HEP201").status_code == 200


def test_unknown_rule_or_profile_is_404(client: TestClient) -> None:
    outcome = client.get("/rules/XX999")
    assert outcome.status_code == 404
    assert outcome.json()["resourceType"] == "OperationOutcome"
    assert "XX999" in outcome.json()["issue"][0]["diagnostics"]
    html = client.get("/rules/XX999", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert client.get("/rules/HEP201?profile=nope").status_code == 404
    assert "<script" not in client.get("/rules/<script>", headers={"Accept": "text/html"}).text
