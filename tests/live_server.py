"""Waiting for a real `orderlint serve` (or uvicorn) process started by a test (one loop, shared by every such
test)."""

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


def wait_until_ready(
    base: str, proc: subprocess.Popen[bytes], timeout_s: float = 120, what: str = "orderlint serve"
) -> None:
    """Poll `/readyz` (ready after the warm-up) until it answers 200; a process started with stdout=PIPE is
    killed and the test fails with its output if it exits or does not answer within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()  # before reading its output: a running server never closes it
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"{what} did not come up:\n{output}")
        time.sleep(0.2)
