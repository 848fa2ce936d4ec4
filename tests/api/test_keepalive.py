"""An unexpected error costs one request, not two (issue 10 item 2).

A real uvicorn on 127.0.0.1 and one http.client connection: good, bad, good. The bad request reaches the
real hook route; the internal error is injected where no rule's try/except can turn it into a finding (the
card renderer), because every real 500 path we know of is fixed.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from linter.api import main as api_main
from linter.api.routes import hooks
from linter.settings import Settings

from .conftest import full_prefetch, hook_request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, int]]:
    """uvicorn (its real HTTP protocol and connection handling) serving create_app in a thread."""
    port = _free_port()
    config = uvicorn.Config(
        api_main.create_app(make_settings()), host="127.0.0.1", port=port, log_level="debug", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def _post(conn: http.client.HTTPConnection, body: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
    conn.request(
        "POST",
        "/cds-services/btk-angioplasty-order-sign",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    payload = json.loads(response.read())
    return response.status, payload, response.getheader("connection")


def test_good_bad_good_on_one_keepalive_connection(
    live_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_render = hooks.cards_response
    secret = "Marker-Do-Not-Log-7Q"

    def render(findings: Any, order_set: Any, profile: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if order_set.source.endswith("-bad"):
            raise RuntimeError(f"render failed for {secret}")  # a message quoting request text
        return real_render(findings, order_set, profile, *args, **kwargs)

    monkeypatch.setattr(hooks, "cards_response", render)
    host, port = live_server
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.connect()
    sock = conn.sock
    good = hook_request(prefetch=full_prefetch())
    bad = hook_request(prefetch=full_prefetch(), hookInstance=f"{secret}-bad")
    with caplog.at_level(logging.DEBUG):
        status, payload, _ = _post(conn, good)
        assert status == 200 and payload["cards"]
        status, payload, connection = _post(conn, bad)
        assert status == 500
        assert payload["resourceType"] == "OperationOutcome"
        assert payload["issue"][0]["code"] == "exception"
        assert connection != "close"
        status, payload, _ = _post(conn, good)
        assert status == 200 and payload["cards"]
        status, payload, _ = _post(conn, good)
        assert status == 200
    assert conn.sock is sock  # http.client reconnects silently after a close: the same socket all along
    conn.close()
    errors = [r for r in caplog.records if r.name == "orderlint.api" and r.levelno >= logging.ERROR]
    assert errors and "RuntimeError" in errors[0].getMessage()
    assert "/cds-services/{service_id}" in errors[0].getMessage()
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert record.exc_info is None or secret not in str(record.exc_info[1])
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]


def test_the_issue_sequence_on_one_connection(live_server: tuple[str, int]) -> None:
    """The reproduction as reported: good, bad (a prefetched weight whose coding code is a list), good,
    good gave 200, 500, reset, 200. The bad request is now a 200 with DQ904, and the socket stays up."""
    host, port = live_server
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.connect()
    sock = conn.sock
    good = hook_request(prefetch=full_prefetch())
    bad = hook_request(prefetch=full_prefetch())
    bad["prefetch"]["weight"]["entry"][0]["resource"]["code"]["coding"][0]["code"] = ["29463-7"]
    answers = [_post(conn, body) for body in (good, bad, good, good)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    bad_cards = answers[1][1]["cards"]
    assert any(card["source"]["topic"]["code"] == "DQ904" for card in bad_cards), bad_cards
    assert conn.sock is sock
    conn.close()
