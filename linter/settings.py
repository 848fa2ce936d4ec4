"""Service configuration: environment variables with the prefix ORDERLINT_ (pydantic-settings).

`get_settings()` is cached; tests build their own `Settings(...)` and pass it to `create_app`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./orderlint.db"


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
    # Workbench users for HTTP Basic: "name:scrypt$salt$hash,..." (linter.api.workbench_auth)
    workbench_users: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)

    @field_validator("profiles", "allowed_fhir_servers", "allowed_tenants", "cors_origins", mode="before")
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
        if not isinstance(value, str):
            return value
        users = {}
        for part in _split_commas(value):
            name, sep, stored = part.partition(":")
            if not sep or not name.strip() or not stored.startswith("scrypt$"):
                raise ValueError("ORDERLINT_WORKBENCH_USERS entries are name:scrypt$salt$hash")
            users[name.strip()] = stored.strip()
        return users

    @property
    def auth_enabled(self) -> bool:
        return bool(self.trusted_issuers)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
