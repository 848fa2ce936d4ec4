"""Waiting for a real `orderlint serve` process started by a test (one loop, shared by every such test)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest


def wait_until_healthy(base: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    """Poll `/healthz` until it answers 200; kill the process and fail the test with its log if it exits or
    does not answer within `timeout_s` (generous: the service warms up before it accepts connections)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"orderlint serve did not start:\n{log.read_text()}")
        time.sleep(0.2)
