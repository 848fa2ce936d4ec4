"""What runs inside the Spark Python workers: keying NDJSON lines and linting patients (linter.bulk), with
pandas frames in and out (Arrow-based mapInPandas / applyInPandas)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd

from linter.bulk import RECORD_COLUMNS, ExportOptions, Record, key_line, lint_patient, read_lines
from linter.profiles import Profile

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


def key_gzip(label: str) -> Callable[[tuple[str, bytes]], Iterator[tuple[Any, ...]]]:
    """For one gzipped file's (uri, bytes) (binaryFiles): its keyed lines, read by linter.bulk.read_lines like
    the CLI, so a truncated or corrupt file gives the lines before the damage and then the CLI's own error
    row (file, last good line, "cannot read after line N: ..."), where Hadoop's gzip codec would kill the job."""

    def fn(item: tuple[str, bytes]) -> Iterator[tuple[Any, ...]]:
        # read_lines opens a path: the compressed bytes go to a local temporary file (gzip is read whole,
        # one task per file, either way)
        with tempfile.NamedTemporaryFile(suffix=".gz") as tmp:
            tmp.write(item[1])
            tmp.flush()
            last = 0
            for n, text in read_lines(tmp.name):
                if n == 0:  # as the CLI (linter.bulk): the error row names the last good line
                    yield (label, last or None, "error", "", [], text)
                    continue
                last = n
                keyed = key_line(text)
                if keyed is not None:
                    kind, key, refs, body = keyed
                    yield (label, n, kind, key, refs, body)

    return fn


def frame(records: list[Record]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=list(RECORD_COLUMNS))
    df["line"] = df["line"].astype("Int64")
    return df


def lint_sorted(
    profile: Profile, options: ExportOptions, salt: str
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """mapInPandas over a partition sorted by (key, file, line): each patient's rows are contiguous, so groups
    stream through (a group may straddle two Arrow batches) and one output frame leaves per input batch."""

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        key: object = _NO_KEY
        lines: list[tuple[str, int, str]] = []
        for df in batches:
            out: list[Record] = []
            for k, f, n, t in zip(df["key"], df["file"], df["line"], df["text"], strict=True):
                if k != key:
                    if lines:
                        out.extend(lint_patient(str(key), lines, profile, options, salt).records)
                    key, lines = k, []
                lines.append((f, int(n), t))
            if out:
                yield frame(out)
        if lines:
            yield frame(lint_patient(str(key), lines, profile, options, salt).records)

    return fn


def lint_group(profile: Profile, options: ExportOptions, salt: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """applyInPandas: one patient's rows as one frame."""

    def fn(df: pd.DataFrame) -> pd.DataFrame:
        lines = sorted(zip(df["file"], (int(n) for n in df["line"]), df["text"], strict=True))
        return frame(lint_patient(str(df["key"].iloc[0]), lines, profile, options, salt).records)

    return fn
