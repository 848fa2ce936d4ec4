"""Engine and session factory. SQLite gets WAL and a busy timeout so several workers can share the file."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


WAL_ATTEMPTS = 50  # ~2.5 s of waiting in all before a connection goes on in the file's current mode


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (a property of the file, kept once set: migrate.upgrade sets it before the
    service opens its pool). Switching takes a lock that SQLite refuses at once, without the busy handler,
    while another connection holds one ("database is locked" when several connections open together on a
    file not in WAL yet): check first, and retry a refused switch a little later."""
    for attempt in range(WAL_ATTEMPTS):
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.01 * (1 + attempt % 10))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
