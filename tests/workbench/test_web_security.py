"""Security headers on every answer, CSRF tokens on every state-changing workbench request, roles
(pharmacist: own jobs, no comments; lead: all jobs, comments, audit trail) and the audit trail itself."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from linter.api.workbench_auth import hash_password
from linter.store.repository import CardRecord, FeedbackRecord
from tests.workbench.conftest import DATA, make_settings
from tests.workbench.web import with_csrf

PAGES = ["/", "/dashboard", "/audit", "/static/workbench.css", "/static/upload.js", "/healthz", "/cds-services"]
COMMENT = "Patient already on a reduced heparin protocol"


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ALICE, BOB, LEAD = (
    _basic("alice", "alice-password-1"),
    _basic("bob", "bob-password-22"),
    _basic("lea", "lead-password-3"),
)


@pytest.fixture
def users_client(tmp_path: Path) -> Iterator[TestClient]:
    from linter.api.main import create_app

    users = {
        "alice": hash_password("alice-password-1"),
        "bob": hash_password("bob-password-22"),
        "lea": "lead:" + hash_password("lead-password-3"),
    }
    with TestClient(create_app(make_settings(tmp_path, workbench_users=users))) as client:
        yield client


def test_security_headers_on_every_answer(wb_client: TestClient) -> None:
    for path in [*PAGES, "/no-such-page", "/workbench/jobs/0123456789abcdef0123456789abcdef"]:
        response = wb_client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, path
        assert re.search(r"script-src 'self'(;|$)", csp), path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path


def test_pages_have_no_inline_script_or_style(wb_client: TestClient, tmp_path: Path) -> None:
    for path in ("/", "/dashboard", "/audit"):
        html = wb_client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html and "onclick=" not in html, path
    templates = Path(__file__).resolve().parents[2] / "linter" / "render" / "templates"
    for template in templates.glob("*.html"):
        if template.name in ("report.html", "rule.html"):  # self-contained pages: their inline style by hash
            continue
        text = template.read_text()
        assert "<script>" not in text and "<style" not in text and "style=" not in text, template.name


def test_the_downloaded_html_report_allows_exactly_its_own_inline_script_and_style(wb_client: TestClient) -> None:
    from tests.workbench.test_jobs import _run_job

    job = _run_job(wb_client, ["heparin-overdose.json"])
    response = wb_client.get(f"/workbench/jobs/{job}/report.html")
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    for tag in ("script", "style"):
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", response.text, re.S)
        assert len(bodies) == 1
        digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, tag


def test_the_rule_page_allows_exactly_its_own_inline_style(wb_client: TestClient) -> None:
    response = wb_client.get("/rules/AT106", headers={"Accept": "text/html"})
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    (body,) = re.findall(r"<style>(.*?)</style>", response.text, re.S)
    assert "<script" not in response.text
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


def test_state_changing_requests_need_the_csrf_token(users_client: TestClient) -> None:
    declaration = {"files": [{"name": "a.json", "size": 2}]}
    refused = users_client.post("/workbench/jobs", json=declaration, headers=ALICE)
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = users_client.post("/workbench/jobs", json=declaration, headers={**ALICE, "X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert (
        users_client.post("/workbench/jobs", json=declaration, headers=with_csrf(users_client, ALICE)).status_code
        == 201
    )
    # the no-JavaScript form sends it as a form field
    files = [("files", ("a.json", (DATA / "heparin-overdose.json").read_bytes(), "application/json"))]
    no_field = users_client.post("/workbench/upload", files=files, headers=ALICE, follow_redirects=False)
    assert no_field.status_code == 403
    token = with_csrf(users_client, ALICE)["X-CSRF-Token"]
    ok = users_client.post(
        "/workbench/upload", files=files, data={"csrf_token": token}, headers=ALICE, follow_redirects=False
    )
    assert ok.status_code == 303, ok.text
    # a fresh browser (another session) cannot reuse the token
    users_client.cookies.clear()
    stale = users_client.post("/workbench/jobs", json=declaration, headers={**ALICE, "X-CSRF-Token": token})
    assert stale.status_code == 403


def _job(client: TestClient, auth: dict[str, str]) -> str:
    blob = (DATA / "heparin-overdose.json").read_bytes()
    headers = with_csrf(client, auth)
    job: str = client.post(
        "/workbench/jobs", json={"files": [{"name": "h.json", "size": len(blob)}]}, headers=headers
    ).json()["id"]
    assert client.put(f"/workbench/jobs/{job}/files/0?offset=0", content=blob, headers=headers).status_code == 200
    assert client.post(f"/workbench/jobs/{job}/start", headers=headers).status_code == 202
    while client.get(f"/workbench/jobs/{job}", headers=auth).json()["state"] != "done":
        time.sleep(0.05)
    return job


def test_roles_pharmacists_see_their_own_jobs_leads_see_all(users_client: TestClient) -> None:
    job = _job(users_client, ALICE)
    for path in (f"/jobs/{job}", f"/workbench/jobs/{job}", f"/workbench/jobs/{job}/report.csv"):
        assert users_client.get(path, headers=ALICE).status_code == 200, path
        assert users_client.get(path, headers=BOB).status_code == 404, path
        assert users_client.get(path, headers=LEAD).status_code == 200, path


def test_comments_on_the_dashboard_for_leads_only(users_client: TestClient) -> None:
    store = users_client.app.state.orderlint.store  # type: ignore[attr-defined]
    store.record_cards("svc", "hook-1", None, [CardRecord(card_uuid="card-1", rule_code="HEP201", indicator="warning")])
    item = FeedbackRecord(
        card_uuid="card-1", outcome="overridden", outcome_timestamp=datetime.now(UTC), user_comment=COMMENT
    )
    store.record_feedback("svc", [item])
    assert COMMENT in users_client.get("/dashboard", headers=LEAD).text
    pharmacist = users_client.get("/dashboard", headers=ALICE)
    assert pharmacist.status_code == 200 and "HEP201" in pharmacist.text
    assert COMMENT not in pharmacist.text


def test_the_audit_trail_records_logins_views_downloads_for_leads(users_client: TestClient) -> None:
    job = _job(users_client, ALICE)
    users_client.get(f"/jobs/{job}", headers=ALICE)
    users_client.get(f"/workbench/jobs/{job}/report.json", headers=ALICE)
    assert users_client.get("/audit", headers=ALICE).status_code == 403
    assert users_client.get("/audit", headers=BOB).status_code == 403
    page = users_client.get("/audit", headers=LEAD)
    assert page.status_code == 200
    rows = re.findall(
        r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>"
        r"<td>(?:<code>([0-9a-f]*)</code>)?</td><td>([^<]*)</td></tr>",
        page.text,
    )
    events = {(user, action, job_id, detail) for user, _role, _method, action, job_id, detail in rows}
    assert ("alice", "login", "", "") in events
    assert ("alice", "job-view", job, "") in events
    assert ("alice", "report-download", job, "json") in events
    assert ("lea", "login", "", "") in events
    assert "Patient" not in page.text and "heparin" not in page.text.lower()  # nothing from the upload
