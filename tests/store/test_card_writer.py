"""Cards queued by the hook route are written in batches by one writer and never lost on shutdown."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from linter.store.migrate import upgrade
from linter.store.models import CardFeedback, IssuedCard
from linter.store.repository import CardRecord, FeedbackRecord, OfferedReason, Store


def _count(url: str) -> int:
    store = Store.from_url(url)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(IssuedCard)).scalar_one())
    finally:
        store.dispose()


def test_queued_cards_from_many_threads_are_all_written_by_dispose(database_url: str) -> None:
    upgrade(database_url)
    store = Store.from_url(database_url, salt="s")

    def issue(t: int) -> None:
        for n in range(50):
            store.queue_cards(
                "svc", f"hook-{t}-{n}", "pat", [CardRecord(f"u-{t}-{n}-{k}", "HEP201", "critical") for k in range(3)]
            )

    threads = [threading.Thread(target=issue, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    store.dispose()  # the service's shutdown: nothing queued may be lost
    assert _count(database_url) == 4 * 50 * 3
    writer = store.card_writer
    assert writer.queued == writer.written == 600 and writer.failed == 0
    assert writer.batches < 200  # batched: fewer transactions than calls


def test_flush_makes_queued_cards_visible_and_feedback_finds_them(database_url: str) -> None:
    upgrade(database_url)
    store = Store.from_url(database_url, salt="s")
    try:
        store.queue_cards("svc", "hook-1", "pat", [CardRecord("c-1", "AT101", "warning")])
        # record_feedback flushes first: the card answered a moment ago is known
        result = store.record_feedback("svc", [FeedbackRecord("c-1", "accepted", datetime.now(UTC))])
        assert result.unknown_cards == [] and result.stored == 1
        with store.sessions() as session:
            assert session.scalars(select(CardFeedback.known_card)).one() is True
        store.queue_cards("svc", "hook-2", None, [CardRecord("c-2", "AT101", "warning")])
        assert store.flush_cards()
        with store.sessions() as session:
            assert set(session.scalars(select(IssuedCard.card_uuid))) == {"c-1", "c-2"}
    finally:
        store.dispose()


def test_a_failed_batch_is_counted_and_logged_not_raised(sqlite_url: str) -> None:
    store = Store.from_url(sqlite_url, salt="s")  # no migration: the table does not exist
    try:
        store.queue_cards("svc", "hook-1", None, [CardRecord("c-1", "AT101", "warning")])
        assert store.flush_cards()
        assert store.card_writer.failed == 1 and store.card_writer.written == 0
    finally:
        store.dispose()


def test_the_writer_stores_what_the_orm_insert_stores(database_url: str) -> None:
    """The writer's pre-compiled INSERT (linter.store.repository.CardInsert) and SQLAlchemy's own insert
    store the same values: time, patient hash, override reasons (JSON) and none."""
    upgrade(database_url)
    store = Store.from_url(database_url, salt="s")
    reasons = (OfferedReason("http://x", "a", "Ä reason"), OfferedReason("http://x", "b", "B"))
    try:
        for n, (uuid, patient, offered) in enumerate([("w-1", "pat", reasons), ("w-2", None, ())]):
            cards = [CardRecord(uuid, "HEP201", "critical", offered)]
            store.queue_cards("svc", f"hook-{n}", patient, cards)
            store.record_cards("svc", f"hook-{n}", patient, [CardRecord("o" + uuid[1:], "HEP201", "critical", offered)])
        assert store.flush_cards()
        with store.engine.connect() as conn:
            rows = {
                r.card_uuid: r
                for r in conn.execute(select(IssuedCard.__table__)).all()  # read back by the column types
            }
    finally:
        store.dispose()
    for n in ("1", "2"):
        written, inserted = rows[f"w-{n}"]._asdict(), rows[f"o-{n}"]._asdict()
        for key in ("id", "card_uuid", "issued_at"):
            written.pop(key), inserted.pop(key)
        assert written == inserted
        assert rows[f"w-{n}"].issued_at.tzinfo == rows[f"o-{n}"].issued_at.tzinfo
    assert rows["w-1"].override_reasons == [{"system": r.system, "code": r.code, "display": r.display} for r in reasons]
    assert rows["w-2"].override_reasons is None and rows["w-2"].patient_hash is None
