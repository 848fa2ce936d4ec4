"""Feedback as clients send it, in the store, on SQLite and PostgreSQL: an append-only history per card,
each event stored exactly once, the display of a reason sent by code alone, stats on the latest outcome,
and migration 0002 over data written by 0001."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from linter.rules import RULE_NAMES
from linter.store.migrate import downgrade, upgrade
from linter.store.models import Base, CardFeedback, IssuedCard
from linter.store.repository import CardRecord, FeedbackRecord, OfferedReason, Store
from linter.store.stats import period, rule_stats

REASONS_SYSTEM = "https://orderlint.dev/fhir/CodeSystem/override-reason"
OFFERED = (
    OfferedReason(REASONS_SYSTEM, "patient-specific-dosing", "Patient-specific dosing"),
    OfferedReason(REASONS_SYSTEM, "other-order-covers", "Another order covers this"),
)
T0 = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)


def migrated_store(url: str) -> Store:
    upgrade(url)
    return Store.from_url(url, salt="s")


def issue(store: Store, *uuids: str, code: str = "HEP201") -> None:
    store.record_cards("svc", "hook-1", "pat-1", [CardRecord(u, code, "critical", OFFERED) for u in uuids])


def accepted(card: str, when: datetime = T0) -> FeedbackRecord:
    return FeedbackRecord(card, "accepted", when, accepted_suggestions=["sugg-1"])


def overridden(card: str, when: datetime, code: str | None = "patient-specific-dosing", **kw: str) -> FeedbackRecord:
    return FeedbackRecord(card, "overridden", when, override_system=REASONS_SYSTEM, override_code=code, **kw)


def test_accepted_then_overridden_keeps_both_events_and_stats_count_the_latest(database_url: str) -> None:
    store = migrated_store(database_url)
    issue(store, "card-a", "card-b")
    store.record_feedback("svc", [accepted("card-a"), accepted("card-b")])
    later = T0 + timedelta(minutes=7)
    result = store.record_feedback("svc", [overridden("card-a", later, user_comment="renal function changed")])
    assert (result.stored, result.duplicates) == (1, 0)

    history = store.card_history("card-a")
    assert [(e.outcome, e.outcome_timestamp) for e in history] == [("accepted", T0), ("overridden", later)]
    assert history[0].accepted_suggestions == ["sugg-1"] and history[0].override_code is None
    assert history[1].override_code == "patient-specific-dosing"
    assert history[1].override_display == "Patient-specific dosing"  # looked up from the card
    assert history[1].user_comment == "renal function changed"
    assert all(e.received_at.tzinfo is not None for e in history)

    stats = rule_stats(store.engine, *period(3650, until=datetime.now(UTC) + timedelta(days=1)), RULE_NAMES)
    (hep,) = stats.rules
    assert (hep.issued, hep.accepted, hep.overridden) == (2, 1, 1)  # card-a counts once, as overridden
    assert hep.top_reasons == [("Patient-specific dosing", 1)]
    assert hep.comments == ["renal function changed"]
    store.dispose()


def test_the_same_event_sent_again_is_stored_once_and_acknowledged(database_url: str) -> None:
    store = migrated_store(database_url)
    issue(store, "card-a")
    batch = [accepted("card-a"), overridden("card-a", T0 + timedelta(seconds=1)), accepted("never-issued")]
    first = store.record_feedback("svc", batch)
    again = store.record_feedback("svc", batch)
    assert (first.stored, first.duplicates, first.unknown_cards) == (3, 0, ["never-issued"])
    assert (again.stored, again.duplicates, again.unknown_cards) == (0, 3, ["never-issued"])
    # the same instant written with another offset, and a batch that repeats an item, are one event each
    paris = timezone(timedelta(hours=1))
    same_instant = [accepted("card-a", T0.astimezone(paris)), accepted("card-a", T0.replace(tzinfo=None))]
    repeat = store.record_feedback("svc", same_instant)
    assert (repeat.stored, repeat.duplicates) == (0, 2)
    with store.sessions() as session:
        assert len(session.scalars(select(CardFeedback)).all()) == 3
    store.dispose()


def test_concurrent_retries_store_one_row(database_url: str) -> None:
    upgrade(database_url)
    stores = [Store.from_url(database_url) for _ in range(6)]
    items = [accepted(f"card-{i}", T0 + timedelta(seconds=i)) for i in range(40)]
    with ThreadPoolExecutor(len(stores)) as pool:  # six clients sending the same batch at once
        results = list(pool.map(lambda store: store.record_feedback("svc", items).stored, stores))
    assert sum(results) == 40 and len(results) == 6
    with stores[0].sessions() as session:
        assert len(session.scalars(select(CardFeedback)).all()) == 40
    for s in stores:
        s.dispose()


def test_a_reason_by_code_alone_gets_the_display_the_card_offered(database_url: str) -> None:
    store = migrated_store(database_url)
    issue(store, "card-a")
    when = T0 + timedelta(minutes=1)
    store.record_feedback(
        "svc",
        [
            overridden("card-a", when),  # the sandbox: code and system, no display
            overridden("card-a", when + timedelta(seconds=1), code="other-order-covers", override_display="Mine"),
            overridden("card-a", when + timedelta(seconds=2), code="a-reason-the-client-added"),
            overridden("never-issued", when),
        ],
    )
    displays = [e.override_display for e in store.card_history("card-a")]
    assert displays == ["Patient-specific dosing", "Mine", None]  # a client's own display is kept
    assert [e.override_display for e in store.card_history("never-issued")] == [None]
    with store.sessions() as session:
        card = session.scalars(select(IssuedCard)).one()
    assert card.override_reasons == [
        {"system": REASONS_SYSTEM, "code": "patient-specific-dosing", "display": "Patient-specific dosing"},
        {"system": REASONS_SYSTEM, "code": "other-order-covers", "display": "Another order covers this"},
    ]
    store.dispose()


def test_stats_show_the_offered_display_for_feedback_that_arrived_before_its_card(database_url: str) -> None:
    """Cards are recorded after the hook answer is sent: a fast client's feedback can arrive first."""
    store = migrated_store(database_url)
    store.record_feedback("svc", [overridden("card-a", T0)])
    issue(store, "card-a")
    assert store.card_history("card-a")[0].override_display is None
    (hep,) = rule_stats(store.engine, *period(1), RULE_NAMES).rules
    assert hep.top_reasons == [("Patient-specific dosing", 1)]
    store.dispose()


def test_card_record_from_a_rendered_card() -> None:
    card = {
        "uuid": "u-1",
        "indicator": "warning",
        "source": {"label": "x", "topic": {"system": "s", "code": "AT106"}},
        "overrideReasons": [{"system": REASONS_SYSTEM, "code": "c", "display": "Shown"}],
    }
    record = CardRecord.from_card(card)
    assert record == CardRecord("u-1", "AT106", "warning", (OfferedReason(REASONS_SYSTEM, "c", "Shown"),))
    assert CardRecord.from_card({**card, "overrideReasons": []}).override_reasons == ()


def test_migration_0002_keeps_one_row_per_event_and_drops_the_unknown_fields(database_url: str) -> None:
    """Data written by 0001: retried feedback stored twice, and a `patient` field kept in `extra`."""
    upgrade(database_url, "0001")
    engine = create_engine(database_url)
    row = {
        "service_id": "svc",
        "card_uuid": "card-a",
        "known_card": False,
        "outcome": "accepted",
        "ts": "2021-12-11 10:05:31",
        "now": "2021-12-11 10:06:00",
        "extra": json.dumps({"patient": "Patient/raw-id-1234"}),
    }
    insert = text(
        "INSERT INTO card_feedback (service_id, card_uuid, known_card, outcome, outcome_timestamp, received_at, "
        "extra) VALUES (:service_id, :card_uuid, :known_card, :outcome, :ts, :now, :extra)"
    )
    with engine.begin() as conn:
        for _ in range(3):
            conn.execute(insert, row)
        conn.execute(insert, {**row, "outcome": "overridden"})
    upgrade(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("card_feedback")}
    assert "extra" not in columns
    assert "override_reasons" in {c["name"] for c in inspect(engine).get_columns("issued_card")}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome FROM card_feedback ORDER BY id")).scalars().all()
        dump = str(conn.execute(text("SELECT * FROM card_feedback")).all())
    assert rows == ["accepted", "overridden"]
    assert "raw-id-1234" not in dump
    downgrade(database_url, "0001")
    assert "extra" in {c["name"] for c in inspect(engine).get_columns("card_feedback")}
    upgrade(database_url)
    engine.dispose()


def test_the_migrations_build_exactly_the_tables_the_models_declare(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
