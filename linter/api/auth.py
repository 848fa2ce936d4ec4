"""CDS client authentication (CDS Hooks 2.0 "Trusting CDS Clients", cds-hooks.org best practices).

Every call carries `Authorization: Bearer <JWT>`; we accept it only if: `alg` is RS384 or ES384 (never
`none`, never HMAC); `typ` is JWT; `kid` names a key in the issuer's JWK Set; `iss` is a trusted issuer
whose JWKS comes from configuration (a URL or a local file), `jku` being honoured only when it is that
same configured URL; `aud` equals the public URL of the endpoint called; `exp`/`iat` hold within a small
leeway and the lifetime is bounded; `tenant` is allowed when tenants are configured; and `jti` was never
seen before within the token's lifetime (the replay store is in the database, shared by workers).
Any failure is a bare 401: the reason is logged (without the token), never returned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

import httpx
import jwt

log = logging.getLogger("orderlint.api.auth")

ALLOWED_ALGORITHMS = frozenset({"RS384", "ES384"})


class AuthError(Exception):
    """Why a token was refused (logged, not returned)."""


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    issuer: str
    jti: str
    tenant: str | None


class JwksCache:
    """Key sets per configured source (URL or file), refreshed after `ttl_s` or on an unknown `kid`."""

    def __init__(self, client: httpx.AsyncClient, ttl_s: float, timeout_s: float = 2.0) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}
        self._lock = asyncio.Lock()

    async def key(self, source: str, kid: str) -> jwt.PyJWK:
        keys = await self._load(source, force=False)
        if kid not in keys:
            keys = await self._load(source, force=True, min_age_s=10.0)
        if kid not in keys:
            raise AuthError(f"unknown kid for {source}")
        return keys[kid]

    async def _load(self, source: str, *, force: bool, min_age_s: float = 0.0) -> dict[str, jwt.PyJWK]:
        async with self._lock:
            cached = self._keys.get(source)
            now = time.monotonic()
            if cached and (now - cached[0] < (min_age_s if force else self.ttl_s)):
                return cached[1]
            try:
                document = await self._read(source)
                keys = _parse_jwks(document)
            except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as exc:
                if cached:
                    return cached[1]
                raise AuthError(f"JWKS {source} unavailable: {type(exc).__name__}") from exc
            self._keys[source] = (now, keys)
            return keys

    async def _read(self, source: str) -> Any:
        if source.startswith(("https://", "http://")):
            response = await self.client.get(source, timeout=self.timeout_s)
            response.raise_for_status()
            return response.json()
        return json.loads(Path(source.removeprefix("file://")).read_text())


def _parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("kty") not in ("RSA", "EC"):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(dict(entry))
        except jwt.PyJWTError:
            log.warning("skipping an unusable key in a JWK Set")  # its kid is a server's text
    return keys


class JwtVerifier:
    def __init__(
        self,
        *,
        trusted_issuers: Mapping[str, str],
        jwks: JwksCache,
        remember_jti: Callable[[str, str, datetime, datetime], bool],
        allowed_tenants: list[str],
        leeway_s: int,
        max_lifetime_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trusted_issuers = dict(trusted_issuers)
        self.jwks = jwks
        self.remember_jti = remember_jti
        self.allowed_tenants = allowed_tenants
        self.leeway_s = leeway_s
        self.max_lifetime_s = max_lifetime_s
        self.clock = clock

    async def verify(self, token: str, audience: str) -> ClientIdentity:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {type(exc).__name__}") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise AuthError("algorithm not accepted")
        if header.get("typ") != "JWT":
            raise AuthError("typ is not JWT")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self.trusted_issuers:
            raise AuthError("issuer not trusted")
        source = self.trusted_issuers[issuer]
        jku = header.get("jku")
        if jku is not None and jku != source:
            raise AuthError("jku is not the configured JWK Set URL of this issuer")
        key = await self.jwks.key(source, kid)
        if not _key_fits(key, alg):
            raise AuthError("the key named by kid does not fit the algorithm")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                # times are checked below against our clock (testable, same leeway everywhere)
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise AuthError(f"token rejected: {type(exc).__name__}") from exc
        self._check_times(claims)
        tenant = claims.get("tenant")
        if self.allowed_tenants and tenant not in self.allowed_tenants:
            raise AuthError("tenant not allowed")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise AuthError("jti missing")
        expires_at = datetime.fromtimestamp(float(claims["exp"]) + self.leeway_s, UTC)
        now = datetime.fromtimestamp(self.clock(), UTC)
        if not await asyncio.to_thread(self.remember_jti, issuer, jti, expires_at, now):
            raise AuthError("jti replayed")
        return ClientIdentity(issuer=issuer, jti=jti, tenant=tenant if isinstance(tenant, str) else None)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self.clock()
        raw_exp, raw_iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
        if not _is_number(raw_exp) or not _is_number(raw_iat):
            raise AuthError("exp or iat is not a number")
        exp, iat = float(raw_exp), float(raw_iat)
        if now > exp + self.leeway_s:
            raise AuthError("token expired")
        if iat > now + self.leeway_s:
            raise AuthError("iat in the future")
        if nbf is not None and (not _is_number(nbf) or float(nbf) > now + self.leeway_s):
            raise AuthError("token not yet valid (nbf)")
        if exp - iat > self.max_lifetime_s:
            raise AuthError("token lifetime longer than allowed")


def _key_fits(key: jwt.PyJWK, alg: str) -> bool:
    if alg == "ES384":
        return key.key_type == "EC" and key.algorithm_name == "ES384"  # P-384 curve
    return key.key_type == "RSA"


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
