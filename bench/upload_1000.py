"""Workbench benchmark: 1,000 realistic order-set bundles, uploaded to a running `orderlint serve` through the
page's job API (declare, chunked PUTs, start, poll) end to end, median of a few runs; and the CLI on the same
directory with --jobs 1 vs --jobs 2 (the ratio, and a check that the reports are identical).

    python bench/upload_1000.py [--bundles 1000] [--runs 3] [--upload-jobs 1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
DRUGS = [  # (rxnorm, display, dose, unit, per day)
    ("1191", "aspirin", 81, "mg", 1),
    ("1191", "aspirin", 325, "mg", 1),
    ("32968", "clopidogrel", 75, "mg", 1),
    ("32968", "clopidogrel", 150, "mg", 1),
    ("83367", "atorvastatin", 80, "mg", 1),
    ("114979", "rivaroxaban", 2.5, "mg", 2),
]


def _med(i: int, rx: str, display: str, dose: float, unit: str, per_day: int, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr-{i}",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rx, "display": display}]},
        "subject": {"reference": f"Patient/{patient}"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}],
            }
        ],
    }


def bundle(n: int, rng: random.Random) -> dict[str, Any]:
    patient = f"p{n}"
    kg = rng.choice([55, 62, 70, 78, 85, 96, 110])
    heparin = rng.choice([5000, 6000, 7000, 8000, 15000, 70 * kg])
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": patient, "gender": rng.choice(["female", "male"]), "birthDate": "1950-01-01"},
        {
            "resourceType": "Observation",
            "id": f"wt-{n}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": "2026-11-01T08:00:00Z",
            "valueQuantity": {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"},
        },
        {
            "resourceType": "ServiceRequest",
            "id": f"sr-{n}",
            "status": "draft",
            "intent": "order",
            "code": {
                "coding": [
                    {
                        "system": "http://www.ama-assn.org/go/cpt",
                        "code": "37228",
                        "display": "Revascularization, tibial/peroneal artery, transluminal angioplasty",
                    }
                ]
            },
            "subject": {"reference": f"Patient/{patient}"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": f"hep-{n}",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "5224", "display": "heparin"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "dosageInstruction": [
                {
                    "text": "Bolus at the start of the procedure, target ACT 250-300 s",
                    "route": {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]},
                    "doseAndRate": [
                        {"doseQuantity": {"value": heparin, "unit": "units", "system": UCUM, "code": "[iU]"}}
                    ],
                }
            ],
        },
    ]
    for i, drug in enumerate(rng.sample(DRUGS, rng.randint(1, 4))):
        resources.append(_med(i, *drug, patient))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{n}-{k}", "resource": r} for k, r in enumerate(resources)],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def workbench_client(base: str, timeout: float = 60) -> Iterator[httpx.Client]:
    """A client that sends the session's CSRF token, read from the upload page, like the page's script."""
    with httpx.Client(base_url=base, timeout=timeout) as client:
        page = client.get("/")
        page.raise_for_status()
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert found, "the upload page carries no CSRF token"
        client.headers["X-CSRF-Token"] = found.group(1)
        yield client


def upload_once(base: str, files: list[Path]) -> float:
    start = time.perf_counter()
    with workbench_client(base) as client:
        declared = [{"name": f.name, "size": f.stat().st_size} for f in files]
        job = client.post("/workbench/jobs", json={"files": declared}).json()
        chunk = job["chunkBytes"]

        def send(index: int) -> None:
            data = files[index].read_bytes()
            for offset in range(0, len(data), chunk):
                r = client.put(
                    f"/workbench/jobs/{job['id']}/files/{index}?offset={offset}", content=data[offset : offset + chunk]
                )
                r.raise_for_status()

        with concurrent.futures.ThreadPoolExecutor(4) as pool:  # like the page: 4 uploads in flight
            list(pool.map(send, range(len(files))))
        client.post(f"/workbench/jobs/{job['id']}/start").raise_for_status()
        while (status := client.get(f"/workbench/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
            time.sleep(0.1)
        assert status["state"] == "done", status
        client.get(f"/workbench/jobs/{job['id']}/report.csv").raise_for_status()
    return time.perf_counter() - start


def cli(directory: Path, jobs: int, fmt: str = "csv") -> tuple[float, bytes]:
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "linter.cli", "lint", "--format", fmt, "-q", "--jobs", str(jobs), str(directory)],
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    assert run.returncode in (0, 1), run.stderr.decode()
    return elapsed, run.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--upload-jobs", type=int, default=1, help="ORDERLINT_UPLOAD_JOBS for the server")
    args = parser.parse_args()
    rng = random.Random(20261121)
    with tempfile.TemporaryDirectory(prefix="orderlint-bench-") as tmp:
        root = Path(tmp)
        data = root / "bundles"
        data.mkdir()
        for n in range(args.bundles):
            (data / f"order-set-{n:04d}.json").write_text(json.dumps(bundle(n, rng)))
        files = sorted(data.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{len(files)} bundles, {size / 1e6:.1f} MB, {os.cpu_count()} CPUs")

        port = _free_port()
        env = {
            **os.environ,
            "ORDERLINT_DATABASE_URL": f"sqlite:///{root / 'bench.db'}",
            "ORDERLINT_UPLOAD_DIR": str(root / "uploads"),
            "ORDERLINT_UPLOAD_JOBS": str(args.upload_jobs),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "linter.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            times = [upload_once(base, files) for _ in range(args.runs)]
        finally:
            server.terminate()
            server.wait(timeout=10)
        median = statistics.median(times)
        print(
            f"upload job end to end (declare, {len(files)} PUTs, lint, reports; upload_jobs={args.upload_jobs}): "
            f"median {median:.2f} s over {args.runs} runs ({', '.join(f'{t:.2f}' for t in times)}), "
            f"{len(files) / median:.0f} bundles/s"
        )
        one, out1 = cli(data, 1)
        two, out2 = cli(data, 2)
        assert out1 == out2, "--jobs 2 report differs from --jobs 1"
        print(f"CLI --jobs 1: {one:.2f} s; --jobs 2: {two:.2f} s; speed-up {one / two:.2f}x (reports identical)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
