"""Load benchmark of the CDS Hooks service (issue 3 §10, issue 11 rows 3-4). One command:

    python bench/service_load.py [--requests 3000] [--concurrency 16] [--max-seconds 60] [--rounds 3]

Starts the service (uvicorn, 1 then 2 workers) in a child process on a free loopback port, with one extra
route, POST /bench/baseline, that only parses the same body with orjson and returns {"cards": []}. This
process is the load generator: order-sign requests with 20 draft orders and full prefetch, bounded in count
and time. It reports p50/p95/p99 latency and requests/s for the service and the baseline, and the ratio.
Then it times calls with no prefetch against a local FHIR server that answers each search in 50 ms.

Issue 11: service and baseline alternate in `--rounds` rounds (the order flips each round) and the figures
are medians over rounds; beside each, the CPU milliseconds the server's processes spent per request (from
/proc, user + system, the whole process tree: a loaded machine stretches wall time, not CPU per request).
At the end the server is stopped like `orderlint serve` is (SIGTERM) and the cards in its database are
counted against the cards it answered: the batch writer must have written every one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from starlette.responses import Response

PATIENT = "bench-patient"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SERVICE = "/cds-services/btk-angioplasty-order-sign"
BASELINE = "/bench/baseline"


# --- the app the server child runs ---------------------------------------------------------------------


def bench_app() -> Any:
    """The real service plus the baseline route (uvicorn factory)."""
    import orjson  # here, not at the top: only the server child needs it, not the load generator

    from linter.api.main import create_app  # idem: the generator process never loads the service

    app = create_app()

    @app.post(BASELINE)
    async def baseline(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(b'{"cards":[]}', media_type="application/json")

    return app


# --- the request ---------------------------------------------------------------------------------------


def _med(i: int, code: str, display: str, dose: float, unit: str, route: str, per_day: int) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"med-{i}",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": "2026-11-20",
        "dosageInstruction": [
            {
                "text": f"{display} {dose:g} {unit}",
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}} if per_day else {},
                "route": {"coding": [{"system": "http://snomed.info/sct", "code": route}]},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}],
            }
        ],
    }


def draft_orders() -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = [
        _med(0, "5224", "heparin", 15000, "[iU]", "47625008", 0),
        _med(1, "243670", "aspirin 81 MG Oral Tablet", 81, "mg", "26643006", 1),
        _med(2, "309362", "clopidogrel 75 MG Oral Tablet", 75, "mg", "26643006", 1),
        _med(3, "259255", "atorvastatin 80 MG Oral Tablet", 80, "mg", "26643006", 1),
    ]
    orders[0]["dosageInstruction"][0].pop("timing")
    others = [
        ("197361", "amlodipine 5 MG Oral Tablet", 5, "mg"),
        ("314076", "lisinopril 10 MG Oral Tablet", 10, "mg"),
        ("860975", "metformin 500 MG Oral Tablet", 500, "mg"),
        ("197381", "atenolol 50 MG Oral Tablet", 50, "mg"),
        ("311700", "ondansetron 4 MG Oral Tablet", 4, "mg"),
        ("198211", "simvastatin 40 MG Oral Tablet", 40, "mg"),
        ("313782", "acetaminophen 325 MG Oral Tablet", 650, "mg"),
        ("198440", "acetaminophen 500 MG Oral Tablet", 500, "mg"),
        ("310965", "ibuprofen 200 MG Oral Tablet", 400, "mg"),
        ("308136", "amlodipine 2.5 MG Oral Tablet", 2.5, "mg"),
        ("200801", "furosemide 20 MG Oral Tablet", 20, "mg"),
        ("197884", "lisinopril 40 MG Oral Tablet", 40, "mg"),
    ]
    for i, (code, display, dose, unit) in enumerate(others, start=4):
        orders.append(_med(i, code, display, dose, unit, "26643006", 1))
    for i, cpt in enumerate(["37228", "37229", "37230", "37231"], start=16):
        orders.append(
            {
                "resourceType": "ServiceRequest",
                "id": f"sr-{i}",
                "status": "draft",
                "intent": "order",
                "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": cpt}]},
                "subject": {"reference": f"Patient/{PATIENT}"},
            }
        )
    return orders


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def full_prefetch() -> dict[str, Any]:
    weight = {
        "resourceType": "Observation",
        "id": "wt",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-11-19T08:00:00Z",
        "valueQuantity": {"value": 70, "unit": "kg", "system": UCUM, "code": "kg"},
    }
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I70.229"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }
    return {
        "patient": {"resourceType": "Patient", "id": PATIENT, "birthDate": "1950-01-01"},
        "weight": searchset(weight),
        "conditions": searchset(condition),
        "medications": searchset(),
        "procedures": searchset(),
        "goals": searchset(),
    }


def hook_body(prefetch: bool = True, fhir_server: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": PATIENT,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": r} for r in draft_orders()
            ]},
        },
    }  # fmt: skip
    if prefetch:
        body["prefetch"] = full_prefetch()
    if fhir_server:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {"access_token": "bench-token", "token_type": "Bearer", "expires_in": 300,
                                     "scope": "user/*.read", "subject": "bench"}  # fmt: skip
    return body


# --- server child and load generator -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(cpu.get(pid, 0.0) for pid in tree)


@contextmanager
def service(
    workers: int, extra_env: dict[str, str] | None = None, stats: dict[str, Any] | None = None
) -> Iterator[str]:
    """The server on a free port; with `stats`, its pid goes in `stats["pid"]` and, after it stopped (SIGTERM,
    as `orderlint serve` is stopped), the number of cards in its database in `stats["recorded"]`."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
        env.update({"ORDERLINT_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", **(extra_env or {})})
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent), env.get("PYTHONPATH", "")])
        subprocess.run(  # migrations once, like `orderlint serve`
            [sys.executable, "-c", "from linter.store.migrate import upgrade; import os; "
             "upgrade(os.environ['ORDERLINT_DATABASE_URL'])"], env=env, check=True, cwd=tmp,
        )  # fmt: skip
        env["ORDERLINT_MIGRATE_ON_START"] = "false"
        cmd = [sys.executable, "-c", "from linter.api.serve import serve_app; "
               f"serve_app('service_load:bench_app', host='127.0.0.1', port={port}, workers={workers}, "
               "log_level='warning', access_log=False)"]  # fmt: skip
        # cwd: `python -c` puts the working directory first on sys.path, before PYTHONPATH; run from the
        # repository, the server would import its `linter` whatever tree PYTHONPATH names (an A/B against an
        # older tree would time this one twice).
        process = subprocess.Popen(cmd, env=env, cwd=tmp)
        if stats is not None:
            stats["pid"] = process.pid
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300  # a start takes 15-60 s on this machine under load
            while True:
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("service did not start")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=60)
            if stats is not None:
                with sqlite3.connect(Path(tmp) / "bench.db") as db:
                    stats["recorded"] = db.execute("SELECT count(*) FROM issued_card").fetchone()[0]


async def _one_connection(
    host: str, port: int, request: bytes, budget: list[int], stop_at: float, latencies: list[float]
) -> int:
    """One keep-alive HTTP/1.1 connection sending requests while the shared budget lasts; returns errors."""
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while budget[0] > 0 and time.perf_counter() < stop_at:
            budget[0] -= 1
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
    return errors


async def load(url: str, payload: bytes, requests: int, concurrency: int, max_seconds: float) -> dict[str, float]:
    """A lean client (raw keep-alive HTTP/1.1), so the generator is not what we measure."""
    parts = httpx.URL(url)
    host, port = parts.host, parts.port or 80
    request = (
        f"POST {parts.raw_path.decode()} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    warm: list[float] = []
    await _one_connection(host, port, request, [min(50, requests)], time.perf_counter() + max_seconds, warm)

    latencies: list[float] = []
    budget = [requests]
    began = time.perf_counter()
    stop_at = began + max_seconds
    errors = sum(
        await asyncio.gather(
            *(_one_connection(host, port, request, budget, stop_at, latencies) for _ in range(concurrency))
        )
    )
    elapsed = time.perf_counter() - began
    qs = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "n": len(latencies),
        "errors": errors,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": qs[94] * 1000,
        "p99_ms": qs[98] * 1000,
        "rps": len(latencies) / elapsed,
        "sent": len(latencies) + len(warm),
    }


@contextmanager
def slow_fhir_server(delay_s: float) -> Iterator[str]:
    prefetch = full_prefetch()
    by_type = {"Patient": prefetch["patient"], "Observation": prefetch["weight"],
               "Condition": prefetch["conditions"], "MedicationRequest": prefetch["medications"],
               "Procedure": prefetch["procedures"], "Goal": prefetch["goals"]}  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay_s)
            resource_type = self.path.split("/fhir/", 1)[-1].split("?")[0].split("/")[0]
            body = json.dumps(by_type.get(resource_type, searchset())).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    finally:
        httpd.shutdown()
        httpd.server_close()


def median_row(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds (counts summed)."""
    out = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    out.update(n=sum(r["n"] for r in rows), errors=sum(r["errors"] for r in rows), sent=sum(r["sent"] for r in rows))
    return out


def fmt(row: dict[str, float]) -> str:
    return (f"p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  "
            f"{row['rps']:7.0f} req/s  CPU {row['cpu_ms_per_request']:.2f} ms/req  n={row['n']:.0f} "
            f"errors={row['errors']:.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-fallback", action="store_true", help="skip the no-prefetch timing")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    payload = json.dumps(hook_body()).encode()
    print(f"request: order-sign, 20 draft orders, full prefetch, {len(payload)} bytes; medians of "
          f"{args.rounds} interleaved rounds")  # fmt: skip
    results: dict[str, Any] = {"request_bytes": len(payload), "rounds": args.rounds}
    for workers in args.workers:
        stats: dict[str, Any] = {}
        answered_cards = 0
        with service(workers, stats=stats) as base:
            cards_per_answer = len(
                httpx.post(base + SERVICE, content=payload, headers={"Content-Type": "application/json"}).json()[
                    "cards"
                ]
            )
            answered_cards += cards_per_answer
            for concurrency in sorted({1, args.concurrency}):
                n = min(args.requests, 500) if concurrency == 1 else args.requests
                rounds: dict[str, list[dict[str, float]]] = {"service": [], "baseline": []}
                for r in range(args.rounds):
                    order = [("service", SERVICE), ("baseline", BASELINE)]
                    for name, path in order if r % 2 == 0 else order[::-1]:
                        cpu0 = tree_cpu_seconds(stats["pid"])
                        row = asyncio.run(load(base + path, payload, n, concurrency, args.max_seconds))
                        row["cpu_ms_per_request"] = (tree_cpu_seconds(stats["pid"]) - cpu0) / row["sent"] * 1000
                        rounds[name].append(row)
                        if name == "service":
                            answered_cards += int(row["sent"] - row["errors"]) * cards_per_answer
                ours, baseline = (median_row(rounds[k]) for k in ("service", "baseline"))
                key = f"workers={workers} concurrency={concurrency}"
                results[key] = {
                    "service": ours,
                    "baseline": baseline,
                    "p50_ratio": ours["p50_ms"] / baseline["p50_ms"],
                    "throughput_share": ours["rps"] / baseline["rps"],
                    "cpu_ratio": ours["cpu_ms_per_request"] / baseline["cpu_ms_per_request"],
                }
                print(f"\n{key}\n  service   {fmt(ours)}\n  baseline  {fmt(baseline)}\n"
                      f"  p50 ratio {results[key]['p50_ratio']:.1f}x, throughput {results[key]['throughput_share']:.0%}"
                      f" of the baseline, CPU per request {results[key]['cpu_ratio']:.1f}x")  # fmt: skip
        results[f"workers={workers} cards"] = {"answered": answered_cards, "recorded": stats["recorded"]}
        print(
            f"  cards answered {answered_cards}, recorded after shutdown {stats['recorded']}"
            f" ({'none lost' if stats['recorded'] == answered_cards else 'LOST OR EXTRA'})"
        )

    if args.skip_fallback:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    with slow_fhir_server(0.050) as fhir, service(1, {"ORDERLINT_ALLOWED_FHIR_SERVERS": fhir}) as base:
        timings = []
        with httpx.Client(timeout=10) as client:
            for i in range(21):
                body = json.dumps(hook_body(prefetch=False, fhir_server=fhir)).encode()
                start = time.perf_counter()
                response = client.post(base + SERVICE, content=body, headers={"Content-Type": "application/json"})
                if i:  # first call warms up
                    timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
                assert "DQ906" not in response.text, "fallback did not fetch the data"
    fallback = {"median_ms": statistics.median(timings), "max_ms": max(timings), "n": len(timings)}
    results["fhir_fallback_50ms"] = fallback
    print(f"\nno prefetch, 6 searches at 50 ms each: median {fallback['median_ms']:.1f} ms, "
          f"max {fallback['max_ms']:.1f} ms (n={fallback['n']})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
