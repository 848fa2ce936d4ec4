"""Retention: override comments cleared after ORDERLINT_FEEDBACK_COMMENT_DAYS, cards and their feedback
deleted after ORDERLINT_CARD_AUDIT_DAYS, expired JWT ids and workbench upload jobs deleted; `orderlint purge`
prints it, and the service applies it on its own schedule (a cancellable background task)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from linter.purge import purge_all, start_daily_purge, stop_daily_purge
from linter.settings import Settings
from linter.store.migrate import upgrade
from linter.store.models import CardFeedback, IssuedCard, SeenJwtId
from linter.store.repository import CardRecord, FeedbackRecord, Store
from linter.store.retention import RetentionPolicy, StorePurge, purge_store
from linter.workbench.jobs import JobFile, JobStore, UploadLimits

NOW = datetime.now(UTC)


def populated(url: str) -> Store:
    """Cards issued 400 days ago and today, each overridden with a comment when issued; one old feedback for a
    card never issued; one expired and one live JWT id."""
    upgrade(url)
    store = Store.from_url(url, salt="s")
    store.record_cards("svc", "h", "pat-1", [CardRecord(u, "HEP201", "critical") for u in ("old", "new")])
    store.record_feedback(
        "svc",
        [
            FeedbackRecord(u, "overridden", NOW, override_code="x", user_comment=f"comment on {u}")
            for u in ("old", "new", "never-issued")
        ],
    )
    store.remember_jti("iss", "expired", NOW - timedelta(minutes=1), now=NOW - timedelta(hours=1))
    store.remember_jti("iss", "live", NOW + timedelta(minutes=5))
    age = NOW - timedelta(days=400)
    with store.sessions() as session:
        session.execute(update(IssuedCard).where(IssuedCard.card_uuid == "old").values(issued_at=age))
        session.execute(update(CardFeedback).where(CardFeedback.card_uuid != "new").values(received_at=age))
        session.commit()
    return store


def feedback_rows(store: Store) -> dict[str, str | None]:
    with store.sessions() as session:
        return {f.card_uuid: f.user_comment for f in session.scalars(select(CardFeedback))}


def test_comments_are_cleared_and_the_events_kept(database_url: str) -> None:
    store = populated(database_url)
    result = purge_store(store.engine, RetentionPolicy(comment_days=365, card_days=3660), NOW)
    assert result == StorePurge(comments_cleared=2, cards_deleted=0, feedback_deleted=0, jwt_ids_deleted=1)
    assert feedback_rows(store) == {"old": None, "never-issued": None, "new": "comment on new"}
    with store.sessions() as session:
        assert session.scalars(select(CardFeedback.override_code)).all() == ["x", "x", "x"]
        assert session.scalars(select(SeenJwtId.jti)).all() == ["live"]
    again = purge_store(store.engine, RetentionPolicy(comment_days=365, card_days=3660), NOW)
    assert again == StorePurge(0, 0, 0, 0)
    store.dispose()


def test_cards_past_the_audit_period_go_with_their_feedback(database_url: str) -> None:
    store = populated(database_url)
    # the card's feedback was received late (yesterday): it goes with the card all the same
    with store.sessions() as session:
        session.execute(
            update(CardFeedback).where(CardFeedback.card_uuid == "old").values(received_at=NOW - timedelta(days=1))
        )
        session.commit()
    result = purge_store(store.engine, RetentionPolicy(comment_days=365, card_days=300), NOW)
    assert result == StorePurge(comments_cleared=0, cards_deleted=1, feedback_deleted=2, jwt_ids_deleted=1)
    assert feedback_rows(store) == {"new": "comment on new"}
    with store.sessions() as session:
        assert session.scalars(select(IssuedCard.card_uuid)).all() == ["new"]
    store.dispose()


def test_retention_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ORDERLINT_FEEDBACK_COMMENT_DAYS", "ORDERLINT_CARD_AUDIT_DAYS"):
        monkeypatch.delenv(name, raising=False)
    assert (Settings().feedback_comment_days, Settings().card_audit_days) == (365, 3660)
    monkeypatch.setenv("ORDERLINT_FEEDBACK_COMMENT_DAYS", "30")
    monkeypatch.setenv("ORDERLINT_CARD_AUDIT_DAYS", "90")
    assert (Settings().feedback_comment_days, Settings().card_audit_days) == (30, 90)
    monkeypatch.setenv("ORDERLINT_FEEDBACK_COMMENT_DAYS", "0")
    with pytest.raises(ValueError):
        Settings()


def upload_jobs(upload_dir: Path, *ages_s: float) -> list[Path]:
    """Workbench jobs whose job.json was last written `age` seconds ago (created first: creating a job
    purges the expired ones)."""
    jobs = JobStore(upload_dir, UploadLimits())
    made = [jobs.create("btk-angioplasty", None, [JobFile("bundle.json", 2)]) for _ in ages_s]
    for job, age in zip(made, ages_s, strict=True):
        stamp = time.time() - age
        os.utime(upload_dir / job.id / "job.json", (stamp, stamp))
    return [upload_dir / job.id for job in made]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINT_")}
    return subprocess.run(
        [sys.executable, "-m", "linter.cli", *args], env={**clean, **env}, capture_output=True, text=True, check=False
    )


def test_orderlint_purge_applies_every_rule_and_prints_what_it_deleted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    populated(url).dispose()
    expired, recent = upload_jobs(tmp_path / "uploads", 25 * 3600, 60)
    env = {"ORDERLINT_DATABASE_URL": url, "ORDERLINT_UPLOAD_DIR": str(tmp_path / "uploads")}
    run = run_cli("purge", env=env)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "override comments received more than 365 days ago" in out and "2 cleared" in out
    assert "cards issued more than 3660 days ago" in out and "0 deleted, with 0 feedback events" in out
    assert "client JWT ids past their expiry" in out and "1 deleted" in out
    assert "workbench upload jobs older than 24 h" in out
    assert not expired.exists() and recent.exists()
    lines = {line.split("  ")[1].strip(): line.rsplit("  ", 1)[1].strip() for line in out.splitlines()[1:]}
    assert lines["workbench upload jobs older than 24 h"] == "1 deleted"

    env["ORDERLINT_CARD_AUDIT_DAYS"] = "300"
    run = run_cli("purge", env=env)
    assert run.returncode == 0 and "1 deleted, with 2 feedback events" in run.stdout


def test_orderlint_purge_without_a_card_store_says_so(tmp_path: Path) -> None:
    run = run_cli(
        "purge",
        env={
            "ORDERLINT_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
            "ORDERLINT_UPLOAD_DIR": str(tmp_path / "uploads"),
        },
    )
    assert run.returncode == 2
    assert "no card store" in run.stderr and "workbench upload jobs" in run.stdout


def test_the_daily_purge_runs_on_its_interval_and_stops_when_cancelled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'daily.db'}"
    store = populated(url)
    settings = Settings(database_url=url, upload_dir=str(tmp_path / "up"), purge_interval_s=0.05)  # type: ignore[call-arg]

    async def scenario() -> asyncio.Task[None]:
        task = start_daily_purge(settings, store.engine)
        assert task is not None
        for _ in range(200):
            if feedback_rows(store)["old"] is None:
                break
            await asyncio.sleep(0.05)
        await stop_daily_purge(task)
        return task

    task = asyncio.run(scenario())
    assert task.cancelled()
    assert feedback_rows(store)["old"] is None

    async def off() -> asyncio.Task[None] | None:
        return start_daily_purge(Settings(database_url=url, purge_interval_s=0), store.engine)  # type: ignore[call-arg]

    assert asyncio.run(off()) is None
    store.dispose()


def test_the_service_applies_the_purge_itself(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from linter.api.main import create_app  # imported late: it pulls in the whole engine

    url = f"sqlite:///{tmp_path / 'service.db'}"
    store = populated(url)
    settings = Settings(database_url=url, upload_dir=str(tmp_path / "up"), purge_interval_s=0.2)  # type: ignore[call-arg]
    caplog.set_level(logging.INFO, logger="orderlint.purge")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 20
        while feedback_rows(store)["old"] is not None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert feedback_rows(store) == {"old": None, "never-issued": None, "new": "comment on new"}
    assert "retention purge: 2 comments cleared" in caplog.text
    store.dispose()


def test_purge_all_without_a_store_still_purges_upload_jobs(tmp_path: Path) -> None:
    (expired,) = upload_jobs(tmp_path / "uploads", 2 * 3600)
    settings = Settings(upload_dir=str(tmp_path / "uploads"), upload_ttl_s=3600)  # type: ignore[call-arg]
    report = purge_all(settings, None)
    assert report.store is None and report.upload_jobs == 1 and not expired.exists()
    assert report.lines() == ["  workbench upload jobs older than 1 h  1 deleted"]
