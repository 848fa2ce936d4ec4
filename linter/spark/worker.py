"""What runs inside the Spark Python workers: keying NDJSON lines and linting patients (linter.bulk), with
Arrow batches in and out (mapInArrow: no pandas on the hot path), or pandas frames for applyInPandas."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa

from linter.bulk import (
    TEXT_COLUMNS,
    VALUE_COLUMNS,
    ExportOptions,
    Record,
    error_record,
    key_line,
    lint_patient,
    read_lines,
)
from linter.profiles import Profile

# Arrow schemas of job.KEYED_SCHEMA and job.RECORD_SCHEMA (mapInArrow wants the batches in these types)
KEYED_ARROW = pa.schema(
    [("file", pa.string()), ("line", pa.int64()), ("kind", pa.string()), ("key", pa.string()),
     ("ref", pa.string()), ("text", pa.string())]
)  # fmt: skip
RECORD_ARROW = pa.schema(
    [(c, pa.string()) for c in TEXT_COLUMNS]
    + [("line", pa.int64())]
    + [(c, pa.float64()) for c in VALUE_COLUMNS]
    + [("sets", pa.int32())]
)
# Bits of an order row's `sets` (job.count_groups sums them, so the report needs no count of distinct patients
# afterwards): the first order of its order set, and its set's first order in its month. An order set is a
# patient HMAC, as the CLI counts them (linter.render.mue); the rows of keys that share one are linted in one
# group (job.lint_records), so a group's own tally is exact.
NEW_IN_MONTH = 1
NEW_SET = 2
_KEYED_BATCH = 10_000  # rows per Arrow batch back to the JVM, as Spark's own default batch


def key_lines(label: str) -> Callable[[Iterable[tuple[str, int]]], Iterator[tuple[Any, ...]]]:
    """For one file's (text, index) pairs (RDD zipWithIndex): (file, line, kind, key, ref, text)."""

    def fn(rows: Iterable[tuple[str, int]]) -> Iterator[tuple[Any, ...]]:
        for text, index in rows:
            keyed = key_line(text)
            if keyed is not None:
                kind, key, refs, body = keyed
                yield (label, index + 1, kind, key, _ref(refs), body)

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
                        rows.append((label, last or None, "error", "", None, text))
                        continue
                    last = n
                    keyed = key_line(text)
                    if keyed is not None:
                        kind, key, refs, body = keyed
                        rows.append((label, n, kind, key, _ref(refs), body))
                    if len(rows) >= _KEYED_BATCH:
                        yield _batch(rows, KEYED_ARROW)
                        rows = []
                if rows:
                    yield _batch(rows, KEYED_ARROW)

    return fn


def _ref(refs: list[str]) -> str | None:
    """The one Medication a line names (linter.bulk.medication_refs: a MedicationRequest's medicationReference
    is a single Reference), as one nullable column: cheaper through Arrow and Spark's cache than a list."""
    if len(refs) > 1:  # pragma: no cover - guards a future change of medication_refs
        raise ValueError("a line names more than one Medication")
    return refs[0] if refs else None


def _batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows (tuples in the schema's column order) as one Arrow batch, column by column (no pandas)."""
    columns = list(zip(*rows, strict=True)) or [()] * len(schema)
    return pa.RecordBatch.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )


def _record_batch(records: list[Record]) -> pa.RecordBatch:
    """Records as one Arrow batch, a column at a time (one list per column: no tuple per record to transpose)."""
    return pa.RecordBatch.from_arrays(
        [pa.array([r.get(f.name) for r in records], type=f.type) for f in RECORD_ARROW], schema=RECORD_ARROW
    )


def frame(records: list[Record]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=RECORD_ARROW.names)
    df["line"] = df["line"].astype("Int64")
    df["sets"] = df["sets"].astype("Int32")
    return df


def _count_sets(records: list[Record], seen: dict[str, set[str]]) -> list[Record]:
    """Flags each order row's `sets` (NEW_SET, NEW_IN_MONTH) against `seen`, the months of each order set
    (patient HMAC) counted so far in this group."""
    for r in records:
        if r["kind"] == "order":
            months = seen.get(r["patient_hmac"])
            flags = 0
            if months is None:
                months = seen[r["patient_hmac"]] = set()
                flags = NEW_SET
            if r["month"] not in months:
                months.add(r["month"])
                flags |= NEW_IN_MONTH
            r["sets"] = flags
    return records


def lint_sorted(
    profile: Profile, options: ExportOptions, salt: str
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """mapInArrow over a partition sorted by group alone (job.lint_records: a radix sort of one long, no row
    compared with another): each group's rows are contiguous, so groups stream through (one may straddle two
    Arrow batches) and one output batch leaves per input batch; lint_group_lines orders each patient's few
    lines itself."""

    def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        group: object = None
        keys: dict[str, list[tuple[str, int, str]]] = {}
        for batch in batches:
            out: list[Record] = []
            columns = (batch.column(c).to_pylist() for c in ("group", "key", "file", "line", "text"))
            for g, k, f, n, t in zip(*columns, strict=True):
                if k is None:  # an unreadable line (job.lint_records): its message is the text
                    out.append(error_record(f, n, t))
                    continue
                if g != group:
                    if keys:
                        out.extend(lint_group_lines(keys, profile, options, salt))
                    group, keys = g, {}
                lines = keys.get(k)
                if lines is None:
                    lines = keys[k] = []
                lines.append((f, n, t))
            if out:
                yield _record_batch(out)
        if keys:
            yield _record_batch(lint_group_lines(keys, profile, options, salt))

    return fn


def lint_group_lines(
    keys: dict[str, list[tuple[str, int, str]]], profile: Profile, options: ExportOptions, salt: str
) -> list[Record]:
    """One group's patients (key -> its lines, in any order), each linted with its lines sorted by file and
    line, a repeated line (a Medication that several of the patient's orders name) read once, as the CLI reads
    them; order rows flagged for the report's order sets (_count_sets: a group holds every key of its HMAC)."""
    records: list[Record] = []
    seen: dict[str, set[str]] = {}
    for key in sorted(keys):
        lines = keys[key]
        lines.sort()
        unique = [line for i, line in enumerate(lines) if not i or line[:2] != lines[i - 1][:2]]
        records.extend(_count_sets(lint_patient(key, unique, profile, options, salt).records, seen))
    return records


def lint_group(profile: Profile, options: ExportOptions, salt: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """applyInPandas: one group's rows (job.lint_records: usually one patient) as one frame."""

    def fn(df: pd.DataFrame) -> pd.DataFrame:
        keys: dict[str, list[tuple[str, int, str]]] = {}
        errors: list[Record] = []
        for k, f, n, t in zip(df["key"], df["file"], df["line"], df["text"], strict=True):
            if k is None:  # an unreadable line, as in lint_sorted
                errors.append(error_record(f, None if pd.isna(n) else int(n), t))
            else:
                keys.setdefault(str(k), []).append((f, int(n), t))
        return frame(errors + lint_group_lines(keys, profile, options, salt))

    return fn
