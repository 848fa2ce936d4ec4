"""The workbench has its own gate: open in the loopback default, closed when CDS Hooks auth is on and no
workbench users exist, HTTP Basic against scrypt hashes when users are configured."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from linter.api.workbench_auth import _proxy_identity, check_password, hash_password
from linter.settings import Settings
from tests.workbench.web import with_csrf

WORKBENCH_PATHS = ["/", "/dashboard", "/workbench/jobs/0123456789abcdef0123456789abcdef"]


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_password_hash_round_trip() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$")
    assert check_password("correct horse", stored)
    assert not check_password("correct hors", stored)
    assert not check_password("x", "md5$00$00")
    assert hash_password("same") != hash_password("same")  # salted


def test_settings_parse_workbench_users() -> None:
    stored = hash_password("pw")
    settings = Settings(workbench_users=f"pharm1:{stored}, pharm2:{stored}")  # type: ignore[arg-type]
    assert set(settings.workbench_users) == {"pharm1", "pharm2"}
    assert settings.workbench_users["pharm1"].role == "pharmacist"
    lead = Settings(workbench_users=f"boss:lead:{stored}")  # type: ignore[arg-type]
    assert lead.workbench_users["boss"].role == "lead"
    with pytest.raises(ValueError, match="name:ROLE:scrypt"):
        Settings(workbench_users=f"boss:admin:{stored}")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name:scrypt"):
        Settings(workbench_users="pharm1:plaintext")  # type: ignore[arg-type]


def test_open_in_the_loopback_default(client: TestClient) -> None:
    assert client.get("/").status_code == 200


def test_closed_when_cds_hooks_auth_is_on_without_workbench_users(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    client = make_client(trusted_issuers={"https://ehr.example/": str(jwks)})
    for path in WORKBENCH_PATHS:
        response = client.get(path)
        assert response.status_code == 403, path
    assert "ORDERLINT_WORKBENCH_USERS" in client.get("/").text
    assert client.get("/static/workbench.css").status_code == 200  # assets are not secrets


def test_basic_auth_with_configured_users(make_client: Callable[..., TestClient]) -> None:
    client = make_client(workbench_users={"pharm1": hash_password("s3cret-pass")})
    unauthenticated = client.get("/dashboard")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"].startswith("Basic")
    assert client.get("/dashboard", headers=_basic("pharm1", "wrong")).status_code == 401
    assert client.get("/dashboard", headers=_basic("nobody", "s3cret-pass")).status_code == 401
    assert client.get("/dashboard", headers=_basic("pharm1", "s3cret-pass")).status_code == 200
    # the CDS Hooks endpoints keep their own (JWT) rules and do not ask for the workbench password
    assert client.get("/cds-services").status_code == 200


def test_a_job_is_visible_to_the_user_who_uploaded_it_only(make_client: Callable[..., TestClient]) -> None:
    users = {"alice": hash_password("alice-password-1"), "bob": hash_password("bob-password-22")}
    client = make_client(workbench_users=users)
    alice, bob = _basic("alice", "alice-password-1"), _basic("bob", "bob-password-22")
    alice, bob = with_csrf(client, alice), with_csrf(client, bob)
    created = client.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 2}]}, headers=alice)
    assert created.status_code == 201, created.text
    job = created.json()["id"]
    assert client.get(f"/workbench/jobs/{job}", headers=alice).status_code == 200
    assert client.get(f"/jobs/{job}", headers=alice).status_code == 200
    for path in (f"/workbench/jobs/{job}", f"/jobs/{job}", f"/workbench/jobs/{job}/report.csv"):
        assert client.get(path, headers=bob).status_code == 404, path
    assert client.put(f"/workbench/jobs/{job}/files/0?offset=0", content=b"{}", headers=bob).status_code == 404
    assert client.post(f"/workbench/jobs/{job}/start", headers=bob).status_code == 404


def _request(peer: str, headers: dict[str, str]) -> Any:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "client": (peer, 50000)})


def test_proxy_header_names_are_configurable_and_addresses_are_cidrs() -> None:
    settings = Settings(
        workbench_trusted_proxies="10.20.0.0/16, ::1",  # type: ignore[arg-type]
        workbench_proxy_user_header="X-Remote-User",
        workbench_proxy_groups_header="X-Remote-Roles",
        workbench_lead_groups="pharmacy-leads",  # type: ignore[arg-type]
    )
    headers = {"X-Remote-User": "lea", "X-Remote-Roles": "staff pharmacy-leads"}
    identity = _proxy_identity(_request("10.20.3.4", headers), settings)
    assert identity is not None and (identity.name, identity.role, identity.method) == ("lea", "lead", "proxy")
    assert _proxy_identity(_request("::1", headers), settings) is not None
    assert _proxy_identity(_request("10.21.0.1", headers), settings) is None  # outside the CIDR
    assert _proxy_identity(_request("10.20.3.4", {"X-Forwarded-User": "lea"}), settings) is None  # other name
    with pytest.raises(ValueError):
        Settings(workbench_trusted_proxies="not-an-address")  # type: ignore[arg-type]
