"""Typed dependencies: the service state built at start-up, settings, and client authentication."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, HTTPException, Request

from linter.api.auth import AuthError, ClientIdentity, JwtVerifier
from linter.api.log_hygiene import route_of
from linter.api.prefetch import PrefetchResolver
from linter.api.services import CdsService
from linter.profiles import Profile
from linter.settings import Settings
from linter.store.repository import Store

log = logging.getLogger("orderlint.api.auth")


@dataclass(slots=True)
class ServiceState:
    settings: Settings
    store: Store
    profiles: dict[str, Profile]
    services: dict[str, CdsService]
    http: httpx.AsyncClient
    resolver: PrefetchResolver
    verifier: JwtVerifier | None


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.orderlint
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_app_settings(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def expected_audience(request: Request, settings: Settings) -> str:
    """The URL of the endpoint being called, as the client addresses it (public base URL + path)."""
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return base + request.url.path


async def require_client(request: Request, state: StateDep) -> ClientIdentity | None:
    """Bearer JWT check on every CDS Hooks call when trusted issuers are configured; bare 401 otherwise."""
    if state.verifier is None:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        log.info("401 on %s: no bearer token", route_of(request.scope))
        raise HTTPException(status_code=401)
    try:
        identity = await state.verifier.verify(token.strip(), expected_audience(request, state.settings))
    except AuthError as exc:
        log.info("401 on %s: %s", route_of(request.scope), exc)  # AuthError texts quote no token content
        raise HTTPException(status_code=401) from None
    return identity


ClientDep = Annotated[ClientIdentity | None, Depends(require_client)]
