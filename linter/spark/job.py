"""The Spark pipeline of `orderlint spark` (the only module, with linter.spark.worker, that imports pyspark).

    NDJSON files --binaryFile + mapInArrow (keyed in Python, linter.bulk.key_line)--> (file, line, kind, key,
    ref, text); plain files over WHOLE_FILE_BYTES through textFile + zipWithIndex instead
      --repartition(group: xxhash64 of the patient id)--> ONE shuffle of every keyed line, read by three branches
      patients' lines (and the unreadable ones, key null)  ∪  the Medications their orders name (distinct
      (patient, ref) ⋈ Medication lines by sort-merge join, then a small shuffle to the patients' partitions:
      partitioned alike, the union is too)
      --sortWithinPartitions(group), a radix sort of one long--> mapInArrow: lint each patient, its few lines
      ordered by the worker, an unreadable line its error row --> rows (linter.bulk.RECORD_COLUMNS; order rows
      flag the order sets they open), cached on disk: the one group-by (the report's counts) lints, the
      outputs read the cache --> findings.parquet and orders.parquet (a file per core), findings.csv (one
      file); the counts (a few hundred numbers) --> mue.json, mue.html

No data is collected to the driver: only the file listing and the aggregated counts; the Medications reach
their patients by shuffle, whatever their size. Files are read whole (gzip is not splittable anyway), one
task per group of files of about equal work, and their lines by linter.bulk.read_lines in the worker, as the
CLI reads them, so a truncated .gz gives its readable lines and the CLI's error row where Hadoop's codec would
kill the job; only large plain files are split across tasks.

Partitioning and transport (measured in bench/README.md, "Spark"): repartition + sortWithinPartitions +
mapInArrow, not groupBy(patient).applyInPandas: the latter builds a pandas frame and an Arrow round trip per
patient (~5 rows each) and was 1.4x slower at 2,000 patients. mapInArrow streams Arrow batches of 10,000 rows
through one reused Python worker per core and hands contiguous patients to the engine, with no pandas on the
way (with mapInPandas the lint stage took 42 instead of 37 s at 100,000 patients on one core); the keying goes
the same way instead of an RDD whose rows were pickled back to the JVM. Patient partitions: 4 per core, at
least 8. Python workers are reused (spark.python.worker.reuse, Spark's default), so the engine is imported
once per worker, not per task. In local mode the JVM runs with C1 only and no web UI (LOCAL_DEFAULTS).

The JVM's share (issue 13, 2026-11-30; 100,000 patients on one core, event log and JFR samples, CPU seconds
under load 5-17 from other sessions, so compare within a row): the JVM took 28.0-29.0 CPU s (task threads
16.3-16.6, planning 3.5-4.2, C1 3.3-3.5, GC 1.5-1.7) where the CLI spends ~14 s in all. Where it went, and
what changed:
- The keyed lines were persisted (DISK_ONLY, Spark's columnar cache: half the keying stage's JVM time was
  building it) and read by a job that only measured the Medications (to choose a broadcast join) and again
  by the lint query, which shuffled them. Now the keying feeds one shuffle directly and the four branches
  (patients, references, Medications, errors) read its output: ONE_SHUFFLE_EXCLUDED_RULES keeps the
  optimizer from pushing each branch's filter below it, which would make four shuffles and key every file
  four times. The Medications always join by shuffle (two small exchanges of references and Medication
  lines, one of the joined lines): no size query, no broadcast through the driver. Keying stage 3.0 -> 1.6-1.8
  CPU s, the Medication job and the cache read gone, collections (JVM GC) 1.5-1.7 -> 0.7-0.8 s.
- The order sets per month and in all were a rollup with countDistinct over the cached rows, a fourth job
  after the lint. Now the worker flags an order row that opens its order set (patient HMAC) or its set's
  month, and the one group-by sums the flags: a group (the hash of the id the HMAC is taken of) holds every
  key sharing an HMAC, so the tally is exact (worker._count_sets). 0.8 CPU s of tasks and a query's planning.
- The lint stage sorted by (key, file, line): every key starts with `Patient/`, 8 bytes, exactly Spark's sort
  prefix, so each comparison read both rows (40 % of the stage's JFR samples). Now it sorts by the group's
  long alone (a radix sort, no row comparisons) and the worker orders each patient's few lines.
- Parquet: no dictionary for the columns whose values hardly repeat (UNIQUE_COLUMNS).
- The medicationReference travels as one nullable string (`ref`), not a list.
Later the same day (local[1], 5,000 patients, JVM CPU alternated under load 4-15: a run's fixed cost, most of
what the JVM spends at 100,000 too):
- The unreadable lines were a fourth branch, unioned after the lint: the lint stage read the whole shuffle
  twice, and every output job ran twice the tasks (8 lint partitions + 8 error partitions). Now they travel
  with the patients, key null, and the worker writes their error rows.
- Parquet is written a file per core (coalesce), not per patient partition: each write task deserializes the
  job's Hadoop configuration (a quarter of the task threads' samples at 5,000 patients). Both Parquet jobs
  1.5-2.3 -> 0.6 task CPU s at 5,000 patients.
- The exchanges left to spark.sql.shuffle.partitions (the distinct references, the report's counts) run at
  two partitions per core instead of the lint's 8.
- The local JVM runs from a Spark home without spark-mllib (linter.spark.jvm_cache.trimmed_home): its
  session extension initialised Scala reflection at every session start (JVM 23.3-23.4 -> 20.0-20.7 CPU s, alternated).
Tried without a gain: C1 thresholds scaled by 4 (-XX:CompileThresholdScaling: 15,490 -> 9,531 methods
compiled, C1 5.9 -> 4.3 CPU s, but the interpreter's share grew more), expressions interpreted instead of
generated (spark.sql.codegen.factoryMode=NO_CODEGEN, whole-stage off: within the noise).
Tried without a gain before: the lint rows cached in memory (MEMORY_AND_DISK) instead of on disk, Spark's
order-independent shuffle checksum off (spark.sql.shuffle.orderIndependentChecksum.enabled), a hash prefix in
front of (key, file, line) in the sort; earlier sessions: uncompressed shuffle and spill, higher C1 compile
thresholds, whole-stage code generation off. Measure with `bench/spark_bench.py --event-log DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, DataFrameWriter, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

from linter.bulk import TEXT_COLUMNS, VALUE_COLUMNS, ExportOptions, Window, error_record, is_export_file
from linter.profiles import Profile
from linter.render.mue import MueCounts, mue_doc, mue_html
from linter.rules import RULE_NAMES
from linter.spark import worker
from linter.spark.launch import Launch

KEYED_SCHEMA = StructType(
    [
        StructField("file", StringType()),
        StructField("line", LongType()),
        StructField("kind", StringType()),
        StructField("key", StringType()),
        StructField("ref", StringType()),  # the Medication a MedicationRequest names (medicationReference: one)
        StructField("text", StringType()),
    ]
)
RECORD_SCHEMA = StructType(
    [StructField(c, StringType()) for c in TEXT_COLUMNS]
    + [StructField("line", LongType())]
    + [StructField(c, DoubleType()) for c in VALUE_COLUMNS]
    + [StructField("sets", IntegerType())]  # worker.SETS: on order rows, the order sets they open
)
FINDING_COLUMNS = ["patient_hmac", "order", "authored", "month", "code", "name", "indicator", "drug", "summary",
                   "file", "line", *VALUE_COLUMNS, "values_json"]  # fmt: skip


@dataclass
class JobResult:
    files: int
    counts: MueCounts
    findings: int
    doc: dict[str, Any]


def list_files(spark: SparkSession, inputs: list[str]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """(label, uri) of every export file through Hadoop's FileSystem (local, HDFS, S3...), sorted by label
    like linter.bulk.export_files; missing inputs as error rows."""
    files: list[tuple[str, str]] = []
    errors: list[dict[str, Any]] = []
    for raw in inputs:
        fs, path = _hadoop(spark, raw)
        if not fs.exists(path):
            errors.append(error_record(raw, None, "no such file or directory"))
        elif fs.getFileStatus(path).isDirectory():
            found = [
                (st.getPath().getName(), st.getPath().toString())
                for st in fs.listStatus(path)
                if st.isFile() and is_export_file(st.getPath().getName())
            ]
            files.extend(sorted(found))
        else:
            files.append((raw, path.toString()))
    return files, errors


# Files up to this size are read whole, as one row of Spark's binaryFile source, and keyed in the Python
# workers through Arrow (mapInPandas); larger plain files are split across tasks by textFile (gzip is never
# splittable, and a JVM array holds at most 2 GB).
WHOLE_FILE_BYTES = 256 * 1024 * 1024
GZIP_RATIO = 10  # NDJSON of FHIR resources gunzips to about 10x its size: the work of a .gz file, in plain bytes


def balanced_groups(work: dict[str, int], groups: int) -> list[list[str]]:
    """The files in at most `groups` groups of about equal work (largest first into the lightest group):
    one binaryFile scan per group, so each core keys its share. One scan of every file would pack the
    small files of an export into a partition or two by compressed size, and one core would key most of
    the lines while the other waited."""
    bins: list[tuple[int, int, list[str]]] = []
    for path, size in sorted(work.items(), key=lambda item: (-item[1], item[0])):
        if len(bins) < groups:
            bins.append((size, len(bins), [path]))
        else:
            load, n, paths = min(bins)
            bins[n] = (load + size, n, [*paths, path])
    return [paths for _, _, paths in sorted(bins, key=lambda b: b[1])]


def keyed_lines(spark: SparkSession, files: list[tuple[str, str]]) -> DataFrame:
    """(file, line, kind, key, ref, text) of every line. Whole files go through binaryFile and
    worker.key_files: Arrow both ways, the lines read by linter.bulk.read_lines like the CLI, so a
    truncated gzip yields its readable lines and one error row. Plain files larger than WHOLE_FILE_BYTES go
    through textFile + zipWithIndex (split across tasks; rows pickled back to the JVM)."""
    sc = spark.sparkContext
    whole: dict[str, str] = {}
    work: dict[str, int] = {}
    split: list[tuple[str, str]] = []
    for label, uri in files:
        fs, path = _hadoop(spark, uri)
        status = fs.getFileStatus(path)
        gz = uri.lower().endswith(".gz")
        if gz or status.getLen() <= WHOLE_FILE_BYTES:
            whole[status.getPath().toString()] = label
            work[status.getPath().toString()] = status.getLen() * (GZIP_RATIO if gz else 1)
        else:
            split.append((label, uri))
    frames = []
    if spark.conf.get("spark.sql.files.minPartitionNum", None) is None:
        # One task per group (up to spark.sql.files.maxPartitionBytes): by default the source splits each
        # group for every core, into partitions of any size, and the last big one runs while the others wait.
        spark.conf.set("spark.sql.files.minPartitionNum", "1")
    for group in balanced_groups(work, 2 * sc.defaultParallelism):
        raw = spark.read.format("binaryFile").load(group).select("path", "content")
        frames.append(raw.mapInArrow(worker.key_files(whole), KEYED_SCHEMA))
    if split:
        rdds = [sc.textFile(uri).zipWithIndex().mapPartitions(worker.key_lines(label)) for label, uri in split]
        frames.append(spark.createDataFrame(sc.union(rdds), KEYED_SCHEMA, verifySchema=False))
    if not frames:
        return spark.createDataFrame([], KEYED_SCHEMA)
    keyed = frames[0]
    for more in frames[1:]:
        keyed = keyed.unionByName(more)
    return keyed


# What lint_records relies on: a union of two children partitioned alike is partitioned alike (Spark's
# default, set in case a session changed it).
REQUIRED_SQL = {"spark.sql.unionOutputPartitioning": "true"}
# Optimizer rules left out while lint_records is planned: they push each branch's filter and columns below
# the shuffle of the keyed lines, which makes a shuffle of the same lines per branch, each keying every
# file again in Python; without them the branches filter the one shuffle's output (ReusedExchange).
ONE_SHUFFLE_EXCLUDED_RULES = tuple(
    f"org.apache.spark.sql.catalyst.optimizer.{rule}"
    for rule in ("ColumnPruning", "PushDownPredicates", "PushPredicateThroughNonJoin", "PushPredicateThroughJoin")
)


def lint_records(
    spark: SparkSession,
    keyed: DataFrame,
    profile: Profile,
    options: ExportOptions,
    salt: str,
    partitions: int,
    grouping: str = "sorted",
) -> DataFrame:
    """The rows of linter.bulk.RECORD_COLUMNS: every patient's lines, with the Medications its orders name,
    partitioned by patient and linted in the workers; unreadable lines as error rows (they travel with the
    patients' lines, key null, so the lint stage reads the shuffle once).

    One shuffle carries every keyed line to its patient's partition (`lines`: the keying runs once, its
    exchange reused by each branch below, planned with ONE_SHUFFLE_EXCLUDED_RULES left out); the orders'
    references and the Medications meet in a sort-merge join and the Medication lines each patient names join
    that patient's partition through a second, small shuffle; the two are partitioned alike, so their union
    is too (REQUIRED_SQL) and each group's lines are one contiguous run once sorted by group."""
    lines = keyed.withColumn("group", _group()).repartition(partitions, "group")
    # an unreadable line travels with the patients, its key null: the worker makes it its error row
    key = F.when(F.col("kind") == "patient", F.col("key")).alias("key")
    patients = lines.where(F.col("kind").isin("patient", "error")).select("group", key, "file", "line", "text")
    refs = lines.where((F.col("kind") == "patient") & F.col("ref").isNotNull()).select("group", "key", "ref")
    meds = lines.where(F.col("kind") == "medication").select(F.col("key").alias("ref"), "file", "line", "text")
    named = (
        refs.distinct()
        .join(meds.hint("merge"), "ref")
        .select("group", "key", "file", "line", "text")
        .repartition(partitions, "group")
    )
    resources = patients.unionByName(named)
    if grouping == "apply":
        records = resources.groupBy("group").applyInPandas(worker.lint_group(profile, options, salt), RECORD_SCHEMA)
    else:
        records = resources.sortWithinPartitions("group").mapInArrow(
            worker.lint_sorted(profile, options, salt), RECORD_SCHEMA
        )
    return records


def _group() -> Column:
    """A patient's group: xxhash64 of the id its HMAC is taken of (linter.bulk.patient_hmac: `Patient/1` and a
    bare `1` are one order set in the report), so the rows of every key sharing an HMAC are one contiguous run
    once sorted by this one long (a radix sort: no row is compared with another)."""
    key = F.col("key")
    return F.xxhash64(F.when(key.startswith("Patient/"), F.substring(key, 9, 1 << 30)).otherwise(key))


GROUPING = ("kind", "code", "month", "indicator")


def count_groups(records: DataFrame) -> DataFrame:
    """Records by kind, code, month, indicator and drug, with the order sets they open (worker.SETS: an order
    row flags the first order of its order set, and the first of the set in its month): the whole report in
    one aggregation of the linting job, nothing to count afterwards."""
    sets = F.col("sets")
    return records.groupBy(*GROUPING, F.coalesce(F.col("drug"), F.lit("")).alias("drug")).agg(
        F.count(F.lit(1)).alias("count"),
        F.sum(sets.bitwiseAND(worker.NEW_IN_MONTH)).alias("month_sets"),
        F.sum(sets.bitwiseAND(worker.NEW_SET)).alias("new_sets"),
    )


def _counts(grouped: list[Row]) -> MueCounts:
    c = MueCounts()
    per_month: dict[str, int] = {}
    month_sets: dict[str, int] = {}
    findings: dict[tuple[str, str, str], int] = {}
    rule_drugs: dict[tuple[str, str], int] = {}
    order_drugs: dict[str, int] = {}
    for r in grouped:
        kind, n = r["kind"], r["count"]
        if kind == "order":
            per_month[r["month"]] = per_month.get(r["month"], 0) + n
            month_sets[r["month"]] = month_sets.get(r["month"], 0) + (r["month_sets"] or 0) // worker.NEW_IN_MONTH
            c.order_sets += (r["new_sets"] or 0) // worker.NEW_SET
            order_drugs[r["drug"]] = order_drugs.get(r["drug"], 0) + n
        elif kind == "finding":
            key = (r["code"], r["month"], r["indicator"])
            findings[key] = findings.get(key, 0) + n
            rule_drugs[(r["code"], r["drug"])] = rule_drugs.get((r["code"], r["drug"]), 0) + n
        elif kind == "undated":
            c.undated += n
        elif kind == "error":
            c.errors += n
    c.orders = sum(per_month.values())
    c.months = {m: (month_sets[m], per_month[m]) for m in per_month}
    c.findings, c.rule_drugs, c.order_drugs = findings, rule_drugs, order_drugs
    return c


def run_job(
    spark: SparkSession,
    inputs: list[str],
    out_dir: str,
    profile: Profile,
    options: ExportOptions,
    salt: str,
    *,
    partitions: int | None = None,
    grouping: str = "sorted",
) -> JobResult:
    files, missing = list_files(spark, inputs)
    keyed = keyed_lines(spark, files)
    parts = partitions or max(8, 4 * spark.sparkContext.defaultParallelism)
    if spark.conf.get("spark.sql.shuffle.partitions") == "200":  # Spark's default, far too many for small runs
        # The exchanges left to it are small (the distinct Medication references and their lines, the report's
        # counts): two partitions per core, each a task with its own start.
        spark.conf.set("spark.sql.shuffle.partitions", str(2 * spark.sparkContext.defaultParallelism))
    for key, value in REQUIRED_SQL.items():
        spark.conf.set(key, value)
    records = lint_records(spark, keyed, profile, options, salt, parts, grouping)
    if missing:
        records = records.unionByName(spark.createDataFrame(missing, RECORD_SCHEMA))
    # Linted once: the group-by fills Spark's cache and the outputs read the rows from there (a lost
    # executor's share is linted again, to the same rows). On disk, so the heap stays for the sort and the
    # Arrow buffers (one run with them in memory peaked at 1.7 GB RSS with spark.driver.memory=1g; on disk
    # 0.8-1.2 GB, the same wall time; MEMORY_AND_DISK saved no CPU either, 2026-11-30).
    with _planned_without(spark, ONE_SHUFFLE_EXCLUDED_RULES):  # persist() plans the query, once
        records = records.persist(StorageLevel.DISK_ONLY)
    mue = _counts(count_groups(records).collect())
    out = out_dir.rstrip("/")
    found = records.where(F.col("kind").isin("finding", "error")).select(*FINDING_COLUMNS)
    orders = records.where(F.col("kind") == "order").select(
        "patient_hmac", "order", "authored", "month", "drug", "file", "line"
    )
    # Submitted together, the jobs share the cores (Spark runs the jobs of several threads at once, first come
    # first served): the one-file CSV, a single task, goes first so the rest fill the other cores beside it.
    # A Parquet file per core, not per patient partition: each write task deserializes the job's Hadoop
    # configuration and opens a file of its own (local[1], 5,000 patients: 1.5-2.3 -> 0.6 task CPU s).
    cores = spark.sparkContext.defaultParallelism
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="orderlint-output") as pool:
        csv = found.coalesce(1).write.mode("overwrite").option("header", "true").csv
        writes = [_started_first(spark, pool, lambda: csv(f"{out}/findings.csv"))]
        writes.append(pool.submit(_parquet(found.coalesce(cores)).parquet, f"{out}/findings.parquet"))
        writes.append(pool.submit(_parquet(orders.coalesce(cores)).parquet, f"{out}/orders.parquet"))
        for done in writes:
            done.result()
    records.unpersist()
    n_findings = sum(mue.findings.values())
    since = options.window.since.isoformat() if options.window.since else None
    until = options.window.until.isoformat() if options.window.until else None
    doc = mue_doc(mue, profile, since, until, RULE_NAMES)
    return JobResult(len(files), mue, n_findings, doc)


# Columns whose values hardly repeat within a Parquet file: no dictionary (Parquet's writer would hash every
# value into one, and give up once it outgrows its page). The findings of 100,000 patients: 1.36 -> 1.18 CPU s
# to write, 5.75 -> 5.81 MB.
UNIQUE_COLUMNS = ("patient_hmac", "order", "values_json")


def _parquet(rows: DataFrame) -> DataFrameWriter:
    writer = rows.write.mode("overwrite")
    for c in UNIQUE_COLUMNS:
        if c in rows.columns:
            writer = writer.option(f"parquet.enable.dictionary#{c}", "false")
    return writer


@contextmanager
def _planned_without(spark: SparkSession, rules: tuple[str, ...]) -> Iterator[None]:
    """The session's optimizer without `rules` (spark.sql.optimizer.excludedRules) for the queries planned
    inside, as before for the others."""
    key = "spark.sql.optimizer.excludedRules"
    before = spark.conf.get(key, None)
    spark.conf.set(key, ",".join([before, *rules] if before else rules))
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def _started_first(spark: SparkSession, pool: ThreadPoolExecutor, write: Callable[[], None]) -> Future[None]:
    """`write` submitted to `pool`, returned once its Spark job is queued (or it has ended): the jobs
    submitted after it queue behind it."""
    sc = spark.sparkContext
    group = f"orderlint-first-{uuid.uuid4().hex[:8]}"

    def run() -> None:
        sc.setJobGroup(group, "orderlint: the first of the output jobs")  # this thread's jobs only
        try:
            write()
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]

    done = pool.submit(run)
    deadline = time.monotonic() + 10
    while not done.done() and not sc.statusTracker().getJobIdsForGroup(group) and time.monotonic() < deadline:
        time.sleep(0.005)
    return done


def _hadoop(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """(FileSystem, Path) of a URI through the JVM: the Hadoop FileSystem API has no Python binding."""
    jvm, jsc = spark.sparkContext._jvm, spark.sparkContext._jsc
    if jvm is None or jsc is None:
        raise RuntimeError("the Spark session is stopped")
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(jsc.hadoopConfiguration()), path


def write_report(doc: dict[str, Any], out_dir: str) -> Path:
    """mue.json and mue.html beside the tables when OUT_DIR is local; else in the working directory."""
    local = out_dir[len("file:") :] if out_dir.startswith("file:") else out_dir
    target = Path(local) if "://" not in local else Path.cwd()
    target.mkdir(parents=True, exist_ok=True)
    (target / "mue.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (target / "mue.html").write_text(mue_html(doc), encoding="utf-8")
    return target


def command(args: argparse.Namespace, profile: Profile, salt: str, launch: Launch) -> int:
    """`orderlint spark`: exit 0 clean, 1 findings at warning or above, 2 when an input line was unusable.
    `launch`: the session started by linter.spark.launch.start while the driver imported this module."""
    options = ExportOptions(
        mode=args.mode,
        select=_codes(args.select),
        ignore=_codes(args.ignore) or (),
        now=datetime.now(UTC),
        window=Window(args.since, args.until),
    )
    try:
        result = run_job(
            launch.session(),
            args.inputs,
            args.output,
            profile,
            options,
            salt,
            partitions=args.partitions,
            grouping=args.grouping,
        )
    finally:
        launch.stop()
    where = write_report(result.doc, args.output)
    t = result.doc["totals"]
    print(
        f"{result.files} file(s), {t['order_sets']} order set(s), {t['orders_checked']} order(s) checked, "
        f"{t['findings']} finding(s) ({t['by_indicator']['critical']} critical, {t['by_indicator']['warning']} "
        f"warning), {t['errors']} unreadable line(s). Tables in {args.output}, report in {where}/mue.html",
        file=sys.stderr,
    )
    if t["errors"]:
        return 2
    return 1 if t["by_indicator"]["critical"] or t["by_indicator"]["warning"] else 0


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]
