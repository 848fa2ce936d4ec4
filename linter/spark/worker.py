"""What runs inside the Spark Python workers: keying NDJSON lines and linting patients (linter.bulk), with
Arrow batches in and out (mapInArrow: no pandas on the hot path), or pandas frames for applyInPandas."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa

from linter.bulk import (
    RECORD_COLUMNS,
    TEXT_COLUMNS,
    VALUE_COLUMNS,
    ExportOptions,
    Record,
    key_line,
    lint_patient,
    read_lines,
)
from linter.profiles import Profile

# Arrow schemas of job.KEYED_SCHEMA and job.RECORD_SCHEMA (mapInArrow wants the batches in these types)
KEYED_ARROW = pa.schema(
    [("file", pa.string()), ("line", pa.int64()), ("kind", pa.string()), ("key", pa.string()),
     ("med_refs", pa.list_(pa.string())), ("text", pa.string())]
)  # fmt: skip
RECORD_ARROW = pa.schema(
    [(c, pa.string()) for c in TEXT_COLUMNS] + [("line", pa.int64())] + [(c, pa.float64()) for c in VALUE_COLUMNS]
)
_KEYED_BATCH = 10_000  # rows per Arrow batch back to the JVM, as Spark's own default batch
_NO_KEY = object()  # no patient seen yet in this partition ("" is a real key: resources naming no patient)


def key_lines(label: str) -> Callable[[Iterable[tuple[str, int]]], Iterator[tuple[Any, ...]]]:
    """For one file's (text, index) pairs (RDD zipWithIndex): (file, line, kind, key, med_refs, text)."""

    def fn(rows: Iterable[tuple[str, int]]) -> Iterator[tuple[Any, ...]]:
        for text, index in rows:
            keyed = key_line(text)
            if keyed is not None:
                kind, key, refs, body = keyed
                yield (label, index + 1, kind, key, refs, body)

    return fn


def key_files(labels: dict[str, str]) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """mapInArrow over whole files (Spark's binaryFile source: path, content): each file's keyed lines as
    KEYED_SCHEMA batches, read by linter.bulk.read_lines like the CLI, so a truncated or corrupt gzip gives the
    lines before the damage and then the CLI's own error row (file, last good line, "cannot read after line
    N: ..."), where Hadoop's gzip codec would kill the job. `labels` maps Spark's path to the file's name."""

    def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            contents = batch.column("content")
            for i, path in enumerate(batch.column("path").to_pylist()):
                content = contents[i].as_py()  # one file's bytes at a time: a batch may hold many files
                label = labels.get(path) or path.rsplit("/", 1)[-1]  # as listed; else the name, as in a directory
                rows: list[tuple[Any, ...]] = []
                last = 0
                for n, text in read_lines(label, content):
                    if n == 0:  # as the CLI (linter.bulk): the error row names the last good line
                        rows.append((label, last or None, "error", "", [], text))
                        continue
                    last = n
                    keyed = key_line(text)
                    if keyed is not None:
                        kind, key, refs, body = keyed
                        rows.append((label, n, kind, key, refs, body))
                    if len(rows) >= _KEYED_BATCH:
                        yield _batch(rows, KEYED_ARROW)
                        rows = []
                if rows:
                    yield _batch(rows, KEYED_ARROW)

    return fn


def _batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows (tuples in the schema's column order) as one Arrow batch, column by column (no pandas)."""
    columns = list(zip(*rows, strict=True)) or [()] * len(schema)
    return pa.RecordBatch.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )


def _record_batch(records: list[Record]) -> pa.RecordBatch:
    """Records as one Arrow batch, a column at a time (one list per column: no tuple per record to transpose)."""
    return pa.RecordBatch.from_arrays(
        [pa.array([r.get(c) for r in records], type=f.type) for c, f in zip(RECORD_COLUMNS, RECORD_ARROW, strict=True)],
        schema=RECORD_ARROW,
    )


def frame(records: list[Record]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=list(RECORD_COLUMNS))
    df["line"] = df["line"].astype("Int64")
    return df


def lint_sorted(
    profile: Profile, options: ExportOptions, salt: str
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """mapInArrow over a partition sorted by (key, file, line): each patient's rows are contiguous, so groups
    stream through (a group may straddle two Arrow batches) and one output batch leaves per input batch. A
    line that repeats the one before it (a Medication that several of the patient's orders name) is read once,
    as the CLI reads it."""

    def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        key: object = _NO_KEY
        lines: list[tuple[str, int, str]] = []
        for batch in batches:
            out: list[Record] = []
            columns = (batch.column(c).to_pylist() for c in ("key", "file", "line", "text"))
            for k, f, n, t in zip(*columns, strict=True):
                if k != key:
                    if lines:
                        out.extend(lint_patient(str(key), lines, profile, options, salt).records)
                    key, lines = k, []
                elif lines[-1][1] == n and lines[-1][0] == f:
                    continue  # a Medication joined once per order naming it (job.lint_records): read once
                lines.append((f, n, t))
            if out:
                yield _record_batch(out)
        if lines:
            yield _record_batch(lint_patient(str(key), lines, profile, options, salt).records)

    return fn


def lint_group(profile: Profile, options: ExportOptions, salt: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """applyInPandas: one patient's rows as one frame."""

    def fn(df: pd.DataFrame) -> pd.DataFrame:
        lines = sorted(set(zip(df["file"], (int(n) for n in df["line"]), df["text"], strict=True)))
        return frame(lint_patient(str(df["key"].iloc[0]), lines, profile, options, salt).records)

    return fn
