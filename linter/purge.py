"""Every retention rule in one place: `orderlint purge` applies them once and prints what it deleted; the
service applies them once a day (`start_daily_purge`, started in the app lifespan).

The rules: override comments after ORDERLINT_FEEDBACK_COMMENT_DAYS (365), cards issued and their feedback
after ORDERLINT_CARD_AUDIT_DAYS (3660), client JWT ids once expired (`linter.store.retention`), and workbench
upload jobs after ORDERLINT_UPLOAD_TTL_S (`JobStore.purge_expired`, the workbench's own rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from linter.settings import Settings, get_settings
from linter.store.db import make_engine
from linter.store.repository import utcnow
from linter.store.retention import RetentionPolicy, StorePurge, purge_store
from linter.store.stats import has_tables
from linter.workbench.jobs import JobStore

log = logging.getLogger("orderlint.purge")

# The service's first purge runs this long after start (not during the start-up rush), then every interval.
FIRST_RUN_AFTER_S = 300.0


def policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(comment_days=settings.feedback_comment_days, card_days=settings.card_audit_days)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    at: datetime
    policy: RetentionPolicy
    upload_ttl_s: int
    store: StorePurge | None  # None: there is no card store at the configured URL
    upload_jobs: int

    def lines(self) -> list[str]:
        p = self.policy
        rows: list[tuple[str, str]] = []
        if self.store is not None:
            s = self.store
            rows += [
                (f"override comments received more than {p.comment_days} days ago", f"{s.comments_cleared} cleared"),
                (
                    f"cards issued more than {p.card_days} days ago",
                    f"{s.cards_deleted} deleted, with {s.feedback_deleted} feedback events",
                ),
                ("client JWT ids past their expiry", f"{s.jwt_ids_deleted} deleted"),
            ]
        hours = self.upload_ttl_s / 3600
        rows.append((f"workbench upload jobs older than {hours:g} h", f"{self.upload_jobs} deleted"))
        width = max(len(label) for label, _ in rows)
        return [f"  {label:<{width}}  {what}" for label, what in rows]

    def summary(self) -> str:
        """Counts only (a log line)."""
        s = self.store
        stored = (
            f"{s.comments_cleared} comments cleared, {s.cards_deleted} cards and {s.feedback_deleted} feedback "
            f"events deleted, {s.jwt_ids_deleted} JWT ids deleted, "
            if s
            else ""
        )
        return f"{stored}{self.upload_jobs} upload jobs deleted"


def purge_all(settings: Settings, engine: Engine | None, now: datetime | None = None) -> PurgeReport:
    """Apply every rule; the store's when `engine` is given (None: no card store to purge)."""
    now = now or utcnow()
    rules = policy(settings)
    stored = purge_store(engine, rules, now) if engine is not None else None
    jobs = JobStore.from_settings(settings).purge_expired()
    return PurgeReport(now, rules, settings.upload_ttl_s, stored, jobs)


def purge_command() -> int:
    """`orderlint purge`: 0 when every rule was applied, 2 when the card store is missing (the upload jobs
    are purged all the same)."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        present = has_tables(engine)
        report = purge_all(settings, engine if present else None)
    finally:
        engine.dispose()
    print(f"orderlint purge: retention rules applied at {report.at:%Y-%m-%d %H:%M:%S} UTC")
    print("\n".join(report.lines()))
    if not present:
        print(
            f"orderlint: error: no card store at {engine.url.render_as_string(hide_password=True)} "
            "(set ORDERLINT_DATABASE_URL; `orderlint serve` creates it): its rules were not applied",
            file=sys.stderr,
        )
        return 2
    return 0


# --- the service's daily run ----------------------------------------------------------------------------


async def _purge_every(settings: Settings, engine: Engine, first_s: float, interval_s: float) -> None:
    delay = first_s
    while True:
        await asyncio.sleep(delay)
        delay = interval_s
        try:
            report = await asyncio.to_thread(purge_all, settings, engine)
        except Exception as exc:  # a failed run is logged and retried at the next interval
            log.error("retention purge failed: %s", type(exc).__name__)
            continue
        log.info("retention purge: %s", report.summary())


def start_daily_purge(settings: Settings, engine: Engine) -> asyncio.Task[None] | None:
    """Start the background purge (every ORDERLINT_PURGE_INTERVAL_S, default a day; the first run after
    at most FIRST_RUN_AFTER_S). None when the interval is 0 or less (purge from cron with `orderlint purge`)."""
    interval = settings.purge_interval_s
    if interval <= 0:
        return None
    runner = _purge_every(settings, engine, min(interval, FIRST_RUN_AFTER_S), interval)
    return asyncio.get_running_loop().create_task(runner, name="orderlint-daily-purge")


async def stop_daily_purge(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
