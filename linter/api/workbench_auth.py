"""Who may use the pharmacist workbench (upload page, jobs, dashboard).

The CDS Hooks endpoints trust EHR-signed JWTs; a pharmacist's browser has none. So the workbench has its own
gate, decided by configuration:
- `ORDERLINT_WORKBENCH_USERS` set ("name:scrypt$<salt hex>$<hash hex>", comma-separated; make a line with
  `orderlint workbench-user NAME`): HTTP Basic authentication against those users (put TLS in front);
- not set, and CDS Hooks authentication on (`ORDERLINT_TRUSTED_ISSUERS`): the workbench is closed (403 with
  the reason), since a protected service must not expose an open upload page and override comments;
- not set, and authentication off (the loopback development default): open, like the rest of the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from linter.api.deps import StateDep
from linter.api.log_hygiene import route_of

log = logging.getLogger("orderlint.api.workbench_auth")

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~50 ms per check here, fine for a page login


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


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def workbench_user(request: Request) -> str | None:
    """The workbench user of this request (set by the gate; None when the workbench is open)."""
    user = getattr(request.state, "workbench_user", None)
    return user if isinstance(user, str) else None


async def require_workbench_user(request: Request, state: StateDep) -> str | None:
    request.state.workbench_user = None
    users = state.settings.workbench_users
    if not users:
        if state.settings.auth_enabled:
            raise HTTPException(
                status_code=403,
                detail="The pharmacist workbench is closed: CDS Hooks authentication is on and no workbench "
                "users are configured (ORDERLINT_WORKBENCH_USERS; see `orderlint workbench-user`).",
            )
        return None
    creds = _basic_credentials(request)
    if creds is not None and creds[0] in users and check_password(creds[1], users[creds[0]]):
        request.state.workbench_user = creds[0]
        return creds[0]
    if creds is not None:
        # no user name (it may be a mistyped password), no requested path (request text): the route template
        log.info("workbench login refused for a user on %s", route_of(request.scope))
    raise HTTPException(status_code=401, headers={"WWW-Authenticate": 'Basic realm="orderlint workbench"'})


WorkbenchUserDep = Annotated[str | None, Depends(require_workbench_user)]
