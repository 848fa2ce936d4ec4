"""The store on SQLite and PostgreSQL: migrations up and down, cards, feedback, salt, jti replay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from linter.store.migrate import downgrade, upgrade
from linter.store.models import CardFeedback, IssuedCard, ServiceSetting
from linter.store.repository import CardRecord, FeedbackRecord, Store, hash_patient_id

TABLES = {"issued_card", "card_feedback", "seen_jwt_id", "service_setting"}


def migrated_store(url: str, salt: str | None = None) -> Store:
    upgrade(url)
    return Store.from_url(url, salt)


def test_migrations_create_and_drop_every_table(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # idempotent: a second worker or restart is a no-op
    store = Store.from_url(database_url)
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    downgrade(database_url)
    assert not TABLES & set(inspect(store.engine).get_table_names())
    store.dispose()


def test_cards_are_recorded_with_a_salted_hash_never_the_patient_id(database_url: str) -> None:
    store = migrated_store(database_url, salt="s3cret")
    store.record_cards("svc", "hook-1", "patient-123", [CardRecord("u-1", "HEP201", "critical")])
    with store.sessions() as session:
        card = session.scalars(select(IssuedCard)).one()
    assert card.patient_hash == hash_patient_id("s3cret", "patient-123")
    assert card.patient_hash != hash_patient_id("other-salt", "patient-123")
    assert "patient-123" not in (card.patient_hash or "")
    assert (card.service_id, card.hook_instance, card.rule_code, card.indicator) == (
        "svc",
        "hook-1",
        "HEP201",
        "critical",
    )
    store.dispose()


def test_generated_salt_is_shared_through_the_database(database_url: str) -> None:
    first = migrated_store(database_url)
    second = Store.from_url(database_url)
    assert first.salt() == second.salt()
    assert len(first.salt()) == 64
    with first.sessions() as session:
        assert session.get(ServiceSetting, "patient_id_salt") is not None
    first.dispose()
    second.dispose()


def test_feedback_for_unknown_cards_is_stored_and_flagged(database_url: str) -> None:
    store = migrated_store(database_url)
    store.record_cards("svc", "hook-1", None, [CardRecord("known", "AT101", "warning")])
    when = datetime(2021, 12, 11, 10, 5, 31, tzinfo=UTC)
    unknown = store.record_feedback(
        "svc",
        [
            FeedbackRecord("known", "accepted", when, accepted_suggestions=["s-1"]),
            FeedbackRecord(
                "never-issued",
                "overridden",
                when,
                override_system="http://x",
                override_code="c",
                user_comment="clinician comment",
            ),
        ],
    )
    assert unknown.unknown_cards == ["never-issued"]
    assert (unknown.stored, unknown.duplicates) == (2, 0)
    with store.sessions() as session:
        rows = {f.card_uuid: f for f in session.scalars(select(CardFeedback))}
    assert rows["known"].known_card is True
    assert rows["known"].accepted_suggestions == ["s-1"]
    assert rows["never-issued"].known_card is False
    assert rows["never-issued"].user_comment == "clinician comment"
    store.dispose()


def test_jti_is_accepted_once_until_it_expires(database_url: str) -> None:
    store = migrated_store(database_url)
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert store.remember_jti("https://ehr", "jti-1", later) is True
    assert store.remember_jti("https://ehr", "jti-1", later) is False
    assert store.remember_jti("https://other-ehr", "jti-1", later) is True  # jti is unique per issuer
    past = datetime.now(UTC) - timedelta(minutes=5)
    assert store.remember_jti("https://ehr", "jti-old", past) is True
    assert store.remember_jti("https://ehr", "jti-old", later) is True  # expired entry may be reused
    assert store.remember_jti("https://ehr", "jti-old", later) is False
    store.dispose()


def test_concurrent_replays_admit_exactly_one(database_url: str) -> None:
    upgrade(database_url)
    stores = [Store.from_url(database_url) for _ in range(8)]
    later = datetime.now(UTC) + timedelta(minutes=5)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt(store: Store) -> None:
        ok = store.remember_jti("https://ehr", "same-jti", later)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    for s in stores:
        s.dispose()


def test_readiness_ping(database_url: str) -> None:
    store = migrated_store(database_url)
    assert store.ping() is True
    store.dispose()
