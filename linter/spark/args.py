"""The `orderlint spark` command line. Imports no pyspark: the CLI registers it at start-up."""

from __future__ import annotations

import argparse
from datetime import date

from linter import DEFAULT_PROFILE


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def add_window_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since", type=iso_date, help="retrospective review: orders authored on or after this date (YYYY-MM-DD)"
    )
    p.add_argument("--until", type=iso_date, help="retrospective review: orders authored before this date")


def add_spark_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "spark",
        help="lint a FHIR Bulk Data export on Apache Spark (pip install 'orderlint[spark]')",
        description="Read a Bulk Data export (NDJSON per resource type, .ndjson.gz too), lint each patient's "
        "order set in the Spark workers, write findings (Parquet, CSV), orders checked (Parquet) and the MUE "
        "report (mue.html, mue.json) to OUT_DIR.",
    )
    p.add_argument("inputs", nargs="+", metavar="EXPORT", help="export directories or NDJSON files (any Hadoop URI)")
    p.add_argument("--output", "-o", required=True, metavar="OUT_DIR", help="output directory (replaced)")
    p.add_argument("--profile", default=DEFAULT_PROFILE, help="profile name or TOML file (default: %(default)s)")
    p.add_argument("--mode", default="strict", choices=["strict", "fast"], help="as for lint (default: %(default)s)")
    p.add_argument("--select", help="only these rule codes or prefixes, comma-separated")
    p.add_argument("--ignore", help="skip these rule codes or prefixes, comma-separated")
    add_window_arguments(p)
    p.add_argument("--master", help="Spark master URL (default: spark-submit's --master when run by it, else local[*])")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    p.add_argument(
        "--jvm-cache",
        metavar="DIR",
        help="local masters: the JVM's class-data archive, recorded by the first run and mapped by the next "
        "(default: ~/.cache/orderlint/spark-jvm; 'off': none)",
    )
    p.add_argument("--partitions", type=int, help="patient partitions (default: 4 per core, at least 8)")
    p.add_argument(
        "--grouping",
        default="sorted",
        choices=["sorted", "apply"],
        help="sorted: repartition by patient, sort, mapInPandas streaming the groups (default); "
        "apply: groupBy(patient).applyInPandas (slower, kept for the bench)",
    )
