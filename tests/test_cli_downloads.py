"""The workbench's JSON, CSV and HTML downloads equal the CLI's reports byte for byte, in content and order,
for the same inputs under the same names: a real `orderlint serve` on 127.0.0.1 (files uploaded through the job
API in an order of their own) against the real `orderlint lint --format json|csv|html` console script (files
named on the command line in yet another order)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli_run import DATA, ORDERLINT, env, piped
from tests.live_server import wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
INDICATORS = ("critical", "warning", "info")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    extra = {
        "ORDERLINT_DATABASE_URL": f"sqlite:///{tmp / 'orderlint.db'}",
        "ORDERLINT_UPLOAD_DIR": str(tmp / "uploads"),
        "ORDERLINT_TRUSTED_ISSUERS": "",
    }
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [ORDERLINT, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env(**extra), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, proc, log, timeout_s=120)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Findings of every indicator over several files, a clean file, an NDJSON file with two patients and a
    bad line, a zip archive, a file that is not FHIR and one that is not JSON."""
    root = tmp_path_factory.mktemp("inputs")
    for name in ("clean-order-set.json", "heparin-low.json", "heparin-overdose.json", "not-fhir.json"):
        shutil.copy(DATA / name, root / name)
    shutil.copy(ROOT / "fixtures" / "orders" / "claudication-only.json", root / "claudication-only.json")
    (root / "broken.json").write_text('{\n  "resourceType": "Bundle",,\n}\n', encoding="utf-8")
    overdose = (DATA / "heparin-overdose.json").read_text(encoding="utf-8")
    low = (DATA / "heparin-low.json").read_text(encoding="utf-8")
    (root / "export.ndjson").write_text(
        json.dumps(json.loads(low)) + "\n{not json\n" + json.dumps(json.loads(overdose)) + "\n", encoding="utf-8"
    )
    with zipfile.ZipFile(root / "sets.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(DATA / "heparin-overdose.json", "b/overdose.json")
        zf.write(DATA / "clean-order-set.json", "a/clean.json")
    return root


def _upload(base: str, root: Path, names: list[str]) -> str:
    with httpx.Client(base_url=base, timeout=60) as client:
        # the session's CSRF token, read from the upload page as the page's own script does
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
        assert found, "the upload page carries no CSRF token"
        client.headers["X-CSRF-Token"] = found.group(1)
        blobs = [(root / n).read_bytes() for n in names]
        r = client.post(
            "/workbench/jobs", json={"files": [{"name": n, "size": len(b)} for n, b in zip(names, blobs, strict=True)]}
        )
        assert r.status_code == 201, r.text
        job: str = r.json()["id"]
        for i, blob in enumerate(blobs):
            assert client.put(f"/workbench/jobs/{job}/files/{i}?offset=0", content=blob).status_code == 200
        assert client.post(f"/workbench/jobs/{job}/start").status_code == 202
        deadline = time.monotonic() + 180
        while (state := client.get(f"/workbench/jobs/{job}").json()["state"]) != "done":
            assert state in ("queued", "running") and time.monotonic() < deadline, state
            time.sleep(0.2)
        return job


def test_downloads_equal_the_cli_byte_for_byte(server: str, inputs: Path) -> None:
    names = sorted(p.name for p in inputs.iterdir())
    job = _upload(server, inputs, names[::-1])  # uploaded in reverse order
    cli_order = names[1::2] + names[::2]  # named on the command line in a third order
    reports = {}
    for kind in ("json", "csv", "html"):
        download = httpx.get(f"{server}/workbench/jobs/{job}/report.{kind}", timeout=60)
        assert download.status_code == 200
        cli = piped("lint", "--format", kind, "-q", *cli_order, cwd=inputs)
        assert cli.returncode == 2, cli.stderr  # findings and unreadable inputs
        assert download.content == cli.stdout.encode("utf-8"), kind
        reports[kind] = cli.stdout

    rows = list(csv.DictReader(io.StringIO(reports["csv"])))
    files = [r["file"] for r in rows if r["record"] == "file"]
    assert files == sorted(files) and len(files) == len(names) - 1 + 2  # the zip counts as its two members
    findings = [r for r in rows if r["record"] == "finding"]
    assert {r["indicator"] for r in findings} == set(INDICATORS)
    keys = [(INDICATORS.index(r["indicator"]), r["file"]) for r in findings]
    assert keys == sorted(keys)  # critical first, then file
    assert [r["record"] for r in rows[-3:]] == ["error"] * 3  # broken.json, export.ndjson line 2, not-fhir.json


def test_the_results_page_lists_the_rows_in_the_same_order(server: str, inputs: Path) -> None:
    names = sorted(p.name for p in inputs.iterdir())
    job = _upload(server, inputs, names)
    page = httpx.get(f"{server}/jobs/{job}", timeout=60).text
    html = piped("lint", "--format", "html", "-q", *names, cwd=inputs).stdout

    def groups(text: str) -> list[str]:
        return [chunk.split(">", 1)[0] for chunk in text.split('<tbody class="row-group"')[1:]]

    assert groups(page) == groups(html) and len(groups(html)) > 10
    assert 'data-indicator="critical"' in groups(page)[0]
