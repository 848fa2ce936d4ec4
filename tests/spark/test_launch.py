"""Stopping the session of `orderlint spark` (linter.spark.launch.stop_session): the Spark context is stopped
at once, pyspark's accumulator server shuts down in the background, and the process can start another
session. Run in a child process: a process has one Spark context, and the tests' own session is running."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.spark

SCRIPT = textwrap.dedent(
    """
    import threading
    from pyspark import SparkContext
    from linter.spark.launch import session, stop_session

    first = session("local[1]", [], "orderlint-stop-test")
    server = first.sparkContext._accumulatorServer
    assert first.range(1000).selectExpr("id % 7 AS k").groupBy("k").count().count() == 7
    stop_session(first)
    assert SparkContext._active_spark_context is None  # stopped, not waiting for the server
    stopping = [t for t in threading.enumerate() if t.name == "orderlint-accumulators-stop"]
    assert len(stopping) == 1
    stopping[0].join(10)
    assert not stopping[0].is_alive() and server.server_shutdown  # the server did shut down
    second = session("local[1]", [], "orderlint-stop-test")
    assert second.range(10).count() == 10
    stop_session(second)
    print("ok")
    """
)


def test_the_session_stops_and_the_accumulator_server_shuts_down_behind_it() -> None:
    from tests.spark.conftest import _need_spark

    _need_spark()
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
