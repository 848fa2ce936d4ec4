"""The workbench behind the hospital's OpenID Connect login, in a real browser: chromium is sent to a real
OIDC provider on loopback (oidc-provider-mock), logs in, uploads, views the results, downloads the report;
a second pharmacist cannot open the first one's job; the page runs under the strict CSP without a violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oidc_provider_mock import User, run_server_in_thread

from tests.browser.conftest import ARTIFACTS, CHROMIUM, Server, _need_chromium, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "workbench" / "data"
USERS = [
    User(sub="alice", claims={"email": "alice@hospital.example", "groups": ["orderlint-pharmacist"]}),
    User(sub="bob", claims={"email": "bob@hospital.example", "groups": ["orderlint-pharmacist"]}),
]


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    _need_chromium()
    with run_server_in_thread(port=0, user_claims=USERS) as provider:
        yield f"http://localhost:{provider.server_port}"


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, issuer: str) -> Iterator[Server]:
    yield from start_server(
        tmp_path_factory.mktemp("oidc"),
        ORDERLINT_OIDC_ISSUER=issuer,
        ORDERLINT_OIDC_CLIENT_ID="orderlint-workbench",
        ORDERLINT_OIDC_CLIENT_SECRET="browser-test-secret",
    )


def _watch_csp(page: Any) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def _login(page: Any, base: str, sub: str, path: str = "/") -> None:
    page.goto(base + path)
    page.get_by_role("button", name=sub, exact=True).click()  # the provider's login page: a predefined user
    page.wait_for_url(base + path)


def test_login_upload_view_download_and_the_second_pharmacist_is_refused(
    oidc_server: Server, browser: Any, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    alice_context = browser.new_context(accept_downloads=True)
    page = alice_context.new_page()
    violations = _watch_csp(page)
    page.goto(oidc_server.base_url + "/")
    assert "/oauth2/authorize" in page.url and "code_challenge_method=S256" in page.url  # at the provider
    page.get_by_role("button", name="alice", exact=True).click()
    page.wait_for_url(oidc_server.base_url + "/")
    assert "alice@hospital.example (pharmacist)" in page.locator("#current-user").inner_text()
    page.screenshot(path=str(ARTIFACTS / "oidc-01-logged-in.png"), full_page=True)

    page.get_by_label("Files").set_input_files([str(DATA / "heparin-overdose.json")])
    page.get_by_role("button", name="Lint files").click()
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.get_by_role("heading", name="Results").wait_for()
    job_url = page.url
    assert page.locator('tbody.row-group[data-code="HEP201"]').count() >= 1
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    assert "HEP201" in Path(info.value.path()).read_text()
    page.screenshot(path=str(ARTIFACTS / "oidc-02-results.png"), full_page=True)
    assert violations == []

    bob_context = browser.new_context()
    bob = bob_context.new_page()
    _login(bob, oidc_server.base_url, "bob")
    answer = bob.goto(job_url)
    assert answer is not None and answer.status == 404

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/logged-out*")
    again = page.goto(job_url)
    assert again is not None and "/oauth2/authorize" in page.url  # back at the provider's login
    alice_context.close()
    bob_context.close()
