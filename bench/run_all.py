"""Every row of issue 11's table in one command, each as a ratio to its baseline measured in the same run:

    python bench/run_all.py [--quick] [--json out.json]

Runs bench/lint_bench.py (rows 1-2), bench/service_load.py (rows 3-4), bench/batch_cli.py (row 5), with
valgrind installed bench/jobs_instructions.py (row 5's --jobs ratio from instruction counts: noise-free) and
bench/first_call.py --cli-only (row 6) one after the other, each with interleaved rounds and medians, then
prints the table: measure, ratio (or figure) now, target, and the CPU per unit of work beside it. The
machine's load average is printed before and after: on a shared machine wall times stretch with the load,
ratios measured side by side much less, CPU seconds per unit hardly at all. `--quick` runs smaller samples
(a few minutes in all) for a smoke check; the figures in bench/README.md come from a full run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(BENCH / script), *args, "--json", out.name], check=True)
        data: dict[str, Any] = json.loads(Path(out.name).read_text() or "{}")
        return data


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    q = args.quick
    before = load()
    lint = run("lint_bench.py", "--bundles", "50" if q else "200", "--rounds", "3" if q else "5")
    svc = run(
        "service_load.py",
        "--requests",
        "300" if q else "2000",
        "--concurrency",
        "16",
        "--rounds",
        "3",
        "--skip-fallback",
    )
    batch = run("batch_cli.py", "--bundles", "600" if q else "2010", "--rounds", "1" if q else "5")
    counted = run("jobs_instructions.py", "--bundles", "600" if q else "2010") if shutil.which("valgrind") else None
    start = run("first_call.py", "--cli-only", "--cli-rounds", "3" if q else "5")
    after = load()

    one = svc["workers=1 concurrency=1"]
    two16 = svc["workers=2 concurrency=16"]
    cli = start["summary"]["cli"]
    floor = cli["python -c pass"]["median_s"]
    j1, j2 = batch["jobs=1"], batch["jobs=2"]
    rows = [
        (
            "fast lint / orjson.loads (20-entry bundle)",
            f"{lint['fast_over_orjson']:.1f}x",
            "<= 8x",
            f"fast {lint['cpu_us']['d']:.0f} us CPU/bundle, orjson {lint['cpu_us']['a']:.0f} us",
        ),
        (
            "strict lint / fhir.resources validation",
            f"{lint['strict_over_fhir_resources']:.2f}x",
            "<= 1.1x",
            f"strict {lint['cpu_us']['c']:.0f} us CPU/bundle",
        ),
        (
            "service p50 / bare FastAPI route (1 worker, 1 at a time)",
            f"{one['p50_ratio']:.1f}x",
            "<= 3x",
            f"CPU/request {one['service']['cpu_ms_per_request']:.2f} ms vs "
            f"{one['baseline']['cpu_ms_per_request']:.2f} ms ({one['cpu_ratio']:.1f}x)",
        ),
        (
            "throughput, 16 concurrent, 2 workers, share of bare route",
            f"{two16['throughput_share']:.0%}, p99 {two16['service']['p99_ms']:.0f} ms",
            ">= 35%, p99 < 50 ms",
            f"CPU/request {two16['service']['cpu_ms_per_request']:.2f} ms vs "
            f"{two16['baseline']['cpu_ms_per_request']:.2f} ms ({two16['cpu_ratio']:.1f}x)",
        ),
        (
            f"batch CLI {batch['mode']}, {batch['bundles']} bundles, --jobs 1",
            f"{j1['bundles_per_s']:.0f}/s wall, {1000 / j1['marginal_cpu_ms_per_bundle']:.0f}/CPU-s",
            ">= 1,500/s per core",
            f"{j1['marginal_cpu_ms_per_bundle']:.2f} ms CPU/bundle beyond the start",
        ),
        (
            "batch CLI --jobs 2 / --jobs 1",
            f"{batch['speedup_wall']:.2f}x wall ({batch['speedup_wall_paired']:.2f}x paired rounds), "
            f"{batch['speedup_two_idle_cores_est']:.2f}x est. idle"
            + (f", {counted['speedup']:.2f}x by instructions" if counted else ""),
            ">= 1.7x on 2 idle cores",
            f"CPU spent {batch['cpu_ratio_jobs2_over_jobs1']:.2f}x, "
            f"{j2['marginal_cpu_ms_per_bundle']:.2f} ms/bundle; reports identical {batch['reports_identical']}"
            + (f"; start {counted['start_share']:.1%} of --jobs 1's instructions" if counted else ""),
        ),
        (
            "CLI start: orderlint rules",
            f"{cli['orderlint rules']['median_s']:.2f} s ({cli['orderlint rules']['median_s'] / floor:.1f}x python)",
            "<= 0.25 s idle",
            f"CPU {cli['orderlint rules']['cpu_s']:.2f} s",
        ),
        (
            "CLI start: one-file lint",
            f"{cli['orderlint lint (one file)']['median_s']:.2f} s "
            f"({cli['orderlint lint (one file)']['median_s'] / floor:.1f}x python)",
            "<= 0.5 s idle",
            f"CPU {cli['orderlint lint (one file)']['cpu_s']:.2f} s",
        ),
    ]
    cards = [svc[k] for k in svc if k.endswith(" cards")]
    print(f"\nissue 11 table (load average before {before}, after {after})\n")
    print("| measure | now | target | CPU per unit |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for c in cards:
        print(f"cards answered {c['answered']}, recorded after shutdown {c['recorded']}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "load_before": before,
                    "load_after": after,
                    "lint": lint,
                    "service": svc,
                    "batch": batch,
                    "jobs_instructions": counted,
                    "start": start,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
