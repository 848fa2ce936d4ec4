"""Database fixtures: SQLite in a temporary directory, and the real PostgreSQL server (marker `postgres`).

PostgreSQL tests skip when the server is unreachable on a developer machine, but FAIL when the CI
environment variable is set: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("ORDERLINT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'orderlint-test.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards, as a URL with that search_path."""
    base = postgres_url()
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {base}: {type(exc).__name__}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI requires the PostgreSQL tests)")
        pytest.skip(message)
    schema = f"orderlint_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_schema_url")
    return url
