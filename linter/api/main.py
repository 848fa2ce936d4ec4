"""Assemble the FastAPI app. `create_app(settings)` is the factory; `app_factory` is uvicorn's entry point.

Nothing happens at import time: migrations, database, profiles, the upload job store and the HTTP client are
set up once in the lifespan and handed to handlers by linter.api.deps, so tests must enter the app
(`with TestClient(app)`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles

from linter import __version__
from linter.api import oidc
from linter.api.auth import JwksCache, JwtVerifier
from linter.api.deps import Profiles, ServiceState
from linter.api.hook_fast_path import HookFastPath
from linter.api.log_hygiene import RouteScopeMiddleware, install_access_log_filter
from linter.api.middleware import BodyLimitMiddleware, ErrorOutcomeMiddleware
from linter.api.prefetch import PrefetchResolver
from linter.api.problems import install_handlers
from linter.api.routes import dashboard, discovery, feedback, health, hooks, lint, pages, rules, workbench
from linter.api.services import services_for
from linter.api.warmup import warm
from linter.api.websecurity import SecurityHeadersMiddleware, WorkbenchSessionMiddleware
from linter.api.workbench_auth import require_workbench_user
from linter.profiles import DEFAULT_PROFILE, Profile, available_profiles, load_profile
from linter.purge import start_daily_purge, stop_daily_purge
from linter.render.html import STATIC_DIR
from linter.settings import Settings, get_settings
from linter.store.migrate import upgrade
from linter.store.repository import Store
from linter.workbench.jobs import JobStore

log = logging.getLogger("orderlint.api")


def served_profiles(settings: Settings) -> dict[str, Profile]:
    """The profiles whose CDS services discovery lists and the service answers: those ORDERLINT_PROFILES
    names, else the default profile only. A CDS client enables every service it is shown, and every profile
    answers the same order with the same cards, so listing them all would show each card once per profile."""
    available = available_profiles()  # the default profile first
    if not settings.profiles:
        default = next(iter(available.values()), None) or load_profile(DEFAULT_PROFILE)
        return {default.id: default}
    served: dict[str, Profile] = {}
    for name in settings.profiles:
        profile = available.get(name) or load_profile(name)
        served[profile.id] = profile
    return served


def load_profiles(settings: Settings) -> tuple[dict[str, Profile], dict[str, Profile]]:
    """(every profile, the served first: what the workbench, /lint and the rule pages may choose from;
    the served profiles, whose CDS services are listed)."""
    served = served_profiles(settings)
    everything = dict(served)
    for profile_id, profile in available_profiles().items():
        everything.setdefault(profile_id, profile)
    return everything, served


def _quiet_libraries() -> None:
    # httpx (and its successor httpx2, which Starlette's test client and Authlib may use) logs every request
    # URL at INFO, and our FHIR URLs carry patient ids.
    for name in ("httpx", "httpcore", "httpx2", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _quiet_libraries()
    install_access_log_filter()  # uvicorn's access line: the route template, not the requested path

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await run_in_threadpool(upgrade, settings.database_url)
        store = Store.from_url(settings.database_url, settings.patient_id_salt)
        await run_in_threadpool(store.salt)  # load or create the shared salt before the first request
        profiles, served = await run_in_threadpool(load_profiles, settings)
        jobs = await run_in_threadpool(JobStore.from_settings, settings)  # creates the upload directory
        if settings.warm_on_start:  # before the server accepts a connection: /readyz means ready to lint
            await run_in_threadpool(warm, list(profiles.values()))
        http = httpx.AsyncClient(
            timeout=settings.fhir_timeout_s,
            follow_redirects=False,  # a redirect could leave the allowed FHIR servers
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        verifier = None
        if settings.auth_enabled:
            verifier = JwtVerifier(
                trusted_issuers=settings.trusted_issuers,
                jwks=JwksCache(http, ttl_s=settings.jwks_cache_s, timeout_s=settings.fhir_timeout_s),
                remember_jti=store.remember_jti,
                allowed_tenants=settings.allowed_tenants,
                leeway_s=settings.jwt_leeway_s,
                max_lifetime_s=settings.jwt_max_lifetime_s,
            )
        else:
            log.warning(
                "AUTHENTICATION IS OFF: any caller can use this service. "
                "Set ORDERLINT_TRUSTED_ISSUERS before exposing it beyond this machine."
            )
        app.state.orderlint = ServiceState(
            settings=settings,
            store=store,
            jobs=jobs,
            profiles=Profiles(profiles),
            services=services_for(list(served.values())),
            http=http,
            resolver=PrefetchResolver(
                http,
                allowed_servers=settings.allowed_fhir_servers,
                timeout_s=settings.fhir_timeout_s,
                max_pages=settings.fhir_max_pages,
            ),
            verifier=verifier,
        )
        purge = start_daily_purge(settings, store.engine)  # retention rules, once a day
        try:
            yield
        finally:
            await stop_daily_purge(purge)
            jobs.close()
            await http.aclose()
            store.dispose()

    app = FastAPI(title="orderlint CDS Hooks service", version=__version__, lifespan=lifespan)
    install_handlers(app)
    for module in (health, discovery, hooks, feedback, lint, rules):  # rules: public rule pages, no patient data
        app.include_router(module.router)
    for module in (pages, workbench, dashboard):  # the pharmacist workbench, behind its own gate
        app.include_router(module.router, dependencies=[Depends(require_workbench_user)])
    if settings.oidc_enabled:  # /login, /auth/callback, /logout
        app.include_router(oidc.router_for(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(HookFastPath)  # innermost: the hook call past the router, inside every middleware
    app.add_middleware(ErrorOutcomeMiddleware)  # its 500 passes through the others (CORS)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(WorkbenchSessionMiddleware, settings=settings)  # signed cookie: login, CSRF token
    app.add_middleware(SecurityHeadersMiddleware)  # CSP, nosniff, Referrer-Policy on every answer
    if settings.cors_origins:  # off by default; added last so that it wraps 401 and 413 answers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(RouteScopeMiddleware)  # outermost: the access log filter reads the request's route
    return app


def app_factory() -> FastAPI:
    """uvicorn entry point (`linter.api.main:app_factory`, factory=True)."""
    return create_app()
