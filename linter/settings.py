"""Service configuration: environment variables with the prefix ORDERLINT_ (pydantic-settings).

`get_settings()` is cached; tests build their own `Settings(...)` and pass it to `create_app`.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./orderlint.db"
WorkbenchRole = Literal["pharmacist", "lead"]
WORKBENCH_ROLES: tuple[WorkbenchRole, ...] = ("pharmacist", "lead")


class WorkbenchAccount(BaseModel):
    """One HTTP Basic workbench user: the scrypt hash of the password and the role."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    password_hash: str
    role: WorkbenchRole = "pharmacist"


def _account(name: str, value: Any) -> Any:
    """ "[role:]scrypt$salt$hash" (a user-list entry after the name) as an account; other values as given."""
    if not isinstance(value, str):
        return value
    role, sep, stored = value.partition(":")
    if not sep:
        role, stored = "pharmacist", value
    if role not in WORKBENCH_ROLES or not stored.startswith("scrypt$"):
        raise ValueError(
            f"workbench user {name!r}: entries are name:scrypt$salt$hash or name:ROLE:scrypt$salt$hash "
            f"with ROLE one of {', '.join(WORKBENCH_ROLES)} (make them with `orderlint workbench-user`)"
        )
    return {"password_hash": stored.strip(), "role": role}


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERLINT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Run Alembic migrations when the app starts (`orderlint serve` runs them once and turns this off).
    migrate_on_start: bool = True
    # Profile ids to serve; empty means every available profile.
    profiles: Annotated[list[str], NoDecode] = Field(default_factory=list)
    lint_mode: Literal["fast", "strict"] = "fast"
    # Lint a synthetic request at start-up (linter.api.warmup), so the first hook call is as fast as the next
    # ones; off only to measure what it saves (bench/first_call.py).
    warm_on_start: bool = True

    # FHIR fallback for missing prefetch keys
    allowed_fhir_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fhir_timeout_s: float = 2.0
    fhir_max_pages: int = 5

    # CDS client authentication: issuer -> JWKS URL or local JWKS file (JSON object, or "iss=src,iss2=src2")
    trusted_issuers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # Public base URL of this service (e.g. https://cds.example.org); `aud` must equal it + the path called.
    public_base_url: str | None = None
    allowed_tenants: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jwt_leeway_s: int = 60
    jwt_max_lifetime_s: int = 3600
    jwks_cache_s: int = 300

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 5 * 1024 * 1024
    patient_id_salt: str | None = None

    # Retention (linter.purge: `orderlint purge`, and the service once a day): override comments are cleared,
    # cards issued and their feedback deleted, after this many days.
    feedback_comment_days: int = Field(default=365, ge=1)
    card_audit_days: int = Field(default=3660, ge=1)
    purge_interval_s: float = 24 * 3600  # how often the service purges; 0 or less: never (use cron)

    # Pharmacist workbench uploads (linter.workbench): where they go, and how much one upload may hold.
    upload_dir: str | None = None  # default: <system temp dir>/orderlint-uploads
    upload_max_bytes: int = 256 * 1024 * 1024
    upload_max_files: int = 5000
    upload_jobs: int = 1  # worker processes per lint job
    upload_ttl_s: int = 24 * 3600  # finished jobs and their files are deleted after this
    upload_idle_s: int = 3600  # jobs declared but never started: deleted this long after their last upload
    # Workbench login (linter.api.workbench_auth; README "Workbench login"). HTTP Basic users:
    # "name:[role:]scrypt$salt$hash,..." (role pharmacist, the default, or lead; `orderlint workbench-user`).
    workbench_users: Annotated[dict[str, WorkbenchAccount], NoDecode] = Field(default_factory=dict)
    # OpenID Connect (authorization code + PKCE): issuer URL (its discovery document is read), client, and
    # the claim holding the user's groups/roles; a user needs one of the pharmacist or lead groups.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scope: str = "openid email profile"
    oidc_groups_claim: str = "groups"
    workbench_pharmacist_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["orderlint-pharmacist"]
    )
    workbench_lead_groups: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["orderlint-lead"])
    # A reverse proxy that authenticates users (oauth2-proxy convention): its addresses (CIDRs) and headers.
    # The headers are ignored from any other address.
    workbench_trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    workbench_proxy_user_header: str = "X-Forwarded-User"
    workbench_proxy_email_header: str = "X-Forwarded-Email"
    workbench_proxy_groups_header: str = "X-Forwarded-Groups"
    # The session cookie: signing key (default: derived from the database's shared salt), lifetime, and
    # Secure (None: when the request came over TLS, directly or per the trusted proxy's X-Forwarded-Proto).
    workbench_session_secret: str | None = None
    workbench_session_max_age_s: int = 8 * 3600
    workbench_cookie_secure: bool | None = None

    @field_validator(
        "profiles",
        "allowed_fhir_servers",
        "allowed_tenants",
        "cors_origins",
        "workbench_pharmacist_groups",
        "workbench_lead_groups",
        "workbench_trusted_proxies",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("allowed_fhir_servers", mode="after")
    @classmethod
    def _strip_trailing_slash(cls, value: list[str]) -> list[str]:
        return [v.rstrip("/") for v in value]

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _issuer_map(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return {}
        if text.startswith("{"):
            return json.loads(text)
        pairs = (part.split("=", 1) for part in _split_commas(text))
        return {iss.strip(): src.strip() for iss, src in pairs}

    @field_validator("workbench_users", mode="before")
    @classmethod
    def _user_map(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: _account(name, v) for name, v in value.items()}
        if not isinstance(value, str):
            return value
        users = {}
        for part in _split_commas(value):
            name, sep, stored = part.partition(":")
            if not sep or not name.strip():
                raise ValueError("ORDERLINT_WORKBENCH_USERS entries are name:[role:]scrypt$salt$hash")
            users[name.strip()] = _account(name.strip(), stored.strip())
        return users

    @field_validator("workbench_trusted_proxies", mode="after")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(v, strict=False)) for v in value]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.trusted_issuers)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
