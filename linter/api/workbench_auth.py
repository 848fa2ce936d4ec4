"""Who may use the pharmacist workbench (upload page, jobs, dashboard, audit), and with which role.

The CDS Hooks endpoints trust EHR-signed JWTs; a pharmacist's browser has none. So the workbench has its own
gate, decided by configuration (README "Workbench login"); the first that applies wins:
1. a trusted reverse proxy (`ORDERLINT_WORKBENCH_TRUSTED_PROXIES`, CIDRs): a request *from one of those
   addresses* carrying the user header (oauth2-proxy's `X-Forwarded-User`/`-Email`/`-Groups`, names
   configurable) is that user; from any other address the headers are ignored;
2. OpenID Connect (`ORDERLINT_OIDC_ISSUER` and client): the user of the signed session cookie made at login
   (linter.api.oidc); without one, a page request is sent to `/login`, an API call gets 401;
3. HTTP Basic against `ORDERLINT_WORKBENCH_USERS` (`orderlint workbench-user NAME --role ROLE`);
4. none configured: closed (403) when CDS Hooks authentication is on, open otherwise (loopback development).

Roles: `pharmacist` (own jobs; dashboard without free-text comments) and `lead` (all jobs, comments, the
audit page). From the proxy's groups header or the OIDC groups claim (`ORDERLINT_WORKBENCH_LEAD_GROUPS`,
`ORDERLINT_WORKBENCH_PHARMACIST_GROUPS`; a user in neither is refused), or the Basic user list. The open
workbench has no users: everything is visible, as before logins existed.

Every POST/PUT/PATCH/DELETE to the workbench must carry the session's CSRF token (linter.api.websecurity).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from linter.api.deps import JobStoreDep, SettingsDep, state_of
from linter.api.log_hygiene import route_of
from linter.api.websecurity import CSRF_FIELD, CSRF_HEADER, UNSAFE_METHODS, csrf_ok
from linter.settings import Settings, WorkbenchRole
from linter.store.audit import AuditAction, AuditEvent, record
from linter.workbench.jobs import UploadLimits

log = logging.getLogger("orderlint.api.workbench_auth")

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~50 ms per check here, fine for a page login
Method = Literal["open", "basic", "oidc", "proxy"]
SESSION_USER = "workbench_user"  # the session key of the logged-in user (OIDC, and login audit for the rest)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=_N, r=_R, p=_P, dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), hash_hex)


@dataclass(frozen=True)
class WorkbenchIdentity:
    name: str | None  # None: the open workbench (no users configured)
    role: WorkbenchRole
    method: Method

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


OPEN = WorkbenchIdentity(None, "lead", "open")


def role_from_groups(groups: Iterable[str], settings: Settings) -> WorkbenchRole | None:
    """The role a set of groups grants (lead wins), or None when it grants none."""
    have = set(groups)
    if have & set(settings.workbench_lead_groups):
        return "lead"
    if have & set(settings.workbench_pharmacist_groups):
        return "pharmacist"
    return None


def split_groups(value: object) -> list[str]:
    """Groups from a claim or header: a JSON list, or a comma/space-separated string."""
    if isinstance(value, str):
        return [g for g in value.replace(",", " ").split() if g]
    if isinstance(value, list):
        return [g for g in value if isinstance(g, str)]
    return []


def login_configured(settings: Settings) -> bool:
    return bool(settings.workbench_trusted_proxies or settings.oidc_enabled or settings.workbench_users)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    """True when the peer (as uvicorn sees it) is one of the configured proxy networks."""
    if not settings.workbench_trusted_proxies or request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(cidr) for cidr in settings.workbench_trusted_proxies)


def _proxy_identity(request: Request, settings: Settings) -> WorkbenchIdentity | None:
    if not from_trusted_proxy(request, settings):
        return None
    user = request.headers.get(settings.workbench_proxy_user_header, "").strip()
    email = request.headers.get(settings.workbench_proxy_email_header, "").strip()
    name = user or email
    if not name:
        return None
    role = role_from_groups(split_groups(request.headers.get(settings.workbench_proxy_groups_header, "")), settings)
    if role is None:
        raise HTTPException(status_code=403, detail="Your account is not in a group allowed to use the workbench.")
    return WorkbenchIdentity(name[:200], role, "proxy")


def _session_identity(request: Request) -> WorkbenchIdentity | None:
    data = request.session.get(SESSION_USER)
    if not isinstance(data, dict) or data.get("method") != "oidc":
        return None
    name, role = data.get("name"), data.get("role")
    if not isinstance(name, str) or role not in ("pharmacist", "lead"):
        return None
    return WorkbenchIdentity(name, role, "oidc")


def _basic_identity(request: Request, settings: Settings) -> WorkbenchIdentity | None:
    creds = _basic_credentials(request)
    if creds is None:
        return None
    account = settings.workbench_users.get(creds[0])
    if account is not None and check_password(creds[1], account.password_hash):
        return WorkbenchIdentity(creds[0], account.role, "basic")
    # no user name (it may be a mistyped password), no requested path (request text): the route template
    log.info("workbench login refused for a user on %s", route_of(request.scope))
    return None


def _login_required(request: Request, settings: Settings) -> HTTPException:
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if settings.oidc_enabled and wants_page:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTTPException(status_code=303, detail="log in first", headers={"Location": login_url(target)})
    if settings.workbench_users:
        return HTTPException(status_code=401, headers={"WWW-Authenticate": 'Basic realm="orderlint workbench"'})
    return HTTPException(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="orderlint workbench"'})


def login_url(target: str) -> str:
    return "/login?next=" + quote(target, safe="/")


def audit(request: Request, action: AuditAction, job_id: str | None = None, detail: str | None = None) -> None:
    """Record that this request's user did `action` (nothing for the open workbench, which has no users)."""
    identity = current_identity(request)
    if identity.name is None:
        return
    event = AuditEvent(datetime.now(UTC), identity.name, identity.role, identity.method, action, job_id, detail)
    record(state_of(request).store.engine, event)


def _first_sight(request: Request, identity: WorkbenchIdentity) -> bool:
    """True once per browser session and user: a Basic or proxy user's 'login' (OIDC logs at the callback)."""
    key = f"{identity.method}:{identity.name}"
    if request.session.get("audited_login") == key:
        return False
    request.session["audited_login"] = key
    return True


async def _check_csrf(request: Request, limits: UploadLimits) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        # the upload form: parsed once here, read again by the route
        form = await request.form(max_files=limits.max_files + 1, max_fields=20)
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not csrf_ok(request, sent):
        raise HTTPException(
            status_code=403,
            detail="The form's security token is missing or out of date (CSRF protection): reload the page "
            "and try again.",
        )


async def require_workbench_user(request: Request, settings: SettingsDep, jobs: JobStoreDep) -> WorkbenchIdentity:
    request.state.workbench_identity = OPEN
    if not login_configured(settings):
        if settings.auth_enabled:
            raise HTTPException(
                status_code=403,
                detail="The pharmacist workbench is closed: CDS Hooks authentication is on and no workbench "
                "login is configured (ORDERLINT_WORKBENCH_USERS, ORDERLINT_OIDC_ISSUER or "
                "ORDERLINT_WORKBENCH_TRUSTED_PROXIES; see `orderlint workbench-user` and the README).",
            )
        identity = OPEN
    else:
        found = _proxy_identity(request, settings)
        if found is None and settings.oidc_enabled:
            found = _session_identity(request)
        if found is None and settings.workbench_users:
            found = await run_in_threadpool(_basic_identity, request, settings)
        if found is None:
            raise _login_required(request, settings)
        identity = found
    request.state.workbench_identity = identity
    await _check_csrf(request, jobs.limits)
    if identity.method in ("basic", "proxy") and _first_sight(request, identity):
        await run_in_threadpool(audit, request, "login")
    return identity


def current_identity(request: Request) -> WorkbenchIdentity:
    """The workbench identity the gate found for this request."""
    identity = getattr(request.state, "workbench_identity", None)
    return identity if isinstance(identity, WorkbenchIdentity) else OPEN


def workbench_user(request: Request) -> str | None:
    """The workbench user's name (None when the workbench is open): the owner of the jobs they upload."""
    return current_identity(request).name


WorkbenchUserDep = Annotated[WorkbenchIdentity, Depends(require_workbench_user)]
