"""Workbench benchmark: one zip of N small order-set bundles (default 5,000) uploaded to the service (uvicorn on
127.0.0.1, in this process) through the page's job API (declare, chunked PUTs, start, poll, download the CSV),
against the CLI linting the same N files from a directory, in the same run. Prints the ratios workbench / CLI,
against the CLI writing only CSV (lint cost alone) and against the CLI writing the HTML report (the same
rendering the workbench does); the target is at most 2.0 (reading an N-member zip must stay O(N): the archive
is opened once).

    python bench/zip_upload.py [--members 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_1000 import _free_port, bundle, cli, workbench_client

TARGET_RATIO = 2.0


def upload_zip(base: str, archive: Path) -> float:
    start = time.perf_counter()
    with workbench_client(base, timeout=120) as client:
        size = archive.stat().st_size
        job = client.post("/workbench/jobs", json={"files": [{"name": archive.name, "size": size}]}).json()
        data = archive.read_bytes()
        for offset in range(0, size, job["chunkBytes"]):
            piece = data[offset : offset + job["chunkBytes"]]
            client.put(f"/workbench/jobs/{job['id']}/files/0?offset={offset}", content=piece).raise_for_status()
        client.post(f"/workbench/jobs/{job['id']}/start").raise_for_status()
        while (status := client.get(f"/workbench/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
            time.sleep(0.5)  # the results page polls about as often
        assert status["state"] == "done", status
        assert status["total"] == len(zipfile.ZipFile(archive).namelist()), status
        client.get(f"/workbench/jobs/{job['id']}/report.csv").raise_for_status()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(20261129)
    with tempfile.TemporaryDirectory(prefix="orderlint-zipbench-") as tmp:
        root = Path(tmp)
        data = root / "bundles"
        data.mkdir()
        archive = root / "order-sets.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for n in range(args.members):
                text = json.dumps(bundle(n, rng))
                (data / f"order-set-{n:05d}.json").write_text(text)
                zf.writestr(f"order-set-{n:05d}.json", text)
        print(f"{args.members} bundles; zip {archive.stat().st_size / 1e6:.1f} MB; {os.cpu_count()} CPUs")

        port = _free_port()
        os.environ.update(
            ORDERLINT_DATABASE_URL=f"sqlite:///{root / 'bench.db'}",
            ORDERLINT_UPLOAD_DIR=str(root / "uploads"),
            ORDERLINT_UPLOAD_MAX_FILES=str(max(5000, args.members)),
        )
        # The service's app under uvicorn, as `orderlint serve` runs it, in a thread of this process (a separate
        # server process was killed from outside, several times, on the shared machine).
        server = uvicorn.Server(
            uvicorn.Config(
                "linter.api.main:app_factory", factory=True, host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            workbench = upload_zip(base, archive)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
        baseline, _ = cli(data, 1)
        html_report, _ = cli(data, 1, "html")
    ratio = workbench / baseline
    same_reports = workbench / html_report
    print(f"workbench, one {args.members}-member zip, end to end (lint, JSON+CSV+HTML reports): {workbench:.2f} s")
    print(
        f"CLI --jobs 1 --format csv on the same {args.members} files (lint only, the cheapest output): {baseline:.2f} s"
    )
    print(f"CLI --jobs 1 --format html (lint and the report the workbench also renders): {html_report:.2f} s")
    print(
        f"ratio workbench / CLI csv: {ratio:.2f}; workbench / CLI html: {same_reports:.2f} (target <= {TARGET_RATIO})"
    )
    verdict = (
        "OK"
        if ratio <= TARGET_RATIO
        else "OK for the same reports only"
        if same_reports <= TARGET_RATIO
        else "TOO SLOW"
    )
    print(verdict)
    return 0 if same_reports <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
