"""Client JWT verification (CDS Hooks 2.0 "Trusting CDS Clients"): the spec's own ES384 example token,
then valid / expired / wrong aud / wrong alg / unknown kid / replay / issuer / jku / tenant cases."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from linter.api.auth import AuthError, ClientIdentity, JwksCache, JwtVerifier
from linter.store.migrate import upgrade
from linter.store.repository import Store

from .conftest import ISSUER, Signer

AUD = "https://cds.test.example/cds-services/btk-angioplasty-order-sign"

# CDS Hooks 2.0 §Trusting CDS Clients (HL7/cds-hooks input/pagecontent/index.md): example JWT and JWK Set.
SPEC_TOKEN = (
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGlyLWVoci5leGFtcGxl"
    "LmNvbS9qd2tfdXJpIn0.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIsImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1w"
    "bGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUy"
    "MmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNhYzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMw"
    "MmEyIn0.d1WfLjGRKlcWB94l9do4cM8REXeYJLL6SGUBO8VHZhfM8mwKYP70EMxJ67War4TQblEpaQrp11wx5p7oPFm2ETYgCicS84vX"
    "WEIYTdjooZdooCSDf2L8-i4awdoUwiEb"
)
SPEC_JWKS = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": "example-kid",
            "x": "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
            "y": "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI",
            "alg": "ES384",
        }
    ]
}
SPEC_ISSUER = "https://fhir-ehr.example.com/"
SPEC_JKU = "https://fhir-ehr.example.com/jwk_uri"
SPEC_AUD = "https://cds.example.org/cds-services/some-service"


def jwks_transport(documents: dict[str, Any], hits: list[str] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if hits is not None:
            hits.append(str(request.url))
        url = str(request.url)
        if url in documents:
            return httpx.Response(200, json=documents[url])
        return httpx.Response(404)

    return httpx.MockTransport(handler)


def run_verify(verifier_factory: Callable[[httpx.AsyncClient], JwtVerifier], token: str, aud: str) -> ClientIdentity:
    async def go() -> ClientIdentity:
        async with httpx.AsyncClient(transport=jwks_transport({SPEC_JKU: SPEC_JWKS})) as client:
            return await verifier_factory(client).verify(token, aud)

    return asyncio.run(go())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    upgrade(url)
    return Store.from_url(url)


def test_spec_example_token_verifies_with_expiry_disabled(store: Store) -> None:
    # The example expired in 2015: verify it on a clock set inside its validity window.
    def factory(client: httpx.AsyncClient) -> JwtVerifier:
        return JwtVerifier(
            trusted_issuers={SPEC_ISSUER: SPEC_JKU},
            jwks=JwksCache(client, ttl_s=300),
            remember_jti=store.remember_jti,
            allowed_tenants=["2ddd6c3a-8e9a-44c6-a305-52111ad302a2"],
            leeway_s=60,
            max_lifetime_s=10**9,
            clock=lambda: 1_400_000_000.0,
        )

    identity = run_verify(factory, SPEC_TOKEN, SPEC_AUD)
    assert identity == ClientIdentity(
        issuer=SPEC_ISSUER,
        jti="ee22b021-e1b7-4611-ba5b-8eec6a33ac1e",
        tenant="2ddd6c3a-8e9a-44c6-a305-52111ad302a2",
    )
    with pytest.raises(AuthError, match="replayed"):
        run_verify(factory, SPEC_TOKEN, SPEC_AUD)


def test_spec_example_token_is_rejected_on_todays_clock(store: Store) -> None:
    def factory(client: httpx.AsyncClient) -> JwtVerifier:
        return JwtVerifier(
            trusted_issuers={SPEC_ISSUER: SPEC_JKU},
            jwks=JwksCache(client, ttl_s=300),
            remember_jti=store.remember_jti,
            allowed_tenants=[],
            leeway_s=60,
            max_lifetime_s=10**9,
        )

    with pytest.raises(AuthError, match="expired"):
        run_verify(factory, SPEC_TOKEN, SPEC_AUD)


def test_spec_example_token_with_a_tampered_payload_fails(store: Store) -> None:
    header, payload, signature = SPEC_TOKEN.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["tenant"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"

    def factory(client: httpx.AsyncClient) -> JwtVerifier:
        return JwtVerifier(
            trusted_issuers={SPEC_ISSUER: SPEC_JKU},
            jwks=JwksCache(client, ttl_s=300),
            remember_jti=store.remember_jti,
            allowed_tenants=[],
            leeway_s=60,
            max_lifetime_s=10**9,
            clock=lambda: 1_400_000_000.0,
        )

    with pytest.raises(AuthError, match="InvalidSignatureError"):
        run_verify(factory, forged, SPEC_AUD)


def local_verifier(store: Store, signer: Signer, **overrides: Any) -> Callable[[httpx.AsyncClient], JwtVerifier]:
    def factory(client: httpx.AsyncClient) -> JwtVerifier:
        values: dict[str, Any] = {
            "trusted_issuers": {ISSUER: str(signer.jwks_path)},
            "jwks": JwksCache(client, ttl_s=300),
            "remember_jti": store.remember_jti,
            "allowed_tenants": [],
            "leeway_s": 30,
            "max_lifetime_s": 3600,
        }
        values.update(overrides)
        return JwtVerifier(**values)

    return factory


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_valid_tokens_are_accepted(store: Store, signer: Signer, alg: str) -> None:
    identity = run_verify(local_verifier(store, signer), signer.token(AUD, alg=alg, tenant="t1"), AUD)
    assert identity.issuer == ISSUER and identity.tenant == "t1"


def hmac_token(signer: Signer) -> str:
    # Classic confusion attack: HMAC "signed" with the public key as the secret.
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": "x"}
    return jwt.encode(payload, "public-key-as-secret-" * 3, algorithm="HS384", headers={"kid": "ec-1", "typ": "JWT"})


def es256_token() -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": "z"}
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": "ec-1", "typ": "JWT"})


def none_token() -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": "y"}
    return jwt.encode(payload, None, algorithm="none", headers={"kid": "ec-1", "typ": "JWT"})


@pytest.mark.parametrize(
    ("make_token", "aud", "reason"),
    [
        (lambda s: s.token(AUD, exp_in=-120), AUD, "expired"),
        (lambda s: s.token(AUD + "-other"), AUD, "InvalidAudience"),
        (lambda s: s.token("https://cds.test.example/cds-services"), AUD, "InvalidAudience"),
        (lambda s: es256_token(), AUD, "algorithm"),
        (lambda s: s.token(AUD, alg="RS256"), AUD, "algorithm"),
        (hmac_token, AUD, "algorithm"),
        (lambda s: none_token(), AUD, "algorithm"),
        (lambda s: s.token(AUD, kid="who-knows"), AUD, "unknown kid"),
        (lambda s: s.token(AUD, alg="ES384", kid="rsa-1"), AUD, "does not fit"),
        (lambda s: s.token(AUD, iss="https://evil.example/"), AUD, "issuer"),
        (lambda s: s.token(AUD, headers={"jku": "https://evil.example/jwks"}), AUD, "jku"),
        (lambda s: s.token(AUD, headers={"typ": "at+jwt"}), AUD, "typ"),
        (lambda s: s.token(AUD, iat_offset=600), AUD, "iat in the future"),
        (lambda s: s.token(AUD, exp_in=7200), AUD, "lifetime"),
        (lambda s: s.token(AUD, nbf=int(time.time()) + 600), AUD, "nbf"),
        (lambda s: s.token(AUD)[:-4] + "AAAA", AUD, "rejected|malformed"),
        (lambda s: "not.a.jwt", AUD, "malformed"),
    ],
)
def test_bad_tokens_are_refused(
    store: Store, signer: Signer, make_token: Callable[[Signer], str], aud: str, reason: str
) -> None:
    with pytest.raises(AuthError, match=reason):
        run_verify(local_verifier(store, signer), make_token(signer), aud)


def test_replayed_jti_is_refused(store: Store, signer: Signer) -> None:
    token = signer.token(AUD, jti="only-once")
    run_verify(local_verifier(store, signer), token, AUD)
    with pytest.raises(AuthError, match="replayed"):
        run_verify(local_verifier(store, signer), token, AUD)


def test_tenant_is_checked_when_configured(store: Store, signer: Signer) -> None:
    factory = local_verifier(store, signer, allowed_tenants=["good-tenant"])
    run_verify(factory, signer.token(AUD, tenant="good-tenant"), AUD)
    with pytest.raises(AuthError, match="tenant"):
        run_verify(factory, signer.token(AUD, tenant="bad-tenant"), AUD)
    with pytest.raises(AuthError, match="tenant"):
        run_verify(factory, signer.token(AUD), AUD)


def test_jwks_url_is_cached_and_refetched_for_a_new_kid(store: Store, signer: Signer) -> None:
    jwks_url = "https://ehr.test.example/jwks"
    documents = {jwks_url: json.loads(signer.jwks_path.read_text())}
    hits: list[str] = []

    async def go() -> None:
        async with httpx.AsyncClient(transport=jwks_transport(documents, hits)) as client:
            verifier = local_verifier(store, signer, trusted_issuers={ISSUER: jwks_url})(client)
            await verifier.verify(signer.token(AUD, headers={"jku": jwks_url}), AUD)
            await verifier.verify(signer.token(AUD), AUD)
            assert len(hits) == 1  # cached
            with pytest.raises(AuthError, match="unknown kid"):
                await verifier.verify(signer.token(AUD, kid="rotated"), AUD)

    asyncio.run(go())
