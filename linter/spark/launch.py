"""Starting the Spark session of `orderlint spark`: its settings, and the JVM launched while the driver goes on.

The JVM takes 2-3 s to start and the driver ~0.5 s to import the pipeline (pyspark.sql's functions, pandas,
pyarrow), load the profile and read the patient salt: `start` launches the session in a thread before those,
so the two overlap instead of adding up (pyspark only needs pyspark.sql to launch it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pyspark import SparkContext
from pyspark.find_spark_home import _find_spark_home
from pyspark.sql import SparkSession

from linter.spark import jvm_cache
from linter.spark.jvm_cache import JvmCache

# Settings of a local master, each replaced by the same key in --conf. In local mode the one JVM is driver and
# executor, and it does little per row (reading, shuffling, writing Parquet): the Python workers lint. C2, the
# JIT's optimizing tier, cost more CPU than it saved: at 100,000 patients on one core, 59.7 instead of 73.3
# CPU s (bench/README.md, "Spark"). The web UI would listen on every interface (port 4040, no login) and
# describe the job to anyone who can reach the machine: off unless asked for. The driver's RPC and block
# manager ports (unauthenticated: spark.authenticate is off) listen on loopback only: nothing outside this
# machine needs them when the executors are in the same JVM. The Python workers fork from a daemon that has
# the engine imported already (linter.spark.daemon). The keyed lines are persisted (DISK_ONLY) in Spark's
# columnar cache uncompressed: its encodings find nothing to share between distinct JSON lines and cost CPU
# (local[1], 100,000 patients: 35.3-35.6 instead of 36.5-36.6 s, two alternated pairs). Adaptive query
# execution re-plans the query between its stages, a job each: the patient partitions are set to 4 per core,
# the Medications broadcast by hint and the patients spread by hash, so on one machine it has nothing to
# adapt (local[2], 100,000 patients: 25.9-26.7 s without it, 27.5 s with it, alternated under load; at idle
# within the runs' spread; bench/README.md, "Spark").
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
PROGRESS = "spark.ui.showConsoleProgress"
LOCAL_DEFAULTS = {
    JAVA_OPTIONS: "-XX:TieredStopAtLevel=1",
    "spark.ui.enabled": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.python.daemon.module": "linter.spark.daemon",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.sql.adaptive.enabled": "false",
}


def session(
    master: str | None, conf: list[tuple[str, str]], app: str = "orderlint", jvm: JvmCache | None = None
) -> SparkSession:
    """master None: the one spark-submit was given (it starts the JVM first and hands this process its
    gateway, with spark.master already set there), else local[*]. `jvm`: the class-data archive of a local
    JVM (linter.spark.jvm_cache), added to LOCAL_DEFAULTS' Java options unless --conf sets them."""
    builder = SparkSession.builder.appName(app)
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = master or "local[*]"
        builder = builder.master(master)
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")  # for applyInPandas
    if PROGRESS not in {k for k, _ in conf}:
        # Spark's progress bar redraws stderr 5 times a second from a thread of its own: for a terminal only,
        # not into a log or a pipe (0.3-1.0 CPU s of the JVM at 100,000 patients on one core).
        builder = builder.config(PROGRESS, str(sys.stderr is not None and sys.stderr.isatty()).lower())
    if master and master.startswith("local"):
        # the workers run this interpreter (its venv has orderlint), as the driver
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        given = {k for k, _ in conf}
        for k, v in LOCAL_DEFAULTS.items():
            if k not in given:
                if k == JAVA_OPTIONS and jvm is not None:
                    v = f"{v} {jvm.java_options}"
                builder = builder.config(k, v)
    for k, v in conf:
        builder = builder.config(k, v)
    return builder.getOrCreate()


def _jvm_cache_dir(value: str | None) -> Path | None:
    if value == "off":
        return None
    return Path(value).expanduser() if value else jvm_cache.default_directory()


@dataclass
class Launch:
    """A session being started (in a thread), and the JVM archive it records or maps."""

    future: Future[SparkSession]
    jvm: JvmCache | None

    def session(self) -> SparkSession:
        spark = self.future.result()
        if threading.current_thread() is threading.main_thread():
            # What SparkContext does when created in the main thread: Ctrl-C cancels the running jobs.
            def cancel(_signum: int, _frame: FrameType | None) -> None:
                spark.sparkContext.cancelAllJobs()
                raise KeyboardInterrupt

            signal.signal(signal.SIGINT, cancel)
        return spark

    def stop(self) -> None:
        """Stop the session (waiting for it if it is still starting) and finish the JVM archive."""
        try:
            stop_session(self.future.result())
        finally:
            jvm_cache.finish(self.jvm)


def stop_session(spark: SparkSession) -> None:
    """spark.stop(), without waiting for pyspark's accumulator server to notice: its request handler polls the
    JVM's socket once a second, and socketserver's shutdown() waits for it (0.5 s on average at the end of
    every run). The Spark context is stopped here; the server shuts down in a daemon thread, by itself within
    a second or with the process."""
    sc = spark.sparkContext
    server = getattr(sc, "_accumulatorServer", None)
    if server is not None:
        sc._accumulatorServer = None  # type: ignore[assignment]  # spark.stop() leaves it to the thread below
    try:
        spark.stop()
    finally:
        if server is not None:
            threading.Thread(target=server.shutdown, name="orderlint-accumulators-stop", daemon=True).start()


def parse_conf(items: list[str]) -> list[tuple[str, str]] | str:
    """--conf KEY=VALUE pairs, or the error message for the first malformed one."""
    conf = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            return f"--conf wants KEY=VALUE, got {item!r}"
        conf.append((key.strip(), value))
    return conf


def start(args: argparse.Namespace) -> Launch | str:
    """Launch the session of `orderlint spark` in a thread; an error message when --conf is malformed."""
    conf = parse_conf(args.conf)
    if isinstance(conf, str):
        return conf
    # The archive is for a JVM this process starts: a local master, with no Spark running here already.
    local = args.master.startswith("local") if args.master else "PYSPARK_GATEWAY_PORT" not in os.environ
    starts_jvm = local and SparkContext._gateway is None
    jvm = jvm_cache.prepare(_jvm_cache_dir(args.jvm_cache), Path(_find_spark_home())) if starts_jvm else None
    if jvm is not None and jvm.spark_home is not None:
        os.environ["SPARK_HOME"] = str(jvm.spark_home)  # what pyspark launches spark-submit from
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderlint-spark-start")
    future = pool.submit(session, args.master, conf, jvm=jvm)
    pool.shutdown(wait=False)  # the thread ends with the launch; the caller waits on the future
    return Launch(future, jvm)
