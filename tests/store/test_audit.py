"""The workbench audit table (migration 0003) on SQLite and PostgreSQL: recorded, read newest first,
filtered by user, and downgraded cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from linter.store.audit import AuditEvent, recent, record
from linter.store.db import make_engine
from linter.store.migrate import downgrade, upgrade


def test_audit_events_round_trip(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert "workbench_audit" in inspect(engine).get_table_names()
        start = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
        record(engine, AuditEvent(start, "alice", "pharmacist", "oidc", "login"))
        record(engine, AuditEvent(start + timedelta(minutes=1), "alice", "pharmacist", "oidc", "job-view", "a" * 32))
        record(
            engine, AuditEvent(start + timedelta(minutes=2), "lea", "lead", "basic", "report-download", "a" * 32, "csv")
        )
        events = recent(engine)
        assert [(e.user, e.action) for e in events] == [
            ("lea", "report-download"),
            ("alice", "job-view"),
            ("alice", "login"),
        ]
        assert events[0].at == start + timedelta(minutes=2) and events[0].detail == "csv"
        assert [e.action for e in recent(engine, user="alice")] == ["job-view", "login"]
    finally:
        engine.dispose()
    downgrade(database_url, "0001")
    engine = make_engine(database_url)
    try:
        assert "workbench_audit" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
