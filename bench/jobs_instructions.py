"""`--jobs 2` / `--jobs 1` on 2 idle cores, from instruction counts (issue 11, table row 5, without the noise).

    python bench/jobs_instructions.py [--bundles 2010] [--mode fast] [--ceiling 1.95] [--json out.json]

On a VM whose two vCPUs slow each other down in phases (bench/core_scaling.py; `batch_cli.py`'s "CPU spent"
above 1.0x), wall-time ratios of a one-second batch scatter by +-0.2x from run to run. This counts instead:
the same command as bench/batch_cli.py (`orderlint lint -q --format csv --mode MODE --jobs N DIR` over the
fixture corpus) runs under valgrind's callgrind (`PYTHONHASHSEED=0`), once with `--jobs 1` and once with
`--jobs 2`, and a third time with `--jobs 2` stopped where the CLI process would fork (what it runs alone
first). Callgrind gives each process its instructions; a forked worker's count includes what its parent ran
before the fork. On two idle cores running instructions at the same rate, `--jobs 2` takes as long as its
longer process, so the speed-up is `--jobs 1`'s instructions over the larger of the two processes' counts.
Printed beside it: the same with the two processes' shares evened out (the bound of the split itself), the
start's share of `--jobs 1`, what `--jobs 2` runs in all over `--jobs 1` (pipes, pickling, a second
process's warm caches), and, with `--ceiling` (core_scaling.py's figure for this machine), the speed-up once
the parallel part runs at that ceiling instead of 2x. Needs valgrind (Debian package `valgrind`); ~2 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_cli import make_corpus

COLLECTED = re.compile(r"==(\d+)== Collected : (\d+)")

# The CLI as its console script runs it, stopped where it would fork its first worker: what it runs alone.
UNTIL_FORK = (
    "import os, sys\nos.fork = lambda: os._exit(0)\nfrom linter.cli import main\nsys.argv[0] = 'orderlint'\nmain()\n"
)


def counted(args: list[str]) -> dict[int, int]:
    """Instructions of each process of `python ARGS` under callgrind, by pid (parent first: pids grow). Run
    outside the checkout: `python -c` puts its working directory first on the path, ahead of PYTHONPATH."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(  # valgrind and this interpreter, fixed arguments
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", sys.executable, *args],
            cwd=out,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    counts = {int(pid): int(n) for pid, n in COLLECTED.findall(done.stderr)}
    if not counts:
        raise SystemExit(f"callgrind reported nothing:\n{done.stderr[-2000:]}")
    return dict(sorted(counts.items()))


def measure(bundles: int, mode: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        make_corpus(corpus, bundles)
        lint = ["lint", "-q", "--format", "csv", "--mode", mode]
        run_cli = ["-c", "import sys; sys.argv[0] = 'orderlint'; from linter.cli import main; main()"]
        with ThreadPoolExecutor(3) as pool:  # three valgrind processes: counts do not depend on the load
            one = pool.submit(counted, [*run_cli, *lint, "--jobs", "1", str(corpus)])
            two = pool.submit(counted, [*run_cli, *lint, "--jobs", "2", str(corpus)])
            alone = pool.submit(counted, ["-c", UNTIL_FORK, *lint, "--jobs", "2", str(corpus)])
            (jobs1,) = one.result().values()
            parent, worker = two.result().values()
            (before_fork,) = alone.result().values()
    longer = max(parent, worker)
    even = before_fork + (parent + worker - 2 * before_fork) / 2
    return {
        "jobs1": jobs1,
        "parent": parent,
        "worker": worker,
        "before_fork": before_fork,
        "speedup": jobs1 / longer,
        "speedup_even_split": jobs1 / even,
        "start_share": before_fork / jobs1,
        "jobs2_over_jobs1": (parent + worker - before_fork) / jobs1,
    }


def with_ceiling(m: dict[str, float], ceiling: float) -> float:
    """The speed-up when the part after the fork runs `ceiling` times as fast on two processes as on one."""
    after = m["parent"] + m["worker"] - 2 * m["before_fork"]
    return m["jobs1"] / (m["before_fork"] + after / ceiling)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=2010)
    parser.add_argument("--mode", choices=["fast", "strict"], default="fast")
    parser.add_argument("--ceiling", type=float, help="bench/core_scaling.py's two-process figure for this machine")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    m = measure(args.bundles, args.mode)
    mega = {k: v / 1e6 for k, v in m.items()}
    print(f"batch CLI, {args.bundles} fixture bundles, mode {args.mode}: instructions (callgrind)")
    print(f"  --jobs 1: {mega['jobs1']:,.1f} M")
    print(
        f"  --jobs 2: the CLI process {mega['parent']:,.1f} M, its worker {mega['worker']:,.1f} M, "
        f"both counting the {mega['before_fork']:,.1f} M the CLI process runs before it forks "
        f"({m['start_share']:.1%} of --jobs 1); in all {m['jobs2_over_jobs1']:.3f}x --jobs 1's"
    )
    print(
        f"  --jobs 2 / --jobs 1 on 2 idle cores: {m['speedup']:.2f}x (the longer process); "
        f"{m['speedup_even_split']:.2f}x with the two shares evened out"
    )
    if args.ceiling:
        m["ceiling"] = args.ceiling
        m["speedup_at_ceiling"] = with_ceiling(m, args.ceiling)
        print(
            f"  with the machine's two-process ceiling of {args.ceiling:.2f}x after the fork: "
            f"{m['speedup_at_ceiling']:.2f}x (shares evened out)"
        )
    if args.json:
        args.json.write_text(json.dumps(m, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
