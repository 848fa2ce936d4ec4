"""Logs carry no request text (issue 10 item 3).

A marker string goes into every value and, as extra keys, into every object at every level of the draft
orders, the prefetch, the context, a feedback body and a lint upload (and into the URL: service id, query).
It must appear in no log record: in-process (caplog, all loggers, all levels) and from a real uvicorn
subprocess at log level debug (its stderr and stdout, uvicorn's access and error logs included).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.live_server import wait_until_ready
from tests.test_reader_robustness import base_request

from .conftest import FhirRoute, hook_request
from .test_serve import free_port

MARKER = "Zq7MarkerJaneDoe"


def with_extra_keys(value: Any) -> Any:
    """Every object gains a key named after the marker (the issue: `subject.<a person's name>`)."""
    if isinstance(value, dict):
        out = {k: with_extra_keys(v) for k, v in value.items()}
        out[MARKER] = MARKER
        return out
    if isinstance(value, list):
        return [with_extra_keys(v) for v in value]
    return value


def with_marked_values(value: Any, key: str = "") -> Any:
    """Every string (except resourceType, which decides what is read at all) carries the marker; every
    number becomes the marker (a wrong type: DQ904 messages must not reach the log either)."""
    if isinstance(value, dict):
        return {k: with_marked_values(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [with_marked_values(v, key) for v in value]
    if isinstance(value, str) and key != "resourceType":
        return f"{value}{MARKER}" if key in ("system", "hook") else MARKER
    if isinstance(value, int | float) and not isinstance(value, bool):
        return MARKER
    return value


def subject_named_after_a_person() -> dict[str, Any]:
    """The reproduction: a MedicationRequest whose subject has an extra key; its suggestion is dropped."""
    request = base_request()
    heparin = request["context"]["draftOrders"]["entry"][0]["resource"]
    heparin["subject"][MARKER] = "x"
    return request


def hook_bodies() -> list[tuple[str, dict[str, Any]]]:
    sign, select = base_request("order-sign"), base_request("order-select")
    bodies = [
        ("order-sign", subject_named_after_a_person()),
        ("order-sign", with_extra_keys(sign)),
        ("order-select", with_extra_keys(select)),
        ("order-sign", with_marked_values(sign)),
        ("order-select", with_marked_values(select)),
    ]
    half = with_extra_keys(sign)
    half["prefetch"] = with_marked_values(sign["prefetch"])  # valid orders, a hostile prefetch
    bodies.append(("order-sign", half))
    return bodies


def feedback_bodies() -> list[dict[str, Any]]:
    item = {
        "card": MARKER,
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": MARKER, "system": MARKER}, "userComment": MARKER},
        "outcomeTimestamp": "2025-01-01T00:00:00Z",
    }
    return [
        with_extra_keys({"feedback": [item]}),
        {"feedback": [{**item, "outcome": MARKER}]},
        {"feedback": [{**item, "outcomeTimestamp": MARKER}]},
        {"feedback": MARKER},
    ]


def uploads() -> list[bytes]:
    drafts = base_request()["context"]["draftOrders"]
    resources = [e["resource"] for e in drafts["entry"]]
    return [
        orjson.dumps(with_extra_keys(drafts)),
        orjson.dumps(with_marked_values(drafts)),
        b"\n".join(orjson.dumps(with_extra_keys(r)) for r in resources),
        b"\n".join(orjson.dumps(with_marked_values(r)) for r in resources),
        MARKER.encode(),
        b'{"' + MARKER.encode() + b'": 1}',
    ]


def exercise(post: Callable[..., Any], get: Callable[..., Any]) -> list[int]:
    statuses = []
    for hook, body in hook_bodies():
        statuses.append(post(f"/cds-services/btk-angioplasty-{hook}", content=orjson.dumps(body)).status_code)
    statuses.append(post(f"/cds-services/{MARKER}", content=orjson.dumps(hook_bodies()[0][1])).status_code)
    statuses.append(post("/cds-services/btk-angioplasty-order-sign", content=MARKER.encode()).status_code)
    for body in feedback_bodies():
        path = "/cds-services/btk-angioplasty-order-sign/feedback"
        statuses.append(post(path, content=orjson.dumps(body)).status_code)
    for data in uploads():
        for mode in ("fast", "strict"):
            statuses.append(post(f"/lint?mode={mode}", content=data).status_code)
    statuses.append(post(f"/lint?profile={MARKER}", content=uploads()[0]).status_code)
    statuses.append(get(f"/{MARKER}?{MARKER}={MARKER}").status_code)
    statuses.append(get(f"/cds-services?{MARKER}=1").status_code)
    return statuses


def test_no_request_text_in_any_log_record_in_process(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        statuses = exercise(client.post, client.get)
    assert all(s < 500 for s in statuses), statuses
    assert 200 in statuses and 400 in statuses and 404 in statuses
    dropped = [r for r in caplog.records if "suggestion for" in r.getMessage()]
    assert dropped and "<extra key>" in dropped[0].getMessage()  # the reproduction still says why
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert MARKER not in text, (record.name, record.levelname, text[:500])


@pytest.fixture
def uvicorn_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
    env["ORDERLINT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'logs.db'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "linter.api.main:app_factory",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "debug",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, process, timeout_s=60, what="uvicorn")
    try:
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_no_request_text_in_uvicorn_output_at_debug(uvicorn_process: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, process = uvicorn_process
    with httpx.Client(base_url=base, timeout=60) as http:
        statuses = exercise(http.post, http.get)
    process.terminate()
    output = process.communicate(timeout=30)[0].decode()
    assert all(s < 500 for s in statuses), statuses
    assert '"POST /cds-services/{service_id} HTTP/1.1" 200' in output  # the access log is there, cleaned
    assert '"POST /lint HTTP/1.1" 400' in output
    assert "suggestion for" in output and "<extra key>" in output
    leaked = [line for line in output.splitlines() if MARKER in line]
    assert not leaked, leaked[:10]


def test_no_fhir_server_text_in_any_log_record(
    make_client: Callable[..., TestClient], fhir_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """What the FHIR server answers (values, extra keys, OperationOutcome diagnostics) is request text too."""
    prefetch = base_request()["prefetch"]
    client = make_client(allowed_fhir_servers=[fhir_server.base_url])
    answers = [
        {key: FhirRoute(body=with_extra_keys(value)) for key, value in prefetch.items()},
        {key: FhirRoute(body=with_marked_values(value)) for key, value in prefetch.items()},
        {
            key: FhirRoute(500, {"resourceType": "OperationOutcome", "issue": [{"diagnostics": MARKER}]})
            for key in prefetch
        },
    ]
    routes = {
        "patient": "Patient",
        "weight": "Observation",
        "conditions": "Condition",
        "medications": "MedicationRequest",
        "procedures": "Procedure",
        "goals": "Goal",
    }
    with caplog.at_level(logging.DEBUG):
        for answer in answers:
            fhir_server.routes.clear()
            fhir_server.routes.update({rtype: answer[key] for key, rtype in routes.items()})
            body = hook_request(fhirServer=fhir_server.base_url, fhirAuthorization={"access_token": MARKER})
            response = client.post("/cds-services/btk-angioplasty-order-sign", json=body)
            assert response.status_code == 200, response.text[:300]
    assert fhir_server.requests
    for record in caplog.records:
        assert MARKER not in record.getMessage(), (record.name, record.getMessage()[:300])
