"""What this machine gives two processes: the same pure-Python CPU work run alone, then twice at once, in
interleaved rounds. The ratio 2 x alone / both-at-once is the speed-up any 2-process run (batch `--jobs 2`,
Spark `local[2]`, uvicorn `--workers 2`) can reach here at best: vCPUs of a VM can share a physical core or
its caches, and then two processes do not run at twice the speed of one.

    python bench/core_scaling.py [--seconds 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

WORK = (
    "import json, re\n"
    "doc = {'entry': [{'resource': {'id': str(i), 'code': {'text': 'aspirin 81 mg'}}} for i in range(200)]}\n"
    "pat = re.compile(r'(?i)aspirin|clopidogrel')\n"
    "for _ in range({n}):\n"
    "    text = json.dumps(doc)\n"
    "    parsed = json.loads(text)\n"
    "    sum(1 for e in parsed['entry'] if pat.search(e['resource']['code']['text']))\n"
)


def run(copies: int, n: int) -> float:
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORK.replace("{n}", str(n))]) for _ in range(copies)]
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=2.0, help="about how long one copy runs alone")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    n = 50
    while run(1, n) < 0.2:  # calibrate the work to about --seconds
        n *= 2
    n = int(n * args.seconds / run(1, n))
    alone, both = [], []
    for _ in range(args.rounds):
        alone.append(run(1, n))
        both.append(run(2, n))
    a, b = statistics.median(alone), statistics.median(both)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; medians of {args.rounds} interleaved rounds")
    print(f"one copy alone: {a:.2f} s; two copies at once: {b:.2f} s")
    print(f"two processes reach {2 * a / b:.2f}x the work per second of one (the ceiling of any 1 -> 2 speed-up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
