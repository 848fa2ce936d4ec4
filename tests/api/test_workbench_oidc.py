"""The workbench behind the hospital's OpenID Connect login, end to end against a real OIDC provider on
loopback (oidc-provider-mock: discovery, authorization form, token endpoint, signed ID tokens, JWKS).

The app runs in process (TestClient); every call between the app and the provider is real HTTP on loopback,
and the test plays the browser: it follows the redirect to the provider, posts the provider's login form,
and brings the code back to the callback."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User, run_server_in_thread

from tests.workbench.conftest import DATA, make_settings

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
USERS = [
    User(sub="alice", claims={"email": "alice@hospital.example", "groups": ["orderlint-pharmacist"]}),
    User(sub="bob", claims={"email": "bob@hospital.example", "groups": ["staff", "orderlint-pharmacist"]}),
    User(sub="lea", claims={"email": "lea@hospital.example", "groups": ["orderlint-lead"]}),
    User(sub="mallory", claims={"email": "mallory@hospital.example", "groups": ["visitors"]}),
]


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with run_server_in_thread(port=0, user_claims=USERS) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_settings(tmp_path: Path, issuer: str, **overrides: Any) -> Any:
    return make_settings(
        tmp_path, oidc_issuer=issuer, oidc_client_id="orderlint-workbench", oidc_client_secret="s3cret", **overrides
    )


@pytest.fixture
def app_client(tmp_path: Path, issuer: str) -> Iterator[TestClient]:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    with TestClient(create_app(oidc_settings(tmp_path, issuer))) as client:
        yield client


def login(client: TestClient, sub: str, target: str = "/") -> httpx.Response:
    """Log in as `sub` the way a browser does; the callback's answer."""
    start = client.get("/login", params={"next": target}, follow_redirects=False)
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43  # PKCE
    assert query["response_type"] == ["code"] and query["state"] and query["nonce"]
    form = httpx.get(authorize)  # the provider's login page
    assert form.status_code == 200 and sub in form.text
    answer = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/auth/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def csrf(client: TestClient) -> dict[str, str]:
    found = CSRF_META.search(client.get("/").text)
    assert found
    return {"X-CSRF-Token": found.group(1)}


def upload(client: TestClient) -> str:
    blob = (DATA / "heparin-overdose.json").read_bytes()
    headers = csrf(client)
    job: str = client.post(
        "/workbench/jobs", json={"files": [{"name": "h.json", "size": len(blob)}]}, headers=headers
    ).json()["id"]
    assert client.put(f"/workbench/jobs/{job}/files/0?offset=0", content=blob, headers=headers).status_code == 200
    assert client.post(f"/workbench/jobs/{job}/start", headers=headers).status_code == 202
    while client.get(f"/workbench/jobs/{job}").json()["state"] != "done":
        time.sleep(0.05)
    return job


def as_user(client: TestClient, sub: str) -> None:
    client.cookies.clear()
    assert login(client, sub).status_code == 303


def test_pages_send_the_browser_to_the_login_api_calls_get_401(app_client: TestClient) -> None:
    page = app_client.get(
        "/jobs/0123456789abcdef0123456789abcdef", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/jobs/0123456789abcdef0123456789abcdef"
    assert app_client.get("/workbench/jobs/0123456789abcdef0123456789abcdef").status_code == 401
    assert app_client.get("/", headers={"Authorization": "Basic YTpi"}).status_code == 401  # no Basic users here


def test_login_sets_a_signed_httponly_lax_session_and_returns_to_the_page(app_client: TestClient) -> None:
    answer = login(app_client, "alice", "/dashboard?days=7")
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard?days=7"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("orderlint_session=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here; see the TLS test
    page = app_client.get("/")
    assert page.status_code == 200 and "alice@hospital.example (pharmacist)" in page.text
    # a forged or tampered cookie is no session
    value = app_client.cookies["orderlint_session"]
    app_client.cookies.clear()
    app_client.cookies.set("orderlint_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert app_client.get("/workbench/jobs/0123456789abcdef0123456789abcdef").status_code == 401


def test_login_only_for_allowed_groups_and_never_to_another_site(app_client: TestClient) -> None:
    refused = login(app_client, "mallory")
    assert refused.status_code == 403 and "not in a group" in refused.text
    assert app_client.get("/workbench/jobs/0123456789abcdef0123456789abcdef").status_code == 401
    app_client.cookies.clear()
    outside = login(app_client, "alice", "//evil.example/")
    assert outside.status_code == 303 and outside.headers["location"] == "/"


def test_a_forged_callback_is_refused_cleanly(app_client: TestClient) -> None:
    answer = app_client.get("/auth/callback?code=made-up&state=made-up", follow_redirects=False)
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("application/fhir+json")


def test_upload_view_download_and_a_second_pharmacist_cannot_see_it(app_client: TestClient) -> None:
    as_user(app_client, "alice")
    job = upload(app_client)
    assert "HEP201" in app_client.get(f"/jobs/{job}").text
    assert app_client.get(f"/workbench/jobs/{job}/report.csv").status_code == 200
    as_user(app_client, "bob")
    for path in (f"/jobs/{job}", f"/workbench/jobs/{job}", f"/workbench/jobs/{job}/report.csv"):
        assert app_client.get(path).status_code == 404, path
    assert app_client.get("/audit").status_code == 403
    as_user(app_client, "lea")
    assert app_client.get(f"/jobs/{job}").status_code == 200
    audit = app_client.get("/audit").text
    assert "alice@hospital.example" in audit and "oidc" in audit and job in audit


def test_logout_needs_the_csrf_token_and_ends_the_session(app_client: TestClient) -> None:
    as_user(app_client, "alice")
    assert app_client.post("/logout", data={}, follow_redirects=False).status_code == 403
    token = csrf(app_client)["X-CSRF-Token"]
    out = app_client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert app_client.get("/workbench/jobs/0123456789abcdef0123456789abcdef").status_code == 401


def test_the_cookie_is_secure_behind_tls(tmp_path: Path, issuer: str) -> None:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    with TestClient(create_app(oidc_settings(tmp_path, issuer)), base_url="https://testserver") as client:
        answer = login(client, "alice")
        assert answer.status_code == 303
        assert "secure" in answer.headers["set-cookie"].lower()
    with TestClient(create_app(oidc_settings(tmp_path, issuer, workbench_cookie_secure=True))) as client:
        # forced on (TLS ends before a proxy that is not trusted for X-Forwarded-Proto): even over http
        start = client.get("/login", follow_redirects=False)
        assert start.status_code == 302 and "secure" in start.headers["set-cookie"].lower()
