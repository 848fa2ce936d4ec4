"""SQLite files are put in WAL once, and connections that open together on a file not in WAL yet all open
(linter.store.db._use_wal): switching the mode takes a lock SQLite refuses at once, without its busy
handler, while another connection holds one."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from linter.store.db import make_engine
from linter.store.migrate import upgrade


def _mode(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def test_the_migrations_leave_the_file_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "orderlint.db"
    upgrade(f"sqlite:///{path}")
    assert _mode(path) == "wal"


def test_connections_opening_together_while_a_writer_holds_a_lock_all_open(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x INTEGER)")
    assert _mode(path) == "delete"
    writer = sqlite3.connect(path, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # a write in progress: the switch to WAL is refused until it ends
    errors: list[BaseException] = []

    def open_and_read() -> None:
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM t"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=open_and_read) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    writer.rollback()
    writer.close()
    for t in threads:
        t.join()
    assert errors == []
    assert _mode(path) == "wal"
