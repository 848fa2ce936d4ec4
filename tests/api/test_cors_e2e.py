"""CORS end to end (issue 8 item 8): `orderlint serve` as a real process, CORS origins from the
ORDERLINT_CORS_ORIGINS setting, authentication on, called as a browser CDS client (the CDS Hooks sandbox) calls
it: a preflight (OPTIONS with Origin, Access-Control-Request-Method and -Headers, no credentials), then the
call with a bearer JWT. An origin that is not configured gets no Access-Control-Allow-Origin.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.live_server import wait_until_ready

from .conftest import Signer, full_prefetch, hook_request

pytestmark = pytest.mark.slow

SANDBOX = "https://sandbox.cds-hooks.org"
LOCAL_CLIENT = "http://localhost:3000"
SIGN = "/cds-services/btk-angioplasty-order-sign"
# what a browser sends before a cross-origin POST with a JSON body and a bearer token (lower case, sorted)
PREFLIGHT_POST = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


@dataclass
class Served:
    base: str
    signer: Signer

    def token_for(self, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.signer.token(self.base + path)}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _orderlint() -> str:
    beside_python = Path(sys.executable).parent / "orderlint"
    found = str(beside_python) if beside_python.exists() else shutil.which("orderlint")
    if found is None:
        pytest.fail("the orderlint console script is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, client_keys: tuple[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]
) -> Iterator[Served]:
    tmp = Path(tmp_path_factory.mktemp("cors"))
    ec_key, rsa_key = client_keys
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    ec_jwk.update({"kid": "ec-1", "use": "sig", "alg": "ES384"})
    jwks = tmp / "client-jwks.json"
    jwks.write_text(json.dumps({"keys": [ec_jwk]}))
    signer = Signer(jwks, ec_key, rsa_key)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
    env.update(
        {
            "ORDERLINT_DATABASE_URL": f"sqlite:///{tmp / 'cors.db'}",
            "ORDERLINT_CORS_ORIGINS": f"{SANDBOX}, {LOCAL_CLIENT}",
            "ORDERLINT_TRUSTED_ISSUERS": json.dumps({signer.issuer: str(jwks)}),
            "ORDERLINT_PUBLIC_BASE_URL": base,
        }
    )
    process = subprocess.Popen(
        [_orderlint(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_ready(base, process, timeout_s=60)
        yield Served(base, signer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def allowed_headers(response: httpx.Response) -> set[str]:
    return {h.strip().lower() for h in response.headers.get("access-control-allow-headers", "").split(",")}


def allowed_methods(response: httpx.Response) -> set[str]:
    return {m.strip().upper() for m in response.headers.get("access-control-allow-methods", "").split(",")}


@pytest.mark.parametrize("origin", [SANDBOX, LOCAL_CLIENT])
def test_preflight_then_hook_call_from_a_configured_origin(served: Served, origin: str) -> None:
    with httpx.Client(base_url=served.base, timeout=30) as http:
        # discovery: a GET with Authorization is not a simple request either
        pre = http.options(
            "/cds-services",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == origin
        assert "authorization" in allowed_headers(pre) and "GET" in allowed_methods(pre)
        listed = http.get("/cds-services", headers={"Origin": origin, **served.token_for("/cds-services")})
        assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == origin
        assert "origin" in listed.headers.get("vary", "").lower()  # caches must not mix origins
        assert SIGN.rsplit("/", 1)[-1] in {s["id"] for s in listed.json()["services"]}

        # the hook call: preflight without credentials (a browser never sends them on OPTIONS), then the POST
        pre = http.options(SIGN, headers={"Origin": origin, **PREFLIGHT_POST})
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == origin
        assert {"authorization", "content-type"} <= allowed_headers(pre)
        assert "POST" in allowed_methods(pre)
        assert int(pre.headers["access-control-max-age"]) > 0
        assert pre.headers.get("access-control-allow-credentials") != "true"  # bearer tokens, not cookies
        call = http.post(
            SIGN,
            content=json.dumps(hook_request(prefetch=full_prefetch())),
            headers={"Origin": origin, "Content-Type": "application/json", **served.token_for(SIGN)},
        )
        assert call.status_code == 200, call.text
        assert call.headers["access-control-allow-origin"] == origin
        cards: list[dict[str, Any]] = call.json()["cards"]
        assert any(c["source"]["topic"]["code"] == "HEP201" for c in cards)

        # feedback on a card, as the sandbox sends it when a suggestion is accepted
        feedback_path = SIGN + "/feedback"
        pre = http.options(feedback_path, headers={"Origin": origin, **PREFLIGHT_POST})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == origin
        card = next(c for c in cards if c["source"]["topic"]["code"] == "HEP201")
        body = {
            "feedback": [
                {
                    "card": card["uuid"],
                    "outcome": "accepted",
                    "outcomeTimestamp": "2026-11-29T18:00:00Z",
                    "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                }
            ]
        }
        sent = http.post(
            feedback_path,
            content=json.dumps(body),
            headers={"Origin": origin, "Content-Type": "application/json", **served.token_for(feedback_path)},
        )
        assert sent.status_code == 200, sent.text
        assert sent.headers["access-control-allow-origin"] == origin


def test_a_refused_token_is_readable_by_the_configured_origin(served: Served) -> None:
    """A 401 carries Access-Control-Allow-Origin, so the browser client can tell the user why it failed."""
    response = httpx.post(
        served.base + SIGN,
        content=json.dumps(hook_request(prefetch=full_prefetch())),
        headers={"Origin": SANDBOX, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SANDBOX


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://sandbox.cds-hooks.org.evil.example",  # a configured origin as a prefix
        "http://sandbox.cds-hooks.org",  # another scheme
        "http://localhost:3001",  # another port
        "null",  # a sandboxed iframe or a file: page
    ],
)
def test_preflight_from_an_unconfigured_origin_gets_no_allow_origin(served: Served, origin: str) -> None:
    with httpx.Client(base_url=served.base, timeout=30) as http:
        pre = http.options(SIGN, headers={"Origin": origin, **PREFLIGHT_POST})
        assert "access-control-allow-origin" not in pre.headers
        assert pre.status_code >= 400  # the browser stops here and never sends the POST
        # and a response to a request the browser would make anyway names no origin either
        listed = http.get("/cds-services", headers={"Origin": origin, **served.token_for("/cds-services")})
        assert listed.status_code == 200
        assert "access-control-allow-origin" not in listed.headers
