"""The disk-backed index that groups a Bulk Data export per patient (linter.bulk, `orderlint lint --export`).

An export is read once, line by line, and never held in memory: every line that belongs to a patient is
written to a SQLite database in a temporary directory (patient key, file, line number, the line's text), every
Medication line likewise under its own key, and every `medicationReference` as a (patient, Medication) pair.
Then one index over (patient key, file, line) is built (one external sort, done by SQLite on disk), and the
patients are read back in key order, each with its lines sorted by file and line plus the Medications its
orders reference. Memory holds one patient's lines at a time, SQLite's page cache (bounded by
`CACHE_KIB`) and the error rows of unreadable lines.

Why SQLite: it ships with Python (no new dependency, nothing to install on a hospital's machine), it sorts
larger-than-memory data on disk with bounded memory, and it keeps the raw lines, so a `.ndjson.gz` file is
decompressed once. Measured in bench/export_memory.py (figures in bench/README.md).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from types import TracebackType

CACHE_KIB = 16 * 1024  # SQLite's page cache: the index's share of the run's memory
BATCH = 5_000  # lines per insert
SCHEMA = """
CREATE TABLE lines (pkey TEXT NOT NULL, file INTEGER NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE meds (mkey TEXT NOT NULL, file INTEGER NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE refs (pkey TEXT NOT NULL, mkey TEXT NOT NULL);
"""

# One line of a patient's group: (file label, line number, text).
Line = tuple[str, int, str]


class ExportIndex:
    """Lines of an export grouped per patient on disk. `labels` are the files' labels; lines are added with
    the label's position in `labels` and come back sorted by label then line, as the in-memory grouping did."""

    def __init__(self, labels: Sequence[str], directory: str | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="orderlint-export-", dir=directory)
        self.labels = list(labels)
        # the rank of each label in sorted order: lines sort by (label, line) with an integer compare
        order = sorted(range(len(self.labels)), key=lambda i: self.labels[i])
        self._rank = {i: r for r, i in enumerate(order)}
        self._label_of_rank = {r: self.labels[i] for i, r in self._rank.items()}
        self._db = sqlite3.connect(Path(self._tmp.name) / "index.sqlite3")
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(SCHEMA)
        self._lines: list[tuple[str, int, int, str]] = []
        self._meds: list[tuple[str, int, int, str]] = []
        self._refs: list[tuple[str, str]] = []
        self._medication = lru_cache(maxsize=4096)(self._medication_lines)

    def __enter__(self) -> ExportIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._tmp.cleanup()

    # --- writing -------------------------------------------------------------------------------------------

    def add_patient_line(self, key: str, file: int, line: int, body: str, med_refs: Sequence[str]) -> None:
        self._lines.append((key, self._rank[file], line, body))
        self._refs.extend((key, ref) for ref in med_refs)
        if len(self._lines) >= BATCH:
            self._flush()

    def add_medication_line(self, key: str, file: int, line: int, body: str) -> None:
        self._meds.append((key, self._rank[file], line, body))
        if len(self._meds) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO lines VALUES (?, ?, ?, ?)", self._lines)
        self._db.executemany("INSERT INTO meds VALUES (?, ?, ?, ?)", self._meds)
        self._db.executemany("INSERT INTO refs VALUES (?, ?)", self._refs)
        self._lines, self._meds, self._refs = [], [], []

    # --- reading -------------------------------------------------------------------------------------------

    def groups(self) -> Iterator[tuple[str, list[Line]]]:
        """(patient key, its lines and those of the Medications it references, by file and line), patients in
        key order (SQLite's binary order of UTF-8 text is Python's order of str)."""
        self._flush()
        self._db.execute("CREATE INDEX lines_by_patient ON lines (pkey, file, line)")
        self._db.execute("CREATE INDEX refs_by_patient ON refs (pkey)")
        self._db.execute("CREATE INDEX meds_by_key ON meds (mkey)")
        self._db.commit()
        rows = self._db.execute("SELECT pkey, file, line, body FROM lines ORDER BY pkey, file, line, rowid")
        key: str | None = None
        group: list[tuple[int, int, int, str]] = []
        for pkey, file, line, body in rows:
            if pkey != key:
                if key is not None:
                    yield key, self._with_medications(key, group)
                key, group = pkey, []
            group.append((file, line, 0, body))
        if key is not None:
            yield key, self._with_medications(key, group)

    def _with_medications(self, key: str, group: list[tuple[int, int, int, str]]) -> list[Line]:
        refs = [r for (r,) in self._db.execute("SELECT DISTINCT mkey FROM refs WHERE pkey = ?", (key,))]
        if refs:
            for ref in refs:
                group.extend(self._medication(ref))
            group.sort(key=lambda t: t[:3])
        return [(self._label_of_rank[file], line, body) for file, line, _, body in group]

    def _medication_lines(self, key: str) -> tuple[tuple[int, int, int, str], ...]:
        rows = self._db.execute("SELECT file, line, rowid, body FROM meds WHERE mkey = ? ORDER BY rowid", (key,))
        return tuple((file, line, 1, body) for file, line, _, body in rows)
