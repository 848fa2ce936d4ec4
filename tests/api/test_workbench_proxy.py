"""The workbench behind an authenticating reverse proxy (oauth2-proxy convention): identity headers are
believed from the configured proxy addresses only. A real `orderlint serve` (uvicorn) on 127.0.0.1, with a
trusted-proxy list that includes 127.0.0.1 and one that does not."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import wait_until_healthy

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
JOB = "0123456789abcdef0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(tmp: Path, **env: str) -> Iterator[str]:
    port = _free_port()
    environ = {
        **os.environ,
        "ORDERLINT_DATABASE_URL": f"sqlite:///{tmp / 'orderlint.db'}",
        "ORDERLINT_UPLOAD_DIR": str(tmp / "uploads"),
        "ORDERLINT_TRUSTED_ISSUERS": "",
        **env,
    }
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "linter.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, proc, log, timeout_s=60)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory.mktemp("trusted"), ORDERLINT_WORKBENCH_TRUSTED_PROXIES="127.0.0.1")


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory.mktemp("untrusted"), ORDERLINT_WORKBENCH_TRUSTED_PROXIES="10.0.0.0/8")


def who(user: str, groups: str, email: str = "") -> dict[str, str]:
    headers = {"X-Forwarded-User": user, "X-Forwarded-Groups": groups}
    if email:
        headers["X-Forwarded-Email"] = email
    return headers


def test_headers_from_the_trusted_proxy_are_the_user(trusted: str) -> None:
    with httpx.Client(base_url=trusted) as alice:
        page = alice.get("/", headers=who("alice", "staff,orderlint-pharmacist"))
        assert page.status_code == 200 and "alice (pharmacist)" in page.text
        found = CSRF_META.search(page.text)
        assert found
        headers = {**who("alice", "orderlint-pharmacist"), "X-CSRF-Token": found.group(1)}
        created = alice.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 2}]}, headers=headers)
        assert created.status_code == 201, created.text
        job = created.json()["id"]
        assert alice.get(f"/workbench/jobs/{job}", headers=who("alice", "orderlint-pharmacist")).status_code == 200
    with httpx.Client(base_url=trusted) as others:
        assert others.get(f"/workbench/jobs/{job}", headers=who("bob", "orderlint-pharmacist")).status_code == 404
        assert others.get(f"/workbench/jobs/{job}", headers=who("lea", "orderlint-lead")).status_code == 200
        assert others.get("/audit", headers=who("bob", "orderlint-pharmacist")).status_code == 403
        audit = others.get("/audit", headers=who("lea", "orderlint-lead"))
        assert audit.status_code == 200 and "alice" in audit.text and "proxy" in audit.text
        # the e-mail header alone names the user too; a user in no allowed group is refused
        by_mail = others.get(
            "/", headers={"X-Forwarded-Email": "eve@hospital.example", "X-Forwarded-Groups": "orderlint-pharmacist"}
        )
        assert "eve@hospital.example (pharmacist)" in by_mail.text
        assert others.get("/", headers=who("mallory", "visitors")).status_code == 403
        # without the headers (a request that did not come through the proxy's login) there is no user
        assert others.get(f"/workbench/jobs/{JOB}").status_code == 401


def test_headers_from_anyone_else_are_ignored(untrusted: str) -> None:
    with httpx.Client(base_url=untrusted) as client:
        assert client.get("/", headers=who("lea", "orderlint-lead")).status_code == 401
        assert client.get(f"/workbench/jobs/{JOB}", headers=who("lea", "orderlint-lead")).status_code == 401
        # posing as the proxy through X-Forwarded-For does not help: uvicorn believes it from the proxies only
        spoofed = {**who("lea", "orderlint-lead"), "X-Forwarded-For": "10.1.2.3"}
        assert client.get("/audit", headers=spoofed).status_code == 401
        assert client.get("/healthz").status_code == 200  # the rest of the service is unaffected
