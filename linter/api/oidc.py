"""Workbench login through the hospital's OpenID Connect provider: authorization code flow with PKCE (S256),
through Authlib's Starlette client. Configured with the issuer URL (its discovery document gives the
endpoints and keys), a client id and secret, and the claim that carries the user's groups.

    GET  /login?next=/jobs/...   to the provider's authorization endpoint (state, nonce, code_challenge)
    GET  /auth/callback          code -> tokens; the ID token is verified (signature, issuer, audience, nonce);
                                 a user in a pharmacist or lead group gets a fresh session, others 403
    POST /logout                 ends the session (CSRF token required), then GET /logged-out

The session (signed cookie, linter.api.websecurity) holds the user's name and role, the CSRF token, and
during the login Authlib's state, nonce and PKCE verifier. Login failures are answered with a reason and
logged without any token or claim value.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from typing import Any

import httpx
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from linter.api.problems import ApiError
from linter.api.websecurity import CSRF_FIELD, CSRF_HEADER, csrf_ok
from linter.api.workbench_auth import SESSION_USER, WorkbenchIdentity, audit, role_from_groups, split_groups
from linter.render.html import environment
from linter.settings import Settings

with warnings.catch_warnings():
    # Authlib 1.9 announces at import that its httpx client will move to the httpx2 package; nothing to act
    # on here, and it would print on every server start. (authlib.deprecate installs an "always" filter when
    # imported, so it is imported first and our filter goes in front of it.)
    import authlib.deprecate  # noqa: F401

    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=DeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError

log = logging.getLogger("orderlint.api.oidc")

PROVIDER = "hospital"


def safe_next(target: str | None) -> str:
    """A local path to return to after login (never another site: no scheme, no '//', no backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:2000]


def make_oauth(settings: Settings) -> OAuth:
    oauth = OAuth()
    issuer = (settings.oidc_issuer or "").rstrip("/")
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256", "timeout": 10.0},
    )
    return oauth


def _callback_url(request: Request, settings: Settings) -> str:
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return f"{base}/auth/callback"


def router_for(settings: Settings) -> APIRouter:
    """The login routes for these settings (one Authlib registry per app)."""
    oauth = make_oauth(settings)
    router = APIRouter(tags=["workbench"], include_in_schema=False)

    @router.get("/login")
    async def login(request: Request, target: str | None = Query(default=None, alias="next")) -> Response:
        client = oauth.create_client(PROVIDER)
        request.session["login_next"] = safe_next(target)
        try:
            response: Response = await client.authorize_redirect(request, _callback_url(request, settings))
        except (httpx.HTTPError, OAuthError, ValueError) as exc:
            log.warning("OIDC discovery failed: %s", type(exc).__name__)
            raise ApiError(
                503, "the hospital login (OpenID Connect provider) cannot be reached", None, "transient"
            ) from None
        return response

    @router.get("/auth/callback")
    async def callback(request: Request) -> Response:
        client = oauth.create_client(PROVIDER)
        try:
            token: dict[str, Any] = await client.authorize_access_token(request)
            claims: dict[str, Any] = dict(token.get("userinfo") or {})
            if settings.oidc_groups_claim not in claims:  # some providers put groups in userinfo only
                claims.update(await client.userinfo(token=token))
        except OAuthError as exc:
            log.info("OIDC login refused by the provider (%s)", type(exc).__name__)  # its error text is request text
            raise ApiError(
                403, "the login did not succeed; go back to the workbench and log in again", None, "login"
            ) from None
        except httpx.HTTPError as exc:
            log.warning("OIDC token exchange failed: %s", type(exc).__name__)
            raise ApiError(
                503, "the hospital login (OpenID Connect provider) cannot be reached", None, "transient"
            ) from None
        name = next(
            (v for k in ("preferred_username", "email", "sub") if isinstance(v := claims.get(k), str) and v), None
        )
        role = role_from_groups(split_groups(claims.get(settings.oidc_groups_claim)), settings)
        if name is None or role is None:
            log.info("OIDC login refused: no allowed group in claim %s", settings.oidc_groups_claim)
            raise ApiError(403, "your account is not in a group allowed to use the workbench", None, "forbidden")
        target = safe_next(request.session.get("login_next"))
        request.session.clear()  # a fresh session (and CSRF token) at login: no session fixation
        request.session[SESSION_USER] = {"name": name[:200], "role": role, "method": "oidc"}
        request.session["csrf"] = secrets.token_urlsafe(32)
        request.state.workbench_identity = WorkbenchIdentity(name[:200], role, "oidc")
        await run_in_threadpool(audit, request, "login")
        return RedirectResponse(target, status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        field = form.get(CSRF_FIELD)
        sent = request.headers.get(CSRF_HEADER) or (field if isinstance(field, str) else None)
        if not csrf_ok(request, sent):
            raise ApiError(
                403, "the form's security token is missing or out of date; reload the page", None, "forbidden"
            )
        request.session.clear()
        return RedirectResponse("/logged-out", status_code=303)

    @router.get("/logged-out", response_class=HTMLResponse)
    async def logged_out() -> HTMLResponse:
        return HTMLResponse(environment().get_template("logged_out.html").render(identity=None, csrf_token=None))

    return router
