"""Spark benchmark: a generated gzipped Bulk Data export of N patients (bench/export_gen.py: BTK, PAD and
unrelated order sets) linted by `orderlint spark` on local[1] and local[2] and by the single-machine CLI
(`orderlint lint --export`, the baseline, measured in the same run), all in fast mode. Reports patients/s,
the 1 -> 2 core speed-up, the per-core rate against the CLI, and peak memory: the Python driver, the JVM
(in local mode the driver and the executor are one JVM, capped by spark.driver.memory) and the Python
workers (summed), polled from /proc. Checks that Spark and the CLI report the same totals.

    python bench/spark_bench.py [--patients 10000] [--driver-memory 1g] [--grouping] [--no-cli] [--keep DIR]
                                [--export DIR] [--masters local[1] local[2]] [--pin] [--jvm-cache DIR|off]
                                [--event-log DIR]

--export DIR times an existing export (of --patients patients) instead of generating one. --event-log DIR
writes each Spark run's event log there and prints its stages: the task threads' CPU (executorCpuTime, the
JVM's own work; the Python workers are other processes), run time, GC and shuffle bytes, summed per stage.
Unlike wall time, these stay meaningful while other processes load the machine.

The local JVM maps a class-data archive (linter.spark.jvm_cache), as every run after a machine's first does:
an untimed run on 500 patients records it first, unless --jvm-cache names one (or 'off').

--pin runs each local[N] under `taskset` on the first N cores (and the CLI on one core), so "1 core" means one
CPU for the whole process tree: unpinned, local[1] has one task slot but its JVM (reading, shuffling, writing
Parquet, garbage collection) runs beside the Python worker on the second core, so local[1] -> local[2]
compares ~1.5 cores with 2.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_gen import write_export

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    label: str
    seconds: float
    patients: int
    peak_driver_mb: float  # the Python process we started
    peak_jvm_mb: float
    peak_workers_mb: float  # Python workers, summed at each poll
    totals: dict[str, Any]
    cpu_seconds: float  # user + system of the whole process tree
    cpu_workers: float  # of which the Python workers (polled; the rest is the JVM and the Python driver)
    load: tuple[float, float]  # 1-minute load average at start and end

    @property
    def rate(self) -> float:
        return self.patients / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Patients per CPU second: the rate on one idle core if all the work were serial."""
        return self.patients / self.cpu_seconds

    def idle_seconds(self, cores: int) -> tuple[float, float]:
        """Wall time on `cores` idle cores estimated from CPU: (best, worst). Best: every core busy all along
        (CPU / cores). Worst: only the Python workers run in parallel, the driver and the JVM serially."""
        best = self.cpu_seconds / cores
        return best, max(best, self.cpu_seconds - self.cpu_workers + self.cpu_workers / cores)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_measured(label: str, argv: list[str], patients: int, report: Path) -> Measure:
    load0 = os.getloadavg()[0]
    cpu0 = _children_cpu_s()
    start = time.perf_counter()
    # cwd: `python -m` puts the working directory first on sys.path, before PYTHONPATH (run from the repository,
    # an A/B against an older tree on PYTHONPATH would time this tree twice)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    peaks = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
    cpu_seen: dict[int, float] = {}  # per process of the tree, its latest CPU seconds (workers may not be reaped)
    is_jvm: dict[int, bool] = {}  # as last seen: spark-submit is a shell script until it execs java
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            tree = _children()
            stack, jvm, workers = list(tree.get(proc.pid, [])), 0.0, 0.0
            while stack:
                pid = stack.pop()
                stack.extend(tree.get(pid, []))
                cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), _cpu_s(pid))
                is_jvm[pid] = "java" in _cmd(pid).split(" ", 1)[0]
                if is_jvm[pid]:
                    jvm += _rss_mb(pid)
                else:
                    workers += _rss_mb(pid)
            cpu_seen[proc.pid] = max(cpu_seen.get(proc.pid, 0.0), _cpu_s(proc.pid))
            peaks["driver"] = max(peaks["driver"], _rss_mb(proc.pid))
            peaks["jvm"] = max(peaks["jvm"], jvm)
            peaks["workers"] = max(peaks["workers"], workers)
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    # rusage counts every descendant that was waited for; the polled sum also counts workers that were not
    # (it misses at most the last poll interval of each process): the larger is the closer to the truth
    cpu = max(_children_cpu_s() - cpu0, sum(cpu_seen.values()))
    if proc.returncode not in (0, 1, 2) or not report.exists():
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    totals = json.loads(report.read_text())["totals"]
    load = (load0, os.getloadavg()[0])
    cpu_workers = sum(cpu_seen[pid] for pid, jvm in is_jvm.items() if not jvm)
    return Measure(
        label, seconds, patients, peaks["driver"], peaks["jvm"], peaks["workers"], totals, cpu, cpu_workers, load
    )


def spark_argv(
    export: Path, out: Path, master: str, memory: str, grouping: str, conf: list[str], jvm_cache: str
) -> list[str]:
    return [
        sys.executable, "-m", "linter.cli", "spark", str(export), "--output", str(out), "--mode", "fast",
        "--master", master, "--grouping", grouping, "--conf", f"spark.driver.memory={memory}",
        "--jvm-cache", jvm_cache,
        "--conf", "spark.ui.enabled=false",
        *(a for c in conf for a in ("--conf", c)),
    ]  # fmt: skip


def _slots(master: str) -> int:
    """local[N] -> N; local[*] and cluster masters -> every core."""
    inner = master[master.find("[") + 1 : master.find("]")] if master.startswith("local[") else ""
    return int(inner) if inner.isdigit() else os.cpu_count() or 1


def _pinned(argv: list[str], cores: int, pin: bool) -> list[str]:
    """The command on the first `cores` CPUs (taskset; every child inherits it), or unchanged."""
    if not pin or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores]), *argv]


def _event_log_conf(directory: Path | None, name: str) -> list[str]:
    """Spark settings for one plain JSON event log in `directory` (none: no settings). Spark names the file
    after the application id; `name` only marks the run for _newest."""
    if directory is None:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    return [
        "spark.eventLog.enabled=true",
        f"spark.eventLog.dir={directory.resolve().as_uri()}",
        "spark.eventLog.compress=false",
        "spark.eventLog.rolling.enabled=false",
        f"spark.app.name=orderlint-bench-{name}",
    ]


def _newest(directory: Path, conf: list[str]) -> Path:
    name = next(c.split("=", 1)[1] for c in conf if c.startswith("spark.app.name="))
    for log in sorted(directory.iterdir(), key=lambda f: f.stat().st_mtime, reverse=True):
        with log.open() as fh:
            if any(name in line for line in itertools.islice(fh, 20)):
                return log
    raise SystemExit(f"no event log of {name} in {directory}")


def stage_table(log: Path) -> str:
    """Per stage of an event log: tasks, the task threads' run time, CPU (executor CPU + deserialization, the
    JVM's own work: the Python workers are other processes), GC, the time the tasks waited on Python workers
    and shuffle MB read and written; then the sums and the application's span."""
    stages: dict[int, dict[str, float]] = {}
    names: dict[int, str] = {}
    span = [0, 0]
    with log.open() as fh:
        for line in fh:
            e = json.loads(line)
            event = e["Event"]
            if event == "SparkListenerApplicationStart":
                span[0] = e["Timestamp"]
            elif event == "SparkListenerApplicationEnd":
                span[1] = e["Timestamp"]
            elif event == "SparkListenerStageSubmitted":
                names[e["Stage Info"]["Stage ID"]] = re.sub(r"\S*/", "", e["Stage Info"]["Stage Name"])
            elif event == "SparkListenerTaskEnd":
                m = e.get("Task Metrics") or {}
                s = stages.setdefault(e["Stage ID"], dict.fromkeys(STAGE_COLUMNS, 0.0))
                read, written = m.get("Shuffle Read Metrics", {}), m.get("Shuffle Write Metrics", {})
                s["tasks"] += 1
                s["run s"] += m.get("Executor Run Time", 0) / 1e3
                s["CPU s"] += (m.get("Executor CPU Time", 0) + m.get("Executor Deserialize CPU Time", 0)) / 1e9
                s["GC s"] += m.get("JVM GC Time", 0) / 1e3
                s["Python s"] += sum(
                    int(a["Update"]) / 1e3
                    for a in e["Task Info"].get("Accumulables", [])
                    if a.get("Name") == "time to run Python workers"
                )
                s["shuffle read MB"] += (read.get("Local Bytes Read", 0) + read.get("Remote Bytes Read", 0)) / 1e6
                s["shuffle written MB"] += written.get("Shuffle Bytes Written", 0) / 1e6
    rows = ["| stage | " + " | ".join(STAGE_COLUMNS) + " | name |", "| ---: " * (len(STAGE_COLUMNS) + 1) + "| --- |"]
    total = dict.fromkeys(STAGE_COLUMNS, 0.0)
    for sid in sorted(stages):
        rows.append(f"| {sid} | " + " | ".join(_cell(stages[sid][c]) for c in STAGE_COLUMNS) + f" | {names.get(sid)} |")
        for c in STAGE_COLUMNS:
            total[c] += stages[sid][c]
    rows.append(
        "| all | " + " | ".join(_cell(total[c]) for c in STAGE_COLUMNS) + f" | span {(span[1] - span[0]) / 1e3:.1f} s |"
    )
    return "\n".join(rows)


STAGE_COLUMNS = ("tasks", "run s", "CPU s", "GC s", "Python s", "shuffle read MB", "shuffle written MB")


def _cell(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, default=10_000)
    p.add_argument("--driver-memory", default="1g")
    p.add_argument("--grouping", action="store_true", help="also time applyInPandas grouping on local[2]")
    p.add_argument("--no-cli", action="store_true", help="skip the single-machine baseline (large N)")
    p.add_argument("--keep", type=Path, help="generate the export here and keep it")
    p.add_argument("--export", type=Path, help="time this existing export (of --patients patients)")
    p.add_argument("--event-log", type=Path, help="write the Spark runs' event logs here and print their stages")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="more Spark settings")
    p.add_argument("--masters", nargs="*", default=["local[1]", "local[2]"], help="Spark masters to time")
    p.add_argument("--pin", action="store_true", help="run local[N] on the first N cores only (taskset)")
    p.add_argument(
        "--jvm-cache",
        help="the JVM class-data archive directory of the runs (default: a new one, recorded by an untimed run "
        "on 500 patients first, as a machine's first run records it); 'off': none",
    )
    args = p.parse_args()
    os.environ.setdefault("ORDERLINT_PATIENT_ID_SALT", "bench-salt")
    tmp = Path(tempfile.mkdtemp(prefix="orderlint-spark-bench-"))
    try:
        export = args.export or args.keep or tmp / "export"
        if args.export is not None and not export.is_dir():
            raise SystemExit(f"--export {export}: no such directory")
        if not export.exists():
            t = time.perf_counter()
            write_export(export, args.patients)
            print(f"generated {args.patients} patients in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        size = sum(f.stat().st_size for f in export.iterdir()) / 1e6
        jvm_cache = args.jvm_cache or str(tmp / "jvm")
        if not args.jvm_cache:  # the first run on a machine records the archive; the timed runs map it
            write_export(tmp / "warm", 500)
            warm = spark_argv(tmp / "warm", tmp / "out-warm", "local[2]", args.driver_memory, "sorted", [], jvm_cache)
            subprocess.run(warm, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=tmp)
        runs: list[Measure] = []
        logs: list[tuple[str, Path]] = []
        for master in args.masters:
            out = tmp / f"out-{len(runs)}"
            log_conf = _event_log_conf(args.event_log, f"{master}-{len(runs)}")
            argv = spark_argv(export, out, master, args.driver_memory, "sorted", args.conf + log_conf, jvm_cache)
            runs.append(run_measured(master, _pinned(argv, _slots(master), args.pin), args.patients, out / "mue.json"))
            print(f"{master}: {runs[-1].seconds:.1f} s", file=sys.stderr)
            if args.event_log is not None:
                logs.append((master, _newest(args.event_log, log_conf)))
        if args.grouping:
            out = tmp / "out-apply"
            argv = spark_argv(export, out, "local[2]", args.driver_memory, "apply", args.conf, jvm_cache)
            runs.append(run_measured("local[2] applyInPandas", argv, args.patients, out / "mue.json"))
        if not args.no_cli:
            report = tmp / "cli-mue.json"
            argv = [sys.executable, "-m", "linter.cli", "lint", "--export", str(export), "--mode", "fast",
                    "--format", "mue-json", "-q", "-o", str(report)]  # fmt: skip
            runs.append(run_measured("CLI (lint --export)", _pinned(argv, 1, args.pin), args.patients, report))
        pinned = ", each local[N] pinned to N cores (taskset), the CLI to one" if args.pin else ""
        cds = "off" if jvm_cache == "off" else "mapped (recorded by an earlier run)"
        print(f"\n{args.patients} patients, export {size:.1f} MB gzipped, spark.driver.memory={args.driver_memory}"
              f"{pinned}, JVM class-data archive {cds}\n")  # fmt: skip
        print("| run | load avg start/end | wall s | patients/s (wall) | CPU s (tree) | of it Python workers | "
              "patients per CPU s | peak driver (Python) MB | peak JVM MB | peak Python workers MB |")  # fmt: skip
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for m in runs:
            print(f"| {m.label} | {m.load[0]:.1f} / {m.load[1]:.1f} | {m.seconds:.1f} | {m.rate:.0f} | "
                  f"{m.cpu_seconds:.1f} | {m.cpu_workers:.1f} | {m.cpu_rate:.0f} | {m.peak_driver_mb:.0f} | "
                  f"{m.peak_jvm_mb:.0f} | {m.peak_workers_mb:.0f} |")  # fmt: skip
        for master, log in logs:
            print(f"\n{master}: stages of {log}\n")
            print(stage_table(log))
        by = {m.label: m for m in runs}
        if "local[1]" in by and "local[2]" in by:
            one, two = by["local[1]"], by["local[2]"]
            how = "1 core -> 2 cores, pinned" if args.pin else "unpinned: local[1] uses more than one core"
            print(f"\nspeed-up local[1] -> local[2], wall ({how}): {two.rate / one.rate:.2f}x")
            best, worst = two.idle_seconds(2)
            print(f"speed-up on 2 idle cores estimated from CPU: {one.cpu_seconds / worst:.2f}x - "
                  f"{one.cpu_seconds / best:.2f}x (local[1] on one core = its CPU s; local[2] between CPU/2 and "
                  f"serial driver+JVM + workers/2; target >= 1.7)")  # fmt: skip
        cli = next((m for m in runs if m.label.startswith("CLI")), None)
        if cli is not None:
            if "local[1]" in by:
                one = by["local[1]"]
                print(f"per-core rate local[1] / CLI: wall {one.rate / cli.rate:.2f}, per CPU second "
                      f"{one.cpu_rate / cli.cpu_rate:.2f} (target >= 0.5)")  # fmt: skip
            same = all(m.totals == cli.totals for m in runs)
            print(f"Spark totals equal the CLI's: {same}")
            if not same:
                print(json.dumps({m.label: m.totals for m in runs}, indent=1))
                return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
