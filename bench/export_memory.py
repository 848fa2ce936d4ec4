"""Memory and speed of `orderlint lint --export` as the export grows (issue 11 item 6).

For each size, generates a gzipped Bulk Data export of N patients (bench/export_gen.py: NDJSON per resource
type, split in parts), runs the CLI on it in a child process (`lint --export --mode fast --format F -q -o
OUT`) and prints wall time, CPU seconds (user + system of the child, from wait4), patients per CPU second,
the child's peak RSS (ru_maxrss) and the peak size on disk of its temporary directory (polled: the SQLite
index, and the parts of the report written as it streams). Memory must stay flat in N for every streamed
format (linter.bulk_stream.STREAMED_FORMATS: text, csv, json, html, cards, outcome, mue, mue-json): the index
and the report's parts are on disk, only one patient's order set is in memory.

With `--before-src DIR` (a tree of an earlier commit, e.g. `git archive <rev> | tar -x -C DIR`) the same
exports are also linted by that tree's CLI (PYTHONPATH=DIR, same interpreter), interleaved round by round,
for sizes up to `--before-max`; the outputs of both must be identical (checked) and the table gets a
"before" row per size. Generated data is removed after each size.

    python bench/export_memory.py [--patients 2000 20000 200000] [--format mue-json] [--rounds 1]
                                  [--before-src DIR] [--before-max 20000] [--tmp /tmp]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_gen import write_export


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    disk_mb: float
    output: bytes
    code: int


def _tree_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed while we looked
                total += os.stat(os.path.join(dirpath, name)).st_size
    return total


def run_cli(export: Path, fmt: str, src: Path | None, work: Path) -> Run:
    """One CLI run in a child process; its own TMPDIR, polled for the index's size on disk."""
    tmp = work / "child-tmp"
    tmp.mkdir(exist_ok=True)
    out = work / f"out.{fmt}"
    env = {**os.environ, "TMPDIR": str(tmp), "ORDERLINT_PATIENT_ID_SALT": "bench-salt"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "linter.cli", "lint", "--export", str(export)]
    cmd += ["--mode", "fast", "--format", fmt, "-q", "-o", str(out)]
    peak = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.wait(0.5):
            peak = max(peak, _tree_bytes(tmp))

    watcher = threading.Thread(target=poll, daemon=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watcher.start()
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 2) or not out.exists():
        sys.stderr.write(stderr.decode(errors="replace"))
        raise SystemExit(f"the CLI failed with exit code {proc.returncode}")
    output = out.read_bytes()
    out.unlink()
    shutil.rmtree(tmp)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak / 2**20, output, proc.returncode)


def _row(label: str, n: int, runs: list[Run]) -> str:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    rss = max(r.rss_mb for r in runs)
    disk = max(r.disk_mb for r in runs)
    return f"| {label} | {n:,} | {wall:.1f} | {cpu:.1f} | {n / cpu:,.0f} | {rss:,.0f} | {disk:,.0f} |"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    p.add_argument("--format", default="mue-json", help="the CLI's --format (mue-json, mue, text, html, ...)")
    p.add_argument("--rounds", type=int, default=1, help="runs per size (and per tree), medians reported")
    p.add_argument("--before-src", type=Path, help="an earlier tree to compare with (see the docstring)")
    p.add_argument("--before-max", type=int, default=20_000, help="largest size linted by --before-src")
    p.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = p.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}, format {args.format}", flush=True)
    print("| tree | patients | wall s | CPU s | patients per CPU-s | peak RSS MB | index on disk MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for n in args.patients:
        work = Path(tempfile.mkdtemp(prefix=f"export-memory-{n}-", dir=args.tmp))
        try:
            export = write_export(work / "export", n)
            trees: list[tuple[str, Path | None]] = [("now", None)]
            if args.before_src is not None and n <= args.before_max:
                trees.append(("before", args.before_src))
            runs: dict[str, list[Run]] = {label: [] for label, _ in trees}
            for _ in range(args.rounds):
                for label, src in trees:
                    runs[label].append(run_cli(export, args.format, src, work))
            outputs = {r.output for rs in runs.values() for r in rs}
            if len(outputs) != 1:
                raise SystemExit(f"{n} patients: the outputs differ between runs or trees")
            for label, _ in trees:
                print(_row(label, n, runs[label]), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
