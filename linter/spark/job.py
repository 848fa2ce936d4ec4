"""The Spark pipeline of `orderlint spark` (the only module, with linter.spark.worker, that imports pyspark).

    NDJSON files --binaryFile + mapInArrow (keyed in Python, linter.bulk.key_line)--> (file, line, kind, key,
    med_refs, text), persisted; plain files over WHOLE_FILE_BYTES through textFile + zipWithIndex instead
      patients' lines  ∪  the Medications their orders name (medicationReference: a broadcast join when the
      export's Medications are small (up to BROADCAST_MEDICATION_CHARS), else distinct references and a shuffle)
      --repartition(patient) + sortWithinPartitions(patient, file, line)--> mapInArrow: lint each patient
      --> rows (linter.bulk.RECORD_COLUMNS), cached on disk: the first group-by lints, the rest read the cache
      --> findings.parquet, findings.csv, orders.parquet, MUE counts (a few hundred numbers reach the driver)
      --> mue.json, mue.html

No data is collected to the driver: only the file listing, the Medications' total size and the aggregated
counts (a broadcast join ships the small Medication side through it, as Spark does). Files are read whole
(gzip is not splittable anyway), one task per group of files of about equal work, and their lines by
linter.bulk.read_lines in the worker, as the CLI reads them, so a truncated .gz gives its readable lines and
the CLI's error row where Hadoop's codec would kill the job; only large plain files are split across tasks.

Partitioning and transport (measured in bench/README.md, "Spark"): repartition(patient) + sortWithinPartitions
+ mapInArrow, not groupBy(patient).applyInPandas: the latter builds a pandas frame and an Arrow round trip per
patient (~5 rows each) and was 1.4x slower at 2,000 patients. mapInArrow streams Arrow batches of 10,000 rows
through one reused Python worker per core and hands contiguous patients to the engine, with no pandas on the
way (with mapInPandas the lint stage took 42 instead of 37 s at 100,000 patients on one core); the keying goes
the same way instead of an RDD whose rows were pickled back to the JVM. Patient partitions: 4 per core, at
least 8. Python workers are reused (spark.python.worker.reuse, Spark's default), so the engine is imported
once per worker, not per task. In local mode the JVM runs with C1 only and no web UI (LOCAL_DEFAULTS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, LongType, StringType, StructField, StructType

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
        StructField("med_refs", ArrayType(StringType())),
        StructField("text", StringType()),
    ]
)
RECORD_SCHEMA = StructType(
    [StructField(c, StringType()) for c in TEXT_COLUMNS]
    + [StructField("line", LongType())]
    + [StructField(c, DoubleType()) for c in VALUE_COLUMNS]
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
    """(file, line, kind, key, med_refs, text) of every line. Whole files go through binaryFile and
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


# Medications up to this many characters of JSON are broadcast to the join (Spark ships the small side to
# every task: no shuffle of the orders' references and no distinct); a larger formulary is joined by shuffle.
BROADCAST_MEDICATION_CHARS = 32 * 1024 * 1024


def lint_records(
    spark: SparkSession,
    keyed: DataFrame,
    profile: Profile,
    options: ExportOptions,
    salt: str,
    partitions: int,
    grouping: str = "sorted",
    medication_chars: int | None = None,
) -> DataFrame:
    """The rows of linter.bulk.RECORD_COLUMNS: every patient's lines, with the Medications its orders name,
    repartitioned by patient and linted in the workers; unreadable lines as error rows. `medication_chars`:
    the size of the export's Medications when known (job.medication_size), which decides the join."""
    patients = keyed.where(F.col("kind") == "patient").select("key", "file", "line", "text")
    refs = keyed.where((F.col("kind") == "patient") & (F.size("med_refs") > 0)).select(
        "key", F.explode("med_refs").alias("ref")
    )
    meds = keyed.where(F.col("kind") == "medication").select(F.col("key").alias("ref"), "file", "line", "text")
    if medication_chars is not None and medication_chars <= BROADCAST_MEDICATION_CHARS:
        # One row per order naming a Medication: the workers read a repeated line once (worker.lint_sorted).
        named = refs.join(F.broadcast(meds), "ref")
    else:
        named = refs.distinct().join(meds, "ref")
    resources = patients.unionByName(named.select("key", "file", "line", "text"))
    if grouping == "apply":
        records = resources.groupBy("key").applyInPandas(worker.lint_group(profile, options, salt), RECORD_SCHEMA)
    else:
        records = (
            resources.repartition(partitions, "key")
            .sortWithinPartitions("key", "file", "line")
            .mapInArrow(worker.lint_sorted(profile, options, salt), RECORD_SCHEMA)
        )
    fixed = {
        "kind": F.lit("error"),
        "patient_hmac": F.lit(""),
        "code": F.lit("ERROR"),
        "name": F.lit("unreadable input"),
        "indicator": F.lit("error"),
        "month": F.lit("undated"),
        "summary": F.col("text"),
        "file": F.col("file"),
        "line": F.col("line"),
    }
    errors = keyed.where(F.col("kind") == "error").select(
        *[fixed.get(c, F.lit(None)).cast(RECORD_SCHEMA[c].dataType).alias(c) for c in RECORD_SCHEMA.fieldNames()]
    )
    return records.unionByName(errors)


def medication_size(keyed: DataFrame) -> int:
    """Characters of JSON in the export's Medication lines. Its one job reads every file once and persists
    the keyed lines (everything after reads them from Spark's cache)."""
    chars = keyed.where(F.col("kind") == "medication").agg(F.sum(F.length("text"))).first()
    return int(chars[0] or 0) if chars is not None else 0


def mue_counts(records: DataFrame, pool: ThreadPoolExecutor, grouped: list[Row]) -> Callable[[], MueCounts]:
    """The report's counts: `grouped` (count_groups: records by kind, code, month, indicator and drug), and the
    order sets per month and in all (one rollup), submitted to `pool` as a job that runs beside the others; only
    these small tables reach the driver. Returns the wait for them."""
    sets = (
        records.where(F.col("kind") == "order")
        .rollup("month")
        .agg(F.countDistinct("patient_hmac").alias("sets"), F.grouping("month").alias("all"))
    )
    by_month = pool.submit(sets.collect)

    def counts() -> MueCounts:
        rows = by_month.result()
        order_sets = next((r["sets"] for r in rows if r["all"]), 0)
        return _counts(grouped, [r for r in rows if not r["all"]], order_sets)

    return counts


GROUPING = ("kind", "code", "month", "indicator")


def count_groups(records: DataFrame) -> DataFrame:
    return records.groupBy(*GROUPING, F.coalesce(F.col("drug"), F.lit("")).alias("drug")).count()


def _counts(grouped: list[Row], months: list[Row], order_sets: int) -> MueCounts:
    c = MueCounts(order_sets=order_sets)
    per_month: dict[str, int] = {}
    findings: dict[tuple[str, str, str], int] = {}
    rule_drugs: dict[tuple[str, str], int] = {}
    order_drugs: dict[str, int] = {}
    for r in grouped:
        kind, n = r["kind"], r["count"]
        if kind == "order":
            per_month[r["month"]] = per_month.get(r["month"], 0) + n
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
    c.months = {r["month"]: (r["sets"], per_month.get(r["month"], 0)) for r in months}
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
    keyed = keyed_lines(spark, files).persist(StorageLevel.DISK_ONLY)
    medication_chars = medication_size(keyed)
    parts = partitions or max(8, 4 * spark.sparkContext.defaultParallelism)
    if spark.conf.get("spark.sql.shuffle.partitions") == "200":  # Spark's default, far too many for small runs
        spark.conf.set("spark.sql.shuffle.partitions", str(parts))
    records = lint_records(spark, keyed, profile, options, salt, parts, grouping, medication_chars)
    if missing:
        records = records.unionByName(spark.createDataFrame(missing, RECORD_SCHEMA))
    # Linted once: the first group-by fills Spark's cache and everything after reads the rows from there (a
    # lost executor's share is linted again, to the same rows). On disk, as the keyed lines, so the heap stays
    # for the sort and the Arrow buffers (one run with them in memory peaked at 1.7 GB RSS with
    # spark.driver.memory=1g; on disk 0.8-1.2 GB, the same wall time).
    records = records.persist(StorageLevel.DISK_ONLY)
    grouped = count_groups(records).collect()
    keyed.unpersist()
    out = out_dir.rstrip("/")
    found = records.where(F.col("kind").isin("finding", "error")).select(*FINDING_COLUMNS)
    orders = records.where(F.col("kind") == "order").select(
        "patient_hmac", "order", "authored", "month", "drug", "file", "line"
    )
    # Submitted together, the jobs share the cores (Spark runs the jobs of several threads at once, first come
    # first served): the one-file CSV, a single task, goes first so the rest fill the other cores beside it.
    with ThreadPoolExecutor(max_workers=5, thread_name_prefix="orderlint-output") as pool:
        csv = found.coalesce(1).write.mode("overwrite").option("header", "true").csv
        writes = [_started_first(spark, pool, lambda: csv(f"{out}/findings.csv"))]
        writes.append(pool.submit(found.write.mode("overwrite").parquet, f"{out}/findings.parquet"))
        writes.append(pool.submit(orders.write.mode("overwrite").parquet, f"{out}/orders.parquet"))
        counts = mue_counts(records, pool, grouped)
        for done in writes:
            done.result()
        mue = counts()
    records.unpersist()
    n_findings = sum(mue.findings.values())
    since = options.window.since.isoformat() if options.window.since else None
    until = options.window.until.isoformat() if options.window.until else None
    doc = mue_doc(mue, profile, since, until, RULE_NAMES)
    return JobResult(len(files), mue, n_findings, doc)


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
