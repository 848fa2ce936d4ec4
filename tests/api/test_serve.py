"""`orderlint serve` as a real process on a free port: start-up refusal rules, then one real call."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from linter.api.serve import is_loopback, run_server
from linter.settings import get_settings
from tests.live_server import wait_until_ready

from .conftest import PATIENT_ID, full_prefetch, hook_request

pytestmark = pytest.mark.slow


def orderlint_script() -> str | None:
    beside_python = Path(sys.executable).parent / "orderlint"
    return str(beside_python) if beside_python.exists() else shutil.which("orderlint")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0")  # noqa: S104
    assert not is_loopback("10.1.2.3") and not is_loopback("example.org")


def test_non_loopback_without_auth_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ORDERLINT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("ORDERLINT_TRUSTED_ISSUERS", raising=False)
    get_settings.cache_clear()
    try:
        assert run_server("0.0.0.0", free_port(), 1, insecure_no_auth=False) == 2  # noqa: S104
    finally:
        get_settings.cache_clear()
    assert "--insecure-no-auth" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()  # refused before touching the database


@pytest.mark.skipif(
    importlib.util.find_spec("linter.cli") is None or orderlint_script() is None,
    reason="the orderlint console script (linter.cli) is not installed yet",
)
def test_orderlint_serve_answers_discovery_and_a_hook_call(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
    env["ORDERLINT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    process = subprocess.Popen(
        [orderlint_script() or "orderlint", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, timeout_s=120)  # generous: it warms up first, the machine is shared
        services = httpx.get(f"{base}/cds-services").json()["services"]
        assert {s["id"] for s in services} >= {"btk-angioplasty-order-select", "btk-angioplasty-order-sign"}
        response = httpx.post(
            f"{base}/cds-services/btk-angioplasty-order-sign", json=hook_request(prefetch=full_prefetch())
        )
        assert response.status_code == 200, response.text
        cards: list[dict[str, Any]] = response.json()["cards"]
        heparin = [c for c in cards if c["source"]["topic"]["code"] == "HEP201"]
        assert heparin and heparin[0]["suggestions"][0]["actions"][0]["type"] == "update"
        # the card's source link is absolute, built from the URL the client called, and opens the rule page
        assert heparin[0]["source"]["url"] == f"{base}/rules/HEP201?profile=btk-angioplasty"
        page = httpx.get(heparin[0]["source"]["url"])
        assert page.status_code == 200 and "HEP201 heparin-bolus-dose" in page.text
        assert (tmp_path / "serve.db").exists()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = process.stdout.read().decode() if process.stdout else ""
    assert PATIENT_ID not in output  # the access log and warnings never carry the patient id
    assert "authentication is off" in output.lower()
