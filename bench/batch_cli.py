"""Batch CLI throughput and --jobs scaling (issue 11, table row 5). One command:

    python bench/batch_cli.py [--bundles 2010] [--rounds 3] [--mode fast] [--json out.json]

Copies the fixture catalog (every `fixtures/**/*.json` case) into a temporary directory until it holds
`--bundles` files, then runs `orderlint lint -q --format csv --mode MODE --jobs N DIR` for N = 1 and 2,
interleaved round by round, plus `python -c pass` (the process floor). For each it reports the median wall
time (and the wall-time ratio of each round's pair, run back to back: the median and range of those), bundles/s,
and CPU seconds per bundle (user + system of the child processes, from
`resource.getrusage(RUSAGE_CHILDREN)`): on a machine shared with other work the wall-time speed-up of
--jobs 2 is bounded by the idle cores, the CPU seconds per bundle are not, so both are printed. The
speed-up that 2 idle cores would give is estimated from CPU alone: with F the CPU of a one-file run (the
start, paid once) and W1, W2 the rest at --jobs 1 and 2, (F + W1) / (F + W2 / 2): both cores busy for the
whole run but the start, which ignores what else the CLI process does alone (collecting the inputs and the
warm-up before it forks, the report after) and the imbalance at the end.
Beside it: the same estimate for the per-bundle work alone, W1 / (W2 / 2) (how the lint itself scales),
and the bound the fixed start sets however well the work scales, (F + W1) / (F + W1 / 2) (Amdahl: the
start is paid once, by one process). And where the CPU of --jobs 2 goes: the same command run through
`python -c` with `linter.cli.main` as the console script runs it, which prints its own CPU
(`RUSAGE_SELF`: the start, collecting the inputs, the results' handling and the report) and its workers'
(`RUSAGE_CHILDREN`) on exit, and its own CPU when it forked and when it first waited for its worker (all
results in); medians, beside --jobs 1's CPU. From these a second estimate that counts what runs alone and the
imbalance: --jobs 1's CPU / (own CPU at the fork + the longer of the two processes' shares + own CPU after the
wait).
"""

from __future__ import annotations

import argparse
import compileall
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, cast

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ORDERLINT = str(Path(sys.executable).parent / "orderlint")


def make_corpus(directory: Path, count: int) -> int:
    cases = sorted(p for p in FIXTURES.rglob("*.json") if not p.name.endswith(".expected.json"))
    for n in range(count):
        src = cases[n % len(cases)]
        shutil.copyfile(src, directory / f"{n:05d}-{src.name}")
    return count


def timed(cmd: list[str]) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds of the child and its children, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


# `orderlint ARGS` as the console script runs it (linter.cli.main with argv None, which ends the process with
# os._exit once its output is out), printing on stderr at exit the CPU of the process itself and of its workers
# (waited for by then), and the process's own CPU when it forked its first worker and when it first waited for
# one (the batch's results all in): what it ran alone before and after the workers, which no second core
# shortens.
SPLIT = """
import os, resource, sys
from linter.cli import main
def own():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
marks = {}
fork, waitpid, exit_now = os.fork, os.waitpid, os._exit
cli = os.getpid()
def marked_fork():
    marks.setdefault("fork", own())
    return fork()
def marked_waitpid(*args):
    marks.setdefault("wait", own())
    return waitpid(*args)
def split():
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("cpu-split", own(), workers.ru_utime + workers.ru_stime, marks.get("fork", -1), marks.get("wait", -1),
          file=sys.stderr, flush=True)
def marked_exit(code):  # the CLI ends with os._exit (no teardown); its workers too, and say nothing
    if os.getpid() == cli:
        split()
    exit_now(code)
os.fork, os.waitpid, os._exit = marked_fork, marked_waitpid, marked_exit
sys.argv = ["orderlint", *sys.argv[1:]]
try:
    code = main()
finally:
    split()
sys.exit(code)
"""


class Split(NamedTuple):
    """CPU seconds of a --jobs 2 run: the CLI process's own, its workers', and the CLI process's own CPU at
    its first fork and at its first wait for a worker."""

    own: float
    workers: float
    at_fork: float
    at_wait: float

    def idle_wall(self) -> float:
        """The run's wall time on idle cores, from CPU: the process alone until it forks, then the longer of
        its own share and the worker's, then alone again (the results' report)."""
        return self.at_fork + max(self.at_wait - self.at_fork, self.workers) + (self.own - self.at_wait)


def split(cmd: list[str]) -> Split:
    """The CPU split of one run of `cmd` (an orderlint command line)."""
    # Run from the corpus directory: `python -c` puts its working directory first on the path (from the
    # checkout, it would import the checkout's linter ahead of a tree on PYTHONPATH).
    done = subprocess.run([sys.executable, "-c", SPLIT, *cmd[1:]], cwd=cmd[-1], capture_output=True, check=False)
    line = next(x for x in done.stderr.decode().splitlines() if x.startswith("cpu-split "))
    return Split(*map(float, line.split()[1:]))


def run(bundles: int, rounds: int, mode: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        make_corpus(corpus, bundles)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "one file": [ORDERLINT, "lint", "-q", "--format", "csv", "--mode", mode, str(next(corpus.iterdir()))],
            "jobs=1": [ORDERLINT, "lint", "-q", "--format", "csv", "--mode", mode, "--jobs", "1", str(corpus)],
            "jobs=2": [ORDERLINT, "lint", "-q", "--format", "csv", "--mode", mode, "--jobs", "2", str(corpus)],
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        outputs: dict[str, set[bytes]] = {name: set() for name in commands}
        splits: list[Split] = []
        for _ in range(rounds):
            for name, cmd in commands.items():
                wall, cpu, out = timed(cmd)
                samples[name].append((wall, cpu))
                outputs[name].add(out)
            splits.append(split(commands["jobs=2"]))
    identical = outputs["jobs=1"] == outputs["jobs=2"] and len(outputs["jobs=1"]) == 1
    result: dict[str, object] = {"bundles": bundles, "rounds": rounds, "mode": mode, "reports_identical": identical}
    floor_wall = statistics.median(w for w, _ in samples["python -c pass"])
    for name in ("jobs=1", "jobs=2"):
        wall = statistics.median(w for w, _ in samples[name])
        cpu = statistics.median(c for _, c in samples[name])
        result[name] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "bundles_per_s": bundles / wall,
            "cpu_ms_per_bundle": cpu / bundles * 1000,
            "bundles_per_cpu_s": bundles / cpu,
            "wall_over_python": wall / floor_wall,
        }
    one, two = result["jobs=1"], result["jobs=2"]
    assert isinstance(one, dict) and isinstance(two, dict)
    result["speedup_wall"] = one["wall_s"] / two["wall_s"]
    # Each round's --jobs 1 over the --jobs 2 run right after it: on a VM whose speed moves in phases of seconds
    # to minutes, a ratio within a round compares runs of one phase, a ratio of medians may not.
    paired = sorted(w1 / w2 for (w1, _), (w2, _) in zip(samples["jobs=1"], samples["jobs=2"], strict=True))
    result["speedup_wall_paired"] = statistics.median(paired)
    result["speedup_wall_paired_range"] = (paired[0], paired[-1])
    fixed = statistics.median(c for _, c in samples["one file"])  # the CLI's start: paid once per run
    result["fixed_cpu_s"] = fixed
    for r in (one, two):
        r["marginal_cpu_ms_per_bundle"] = (r["cpu_s"] - fixed) / bundles * 1000
    work1, work2 = one["cpu_s"] - fixed, two["cpu_s"] - fixed
    result["speedup_two_idle_cores_est"] = (fixed + work1) / (fixed + work2 / 2)
    result["speedup_work_only_est"] = work1 / (work2 / 2)
    result["speedup_bound_by_start"] = (fixed + work1) / (fixed + work1 / 2)
    result["cpu_ratio_jobs2_over_jobs1"] = two["cpu_s"] / one["cpu_s"]
    result["python_floor_s"] = floor_wall
    result["jobs2_own_cpu_s"] = statistics.median(s.own for s in splits)
    result["jobs2_workers_cpu_s"] = statistics.median(s.workers for s in splits)
    result["jobs2_alone_before_s"] = statistics.median(s.at_fork for s in splits)
    result["jobs2_alone_after_s"] = statistics.median(s.own - s.at_wait for s in splits)
    result["jobs2_parent_share_s"] = statistics.median(s.at_wait - s.at_fork for s in splits)
    # jobs=1's CPU over the wall time --jobs 2 would take on 2 idle cores, from each split run's CPU (what ran
    # alone counted whole, the parallel part as the longer of the two processes' shares): unlike the estimate
    # above it counts what only one process could do and the imbalance at the end.
    result["speedup_two_idle_cores_with_serial_est"] = one["cpu_s"] / statistics.median(s.idle_wall() for s in splits)
    return result


def report(result: dict[str, object]) -> None:
    print(
        f"batch CLI, {result['bundles']} fixture bundles, mode {result['mode']}, medians of "
        f"{result['rounds']} interleaved rounds (python -c pass: {result['python_floor_s']:.3f} s)"
    )
    for name in ("jobs=1", "jobs=2"):
        r = result[name]
        assert isinstance(r, dict)
        print(
            f"  {name}: wall {r['wall_s']:6.2f} s  {r['bundles_per_s']:6.0f} bundles/s  CPU {r['cpu_s']:6.2f} s  "
            f"{r['cpu_ms_per_bundle']:.2f} ms CPU/bundle, {r['marginal_cpu_ms_per_bundle']:.2f} ms beyond the "
            f"start ({1000 / r['marginal_cpu_ms_per_bundle']:.0f} bundles per CPU-second)"
        )
    print(f"  fixed start (one-file lint): {result['fixed_cpu_s']:.2f} s CPU")
    print(
        f"  --jobs 2 / --jobs 1: wall {result['speedup_wall']:.2f}x, CPU spent "
        f"{result['cpu_ratio_jobs2_over_jobs1']:.2f}x, on 2 idle cores (est.) "
        f"{result['speedup_two_idle_cores_est']:.2f}x; reports identical: {result['reports_identical']}"
    )
    low, high = cast("tuple[float, float]", result["speedup_wall_paired_range"])
    print(
        f"  --jobs 2 / --jobs 1 round by round (each pair run back to back): wall {result['speedup_wall_paired']:.2f}x "
        f"median, {low:.2f}-{high:.2f}x"
    )
    print(
        f"  --jobs 2's CPU: {result['jobs2_own_cpu_s']:.2f} s in the CLI process (start included), "
        f"{result['jobs2_workers_cpu_s']:.2f} s in its workers"
    )
    print(
        f"  of which alone (no second core shortens it): {result['jobs2_alone_before_s']:.2f} s before the worker "
        f"forks (start included), {result['jobs2_alone_after_s']:.2f} s after the results are in, "
        f"{result['jobs2_parent_share_s']:.2f} s between"
    )
    print(
        "  --jobs 2 / --jobs 1 on 2 idle cores (est., counting what runs alone and the imbalance): "
        f"{result['speedup_two_idle_cores_with_serial_est']:.2f}x"
    )
    print(
        f"  the per-bundle work alone on 2 idle cores (est.): {result['speedup_work_only_est']:.2f}x; "
        f"the bound the fixed start sets with perfect scaling: {result['speedup_bound_by_start']:.2f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=2010)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=["fast", "strict"], default="fast")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    args = parser.parse_args()
    if not args.no_compile:  # as a wheel's install does; with PYTHONDONTWRITEBYTECODE set, every start compiles
        compileall.compile_dir(ROOT / "linter", quiet=1)
    result = run(args.bundles, args.rounds, args.mode)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
