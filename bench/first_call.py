"""First hook call after start vs steady state, and the CLI's fixed start cost (issue 8 §5, issue 11 §5).
One command:

    python bench/first_call.py [--rounds 3] [--steady 60] [--cli-rounds 5] [--json out.json]

Service: starts `orderlint serve` as a real process (temp SQLite, a free loopback port), polls /readyz until
200, then times the first order-sign (20 drafts, full prefetch: bench/service_load.py's request) and `--steady`
more on the same keep-alive connection; reports first call / steady p50. Each round is done with the start-up
warm-up on (ORDERLINT_WARM_ON_START=true, the default) and off, interleaved, so the ratio it saves is measured
in the same run. Target: first call within 3x the steady p50 with the warm-up on.

CLI: wall time and CPU seconds of `python -c pass` (the interpreter's own start, the floor), `orderlint
rules`, `orderlint explain`, a one-file `orderlint lint -q` (strict, the default) and the same in fast mode,
interleaved rounds, medians, each also as a ratio to the floor. The package's bytecode is compiled first
(`compileall`, as any install does; this checkout runs with PYTHONDONTWRITEBYTECODE=1, so otherwise every
start would compile the sources again): `--no-compile` measures without it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from service_load import SERVICE, free_port, hook_body  # noqa: E402 - a sibling script, found through BENCH

ORDERLINT = shutil.which("orderlint", path=str(Path(sys.executable).parent)) or "orderlint"
ONE_FILE = ROOT / "fixtures" / "HEP201" / "fail-15000-units-70kg.json"


def one_round(warm: bool, steady: int) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
        env.update({
            "ORDERLINT_DATABASE_URL": f"sqlite:///{Path(tmp) / 'first.db'}",
            "ORDERLINT_WARM_ON_START": "true" if warm else "false",
        })  # fmt: skip
        log = (Path(tmp) / "serve.log").open("w")
        began = time.perf_counter()
        process = subprocess.Popen(
            [ORDERLINT, "serve", "--port", str(port)], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                while True:
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if process.poll() is not None or time.perf_counter() - began > 180:
                        tail = (Path(tmp) / "serve.log").read_text()[-1500:]
                        raise RuntimeError(f"orderlint serve did not become ready:\n{tail}")
                    time.sleep(0.05)
                ready_s = time.perf_counter() - began
                payload = json.dumps(hook_body()).encode()
                headers = {"Content-Type": "application/json"}
                times = []
                for _ in range(steady + 1):
                    start = time.perf_counter()
                    response = client.post(SERVICE, content=payload, headers=headers)
                    times.append(time.perf_counter() - start)
                    assert response.status_code == 200 and response.json()["cards"], response.text[:300]
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()
    first, rest = times[0], times[1:]
    p50 = statistics.median(rest)
    return {"ready_s": ready_s, "first_ms": first * 1000, "steady_p50_ms": p50 * 1000, "ratio": first / p50}


def cli_start(rounds: int) -> dict[str, dict[str, float]]:
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "orderlint rules": [ORDERLINT, "rules"],
        "orderlint explain": [ORDERLINT, "explain", "HEP201"],
        "orderlint lint (one file)": [ORDERLINT, "lint", "-q", str(ONE_FILE)],
        "orderlint lint --mode fast (one file)": [ORDERLINT, "lint", "-q", "--mode", "fast", str(ONE_FILE)],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            samples[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        name: {"median_s": statistics.median(v), "min_s": min(v), "cpu_s": statistics.median(cpu[name])}
        for name, v in samples.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steady", type=int, default=60)
    parser.add_argument("--cli-rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--cli-only", action="store_true", help="only the CLI's fixed start (no server rounds)")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    args = parser.parse_args()
    if not args.no_compile:
        compileall.compile_dir(ROOT / "linter", quiet=1)
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    rounds: dict[str, list[dict[str, float]]] = {"warm": [], "cold": []}
    for i in range(0 if args.cli_only else args.rounds):
        for kind in ("warm", "cold"):
            row = one_round(kind == "warm", args.steady)
            rounds[kind].append(row)
            print(f"round {i + 1} warm-up {'on ' if kind == 'warm' else 'off'}: ready {row['ready_s']:.2f} s, "
                  f"first order-sign {row['first_ms']:.1f} ms, steady p50 {row['steady_p50_ms']:.1f} ms, "
                  f"first/p50 {row['ratio']:.2f}x")  # fmt: skip
    summary: dict[str, Any] = {}
    for kind, rows in rounds.items():
        summary[kind] = {key: statistics.median(r[key] for r in rows) for key in rows[0]} if rows else {}
    on, off = summary["warm"], summary["cold"]
    if rows:
        print(f"\nmedian over {args.rounds} rounds: warm-up on: first/p50 {on['ratio']:.2f}x "
          f"(target <= 3x: {'met' if on['ratio'] <= 3 else 'NOT met'}), ready after {on['ready_s']:.2f} s; "
              f"warm-up off: first/p50 {off['ratio']:.2f}x, ready after {off['ready_s']:.2f} s")  # fmt: skip
    cli = cli_start(args.cli_rounds)
    floor = cli["python -c pass"]["median_s"]
    cpu_floor = cli["python -c pass"]["cpu_s"]
    print(f"\nCLI fixed start, median of {args.cli_rounds} interleaved rounds:")
    for name, row in cli.items():
        print(
            f"  {name:38s} {row['median_s']:.3f} s (min {row['min_s']:.3f} s, {row['median_s'] / floor:.1f}x python), "
            f"CPU {row['cpu_s']:.3f} s ({row['cpu_s'] / cpu_floor:.1f}x python)"
        )
    summary["cli"] = cli
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
