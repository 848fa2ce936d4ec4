"""Helpers for talking to the workbench as its page does: the CSRF token is read from a rendered page."""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi.testclient import TestClient

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(client: TestClient, headers: Mapping[str, str] | None = None) -> str:
    """The session's CSRF token, from the upload page (the client keeps the session cookie)."""
    page = client.get("/", headers=dict(headers or {}))
    assert page.status_code == 200, page.text
    found = CSRF_META.search(page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def with_csrf(client: TestClient, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), "X-CSRF-Token": csrf_token(client, headers)}


def use_csrf(client: TestClient) -> TestClient:
    """Send the session's CSRF token on every later request of this client, as the page's script does."""
    client.headers["X-CSRF-Token"] = csrf_token(client)
    return client
