"""Spark's Python daemon for orderlint's workers (`spark.python.daemon.module`, set for local masters in
launch.LOCAL_DEFAULTS; a cluster can set it with `--conf`): pyspark.daemon, with the reader, the engine, the
rules and the store imported once, before the daemon forks a worker per task slot. Each worker used to import
them itself before its first patient (0.4 s on this machine, in every worker). The collector is settled
(linter.heap) so that the forked workers neither walk what they inherited nor collect every 700 allocations.

pyspark.daemon imports its worker module only after the fork because pandas and pyarrow start threads when
imported, and a fork copies no thread: linter.bulk starts none (tests/spark/test_spark_job.py checks it),
and pandas and pyarrow are still imported after the fork, by pyspark.worker.
"""

from __future__ import annotations

import linter.bulk  # noqa: F401 - imported here once, inherited by every forked worker
from linter import heap

if __name__ == "__main__":
    from pyspark import daemon  # lazy: only the daemon process runs it

    heap.settle()
    daemon.manager()
