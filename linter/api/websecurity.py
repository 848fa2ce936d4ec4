"""Browser-facing protections for the pharmacist workbench: security headers on every answer, the signed
session cookie, and the CSRF token that every state-changing workbench request must carry.

- Security headers (`SecurityHeadersMiddleware`): a strict Content-Security-Policy (scripts and styles from
  this origin only, no inline script, no framing), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
  no-referrer`. A response that sets its own CSP (the self-contained HTML report, whose inline script and
  style are allowed by hash) keeps it.
- Session (`WorkbenchSessionMiddleware`): Starlette's SessionMiddleware (itsdangerous-signed, HttpOnly,
  SameSite=Lax). `Secure` when the request came over TLS: the scheme uvicorn saw, which is the trusted
  proxy's `X-Forwarded-Proto` only when the proxy is in uvicorn's `forwarded_allow_ips` (`orderlint serve`
  sets those to `ORDERLINT_WORKBENCH_TRUSTED_PROXIES`), or always/never with `ORDERLINT_WORKBENCH_COOKIE_SECURE`.
  The signing key is `ORDERLINT_WORKBENCH_SESSION_SECRET`, or derived from the salt the database keeps for
  every worker, so that sessions survive restarts and work across workers without configuration.
- CSRF: a random token kept in the session, rendered into each page (`<meta name="csrf-token">` and a hidden
  `csrf_token` form field); a POST/PUT/PATCH/DELETE to the workbench must send it back (`X-CSRF-Token`
  header or the form field), compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linter.settings import Settings

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",  # for browsers without frame-ancestors
}
SECURITY_HEADERS_RAW = tuple(
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()
)
SESSION_COOKIE = "orderlint_session"
# CDS Hooks calls and feedback: no route under it reads or writes the session, so Starlette's SessionMiddleware
# would only parse the cookies and wrap `send` for nothing (it changes no header for an untouched session).
SESSIONLESS_PREFIX = "/cds-services/"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def inline_csp(*, scripts: tuple[str, ...] = (), styles: tuple[str, ...] = ()) -> str:
    """The strict CSP, plus exactly these inline script and style bodies (by SHA-256), nothing else inline."""

    def sources(bodies: tuple[str, ...]) -> str:
        hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in bodies]
        return " ".join(hashes) or "'none'"

    return (
        f"default-src 'none'; script-src {sources(scripts)}; style-src {sources(styles)}; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP answer (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # MutableHeaders' `name not in headers` / `headers[name] = value`, on the raw list directly
                headers = message["headers"] = list(message["headers"])
                present = {key for key, _ in headers}
                headers.extend(item for item in SECURITY_HEADERS_RAW if item[0] not in present)
            await send(message)

        await self.app(scope, receive, with_headers)


def session_secret(settings: Settings, database_salt: str) -> str:
    if settings.workbench_session_secret:
        return settings.workbench_session_secret
    return hmac.new(database_salt.encode(), b"orderlint workbench session cookie", hashlib.sha256).hexdigest()


class WorkbenchSessionMiddleware:
    """Starlette's SessionMiddleware with the `Secure` flag chosen per request (see the module docstring).
    The signing key needs the database salt, so the two inner middlewares are built on the first request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._plain: SessionMiddleware | None = None
        self._secure: SessionMiddleware | None = None

    def _build(self, scope: Scope) -> tuple[SessionMiddleware, SessionMiddleware]:
        if self._plain is None or self._secure is None:
            salt: str = scope["app"].state.orderlint.store.salt()
            secret = session_secret(self.settings, salt)
            options: dict[str, Any] = {
                "session_cookie": SESSION_COOKIE,
                "max_age": self.settings.workbench_session_max_age_s,
                "same_site": "lax",
            }
            self._plain = SessionMiddleware(self.app, secret, https_only=False, **options)
            self._secure = SessionMiddleware(self.app, secret, https_only=True, **options)
        return self._plain, self._secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SESSIONLESS_PREFIX):
            await self.app(scope, receive, send)
            return
        plain, secure = self._build(scope)
        forced = self.settings.workbench_cookie_secure
        use_secure = forced if forced is not None else scope.get("scheme") == "https"
        await (secure if use_secure else plain)(scope, receive, send)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use), for the page to render."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)
