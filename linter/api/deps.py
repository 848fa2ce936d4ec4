"""Typed dependencies, as the full-stack FastAPI template declares them (`Annotated[..., Depends(...)]`).

Everything is built once, in the app's lifespan (linter.api.main), and kept on `app.state.orderlint`; a handler
names the one dependency it needs (`SettingsDep`, `StoreDep`, `JobStoreDep`, `ProfileDep`, `ProfilesDep`,
`ServiceDep`), never the whole state; the hook route calls `hook_call` itself. Every dependency here is `async def`:
FastAPI runs a plain `def` dependency in the thread pool, a hop that costs more than these attribute reads
(issue 11 §3).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, HTTPException, Query, Request

from linter.api.auth import AuthError, ClientIdentity, JwtVerifier
from linter.api.log_hygiene import route_of
from linter.api.prefetch import PrefetchResolver
from linter.api.problems import ApiError
from linter.api.services import CdsService
from linter.profiles import Profile
from linter.settings import Settings
from linter.store.repository import Store
from linter.workbench.jobs import JobStore

log = logging.getLogger("orderlint.api.auth")


class Profiles(Mapping[str, Profile]):
    """The profiles the service may lint with, by id, the served ones first; `choose` is the one place a
    request's profile name (query, job declaration, upload form) becomes a profile."""

    def __init__(self, by_id: Mapping[str, Profile]) -> None:
        self._by_id = dict(by_id)

    def __getitem__(self, key: str) -> Profile:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def choose(self, name: str | None) -> Profile:
        """The profile named `name`, the first (default) one when no name is given; 400 for an unknown name."""
        chosen = self._by_id.get(name) if name else next(iter(self._by_id.values()), None)
        if chosen is None:
            known = ", ".join(self._by_id) or "none"
            raise ApiError(400, f"unknown profile '{(name or '')[:100]}'; loaded profiles: {known}", "profile")
        return chosen


@dataclass(slots=True)
class ServiceState:
    """What the lifespan builds once; the dependencies below hand out its parts."""

    settings: Settings
    store: Store
    jobs: JobStore
    profiles: Profiles
    services: dict[str, CdsService]
    http: httpx.AsyncClient
    resolver: PrefetchResolver
    verifier: JwtVerifier | None


def state_of(request: Request) -> ServiceState:
    """For code outside a handler's signature (middleware, helpers given the request)."""
    state: ServiceState = request.app.state.orderlint
    return state


async def _settings(request: Request) -> Settings:
    return state_of(request).settings


async def _store(request: Request) -> Store:
    return state_of(request).store


async def _jobs(request: Request) -> JobStore:
    return state_of(request).jobs


async def _profiles(request: Request) -> Profiles:
    return state_of(request).profiles


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
JobStoreDep = Annotated[JobStore, Depends(_jobs)]
ProfilesDep = Annotated[Profiles, Depends(_profiles)]


async def _profile(
    profiles: ProfilesDep,
    profile: Annotated[
        str | None, Query(max_length=200, description="Profile id; the service's default profile when absent.")
    ] = None,
) -> Profile:
    return profiles.choose(profile)


ProfileDep = Annotated[Profile, Depends(_profile)]
"""The profile named by the `profile` query parameter (400 OperationOutcome for an unknown one)."""


def _service_of(state: ServiceState, service_id: str) -> CdsService:
    service = state.services.get(service_id)
    if service is None:
        raise ApiError(404, f"there is no CDS service '{service_id[:100]}'", None, "not-found")
    return service


async def _service(service_id: str, request: Request) -> CdsService:
    return _service_of(state_of(request), service_id)


ServiceDep = Annotated[CdsService, Depends(_service)]
"""The CDS service of the path's `{service_id}` (404 OperationOutcome for an unknown one)."""


async def _services(request: Request) -> dict[str, CdsService]:
    return state_of(request).services


ServicesDep = Annotated[dict[str, CdsService], Depends(_services)]


def expected_audience(request: Request, settings: Settings) -> str:
    """The URL of the endpoint being called, as the client addresses it (public base URL + path)."""
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return base + request.url.path


async def require_client(request: Request) -> ClientIdentity | None:
    """Bearer JWT check on every CDS Hooks call when trusted issuers are configured; bare 401 otherwise."""
    return await _client_of(state_of(request), request)


async def _client_of(state: ServiceState, request: Request) -> ClientIdentity | None:
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


@dataclass(frozen=True, slots=True)
class HookCall:
    """What a CDS Hooks call needs. The hook route asks for it itself (`hook_call`), not as a FastAPI
    dependency: solving one (with the path parameter it validates) cost ~25 us a request, more than the
    bare route's whole handler (issue 11 §3). The same checks in the same order: the bearer token (401),
    then the service (404)."""

    client: ClientIdentity | None
    service: CdsService
    settings: Settings
    store: Store
    resolver: PrefetchResolver


async def hook_call(service_id: str, request: Request) -> HookCall:
    state = state_of(request)  # once: `app.state.orderlint` is a Python-level lookup
    client = await _client_of(state, request)
    return HookCall(client, _service_of(state, service_id), state.settings, state.store, state.resolver)
