"""The queries the service needs, on top of a session factory. Synchronous: call from a worker thread.

Cards issued by the hook route are queued (`queue_cards`, no I/O on the request's path) and written in
batches by one writer thread (`CardWriter`): one executemany per batch instead of one transaction per call.
Nothing queued is lost on an orderly stop: `Store.dispose()` (the service's shutdown) flushes the queue
first, and `record_feedback` flushes it before looking cards up, so feedback never finds a card unrecorded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linter.model_fast import fast_init
from linter.store.db import make_engine, make_session_factory
from linter.store.models import CardFeedback, IssuedCard, SeenJwtId, ServiceSetting

log = logging.getLogger("orderlint.store")

SALT_KEY = "patient_id_salt"
IN_CHUNK = 500  # card uuids per IN (...) lookup: far below SQLite's bound-parameter limit


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_patient_id(salt: str, patient_id: str) -> str:
    """HMAC-SHA256 of the patient id: stable per installation, useless without the salt."""
    return hmac.new(salt.encode(), patient_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class OfferedReason:
    """One of a card's overrideReasons (CDS Hooks Coding: system, code, display)."""

    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class CardRecord:
    card_uuid: str
    rule_code: str
    indicator: str
    override_reasons: tuple[OfferedReason, ...] = ()

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> CardRecord:
        """The record of one rendered CDS Hooks card (`linter.render.cards`)."""
        reasons = tuple(
            OfferedReason(str(r["system"]), str(r["code"]), str(r.get("display") or r["code"]))
            for r in card.get("overrideReasons", ())
        )
        return cls(card["uuid"], card["source"]["topic"]["code"], card["indicator"], reasons)


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One feedback item: the CDS Hooks fields and nothing else (no field a client adds is ever stored)."""

    card_uuid: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: Sequence[str] | None = None
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None
    user_comment: str | None = None

    def key(self) -> tuple[str, str, datetime]:
        """What makes two items the same event: a client retry repeats all three."""
        return (self.card_uuid, self.outcome, as_utc(self.outcome_timestamp))


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """What `record_feedback` did: items newly stored, items already stored (retries), unknown card uuids."""

    stored: int
    duplicates: int
    unknown_cards: list[str]


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """One stored event of a card's history, oldest first (`Store.card_history`)."""

    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: list[str] | None
    override_system: str | None
    override_code: str | None
    override_display: str | None
    user_comment: str | None
    received_at: datetime


def as_utc(value: datetime) -> datetime:
    """Aware UTC (a naive value is taken as UTC): SQLite stores the wall time without its offset, so the
    same instant written with two offsets must become one value before it is stored or compared."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def offered_display(offered: Sequence[Mapping[str, str]] | None, system: str | None, code: str | None) -> str | None:
    """The display of the card's override reason with this code (and system, when given)."""
    if not offered or not code:
        return None
    for reason in offered:
        if reason.get("code") == code and (system is None or reason.get("system") == system):
            return reason.get("display") or None
    return None


def _insert_ignoring_duplicates(dialect: str) -> Callable[..., Any]:
    """INSERT ... ON CONFLICT DO NOTHING for the two databases the service supports."""
    if dialect == "postgresql":
        return postgresql_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise NotImplementedError(f"feedback storage supports SQLite and PostgreSQL, not {dialect}")


@dataclass(frozen=True, slots=True)
class _QueuedCards:
    service_id: str
    hook_instance: str
    patient_id: str | None
    cards: tuple[CardRecord, ...]
    issued_at: datetime


class CardWriter:
    """One thread that writes queued card records in batches (at most `max_rows` rows per transaction).

    `put` never blocks on the database. `flush` returns once everything put before it is written (or its
    write failed and was logged). `close` flushes, then stops the thread. Counters (`queued`, `written`,
    `failed`, `batches`) are what the bench reports."""

    def __init__(self, store: Store, max_rows: int = 1000, linger_s: float = 0.1) -> None:
        self._store = store
        self._max_rows = max_rows
        # Once woken, the writer waits this long for more cards before writing, so that a busy service writes
        # one transaction for many requests; put() wakes it only when it sleeps idle (issue 11 §3: a wake-up
        # per request cost more CPU than its SQL).
        self._linger_s = linger_s
        self._cond = threading.Condition()
        self._pending: list[_QueuedCards] = []
        self._pending_rows = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._idle = False  # the writer waits for a first item (put must wake it)
        self._hurry = 0  # flush() calls waiting: write now, do not linger
        self.queued = self.written = self.failed = self.batches = 0
        self._done_items = self._put_items = 0

    def put(self, item: _QueuedCards) -> None:
        with self._cond:
            if self._closed:  # after shutdown began: write it now rather than lose it
                self._write([item])
                return
            self._pending.append(item)
            self._pending_rows += len(item.cards)
            self._put_items += 1
            self.queued += len(item.cards)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="orderlint-card-writer", daemon=True)
                self._thread.start()
            elif self._idle or self._pending_rows >= self._max_rows:
                self._cond.notify_all()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every item put so far is written; False on timeout."""
        with self._cond:
            target = self._put_items
            self._hurry += 1
            self._cond.notify_all()  # cut the writer's linger short
            try:
                return self._cond.wait_for(lambda: self._done_items >= target, timeout)
            finally:
                self._hurry -= 1

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._idle = True
                self._cond.wait_for(lambda: bool(self._pending) or self._closed)
                self._idle = False
                if not self._pending and self._closed:
                    return
                if not (self._closed or self._hurry or self._pending_rows >= self._max_rows):
                    self._cond.wait(self._linger_s)  # gather more; flush, close or a full batch wake it early
                batch: list[_QueuedCards] = []
                rows = 0
                while self._pending and (not batch or rows + len(self._pending[0].cards) <= self._max_rows):
                    item = self._pending.pop(0)
                    batch.append(item)
                    rows += len(item.cards)
                self._pending_rows -= rows
            self._write(batch)
            with self._cond:
                self._done_items += len(batch)
                self._cond.notify_all()

    def _write(self, batch: list[_QueuedCards]) -> None:
        insert_sql, rows = self._store.card_insert.rows(self._store, batch)
        try:
            if rows:
                with self._store.engine.begin() as conn:
                    conn.exec_driver_sql(insert_sql, rows)
            self.written += len(rows)
            self.batches += 1
        except Exception as exc:  # logged, never raised into a request: a card is already answered
            self.failed += len(rows)
            log.error("could not record %d cards: %s", len(rows), type(exc).__name__)


CARD_COLUMNS = (
    "card_uuid",
    "service_id",
    "hook_instance",
    "rule_code",
    "indicator",
    "issued_at",
    "patient_hash",
    "override_reasons",
)


def _bind_processor(engine: Engine, column: str) -> Callable[[Any], Any]:
    """What SQLAlchemy does to a column's value before the DB-API gets it (e.g. SQLite's DATETIME text)."""
    column_type = IssuedCard.__table__.c[column].type.dialect_impl(engine.dialect)
    process: Callable[[Any], Any] | None = column_type.bind_processor(engine.dialect)
    return process or (lambda value: value)


class CardInsert:
    """The card writer's INSERT, compiled once for the engine's dialect, with the columns' own bind processors
    (SQLAlchemy's: the values stored are the ones `insert(IssuedCard)` stores). Per-row type processing and
    parameter building in SQLAlchemy's executemany were half the writer's CPU (issue 11 §3); here the time
    and the patient hash are processed once per request and each distinct list of override reasons once per
    batch."""

    def __init__(self, engine: Engine) -> None:
        compiled = insert(IssuedCard).compile(
            dialect=engine.dialect, column_keys=list(CARD_COLUMNS), for_executemany=True
        )
        self.sql = str(compiled)
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        if names is not None and sorted(names) != sorted(CARD_COLUMNS):  # pragma: no cover - a dialect we do not know
            raise RuntimeError(f"unexpected INSERT parameters {names}")
        self._names = names
        self._time = _bind_processor(engine, "issued_at")
        self._json = _bind_processor(engine, "override_reasons")

    def rows(self, store: Store, batch: Sequence[_QueuedCards]) -> tuple[str, list[Any]]:
        """(the SQL, its parameters: one tuple or dict per card, as the DB-API's paramstyle wants)."""
        reasons_json: dict[int, Any] = {}  # by id: every tuple of reasons stays alive with the batch
        rows: list[Any] = []
        as_is = self._names == CARD_COLUMNS
        for item in batch:
            issued_at, patient_hash = self._time(item.issued_at), store.patient_hash(item.patient_id)
            for c in item.cards:
                reasons = reasons_json.get(id(c.override_reasons))
                if reasons is None:
                    listed = [{"system": r.system, "code": r.code, "display": r.display} for r in c.override_reasons]
                    reasons = reasons_json[id(c.override_reasons)] = self._json(listed or None)
                values = (
                    c.card_uuid,
                    item.service_id,
                    item.hook_instance,
                    c.rule_code,
                    c.indicator,
                    issued_at,
                    patient_hash,
                    reasons,
                )  # in CARD_COLUMNS order
                rows.append(values if as_is else self._arrange(values))
        return self.sql, rows

    def _arrange(self, values: tuple[Any, ...]) -> Any:
        named = dict(zip(CARD_COLUMNS, values, strict=True))
        return named if self._names is None else tuple(named[n] for n in self._names)


class Store:
    def __init__(self, engine: Engine, salt: str | None = None) -> None:
        self.engine = engine
        self.card_insert = CardInsert(engine)
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self._salt: str | None = salt
        self._jti_inserts = 0
        self.card_writer = CardWriter(self)

    @classmethod
    def from_url(cls, url: str, salt: str | None = None) -> Store:
        return cls(make_engine(url), salt)

    def dispose(self) -> None:
        self.card_writer.close()  # the queued cards are written before the connections go
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    # --- patient-id salt --------------------------------------------------------------------------------

    def salt(self) -> str:
        """The configured salt, or the one generated once and kept in the database for every worker."""
        if self._salt is None:
            self._salt = self._shared_salt()
        return self._salt

    def _shared_salt(self) -> str:
        with self.sessions() as session:
            existing = session.get(ServiceSetting, SALT_KEY)
            if existing is not None:
                return existing.value
            session.add(ServiceSetting(key=SALT_KEY, value=secrets.token_hex(32)))
            try:
                session.commit()
            except IntegrityError:  # another worker generated it first
                session.rollback()
        with self.sessions() as session:
            stored = session.get(ServiceSetting, SALT_KEY)
            if stored is None:  # pragma: no cover - the row was just written
                raise RuntimeError("patient id salt could not be stored")
            return stored.value

    def patient_hash(self, patient_id: str | None) -> str | None:
        return hash_patient_id(self.salt(), patient_id) if patient_id else None

    # --- cards and feedback -----------------------------------------------------------------------------

    def queue_cards(
        self, service_id: str, hook_instance: str, patient_id: str | None, cards: Iterable[CardRecord]
    ) -> None:
        """Record cards later, in a batch written by the card writer thread (no I/O here)."""
        records = tuple(cards)
        if records:
            self.card_writer.put(_QueuedCards(service_id, hook_instance, patient_id, records, utcnow()))

    def flush_cards(self, timeout: float | None = 30.0) -> bool:
        return self.card_writer.flush(timeout)

    def card_rows(self, item: _QueuedCards) -> list[dict[str, Any]]:
        patient_hash = self.patient_hash(item.patient_id)
        return [
            {
                "card_uuid": c.card_uuid,
                "service_id": item.service_id,
                "hook_instance": item.hook_instance,
                "rule_code": c.rule_code,
                "indicator": c.indicator,
                "issued_at": item.issued_at,
                "patient_hash": patient_hash,
                "override_reasons": [
                    {"system": r.system, "code": r.code, "display": r.display} for r in c.override_reasons
                ]
                or None,
            }
            for c in item.cards
        ]

    def record_cards(
        self, service_id: str, hook_instance: str, patient_id: str | None, cards: Iterable[CardRecord]
    ) -> int:
        """Record cards now, in one transaction (the queued path is `queue_cards`)."""
        rows = self.card_rows(_QueuedCards(service_id, hook_instance, patient_id, tuple(cards), utcnow()))
        if not rows:
            return 0
        with self.engine.begin() as conn:
            conn.execute(insert(IssuedCard), rows)
        return len(rows)

    def record_feedback(self, service_id: str, items: Sequence[FeedbackRecord]) -> FeedbackResult:
        """Store each event once. An item already stored (same card, outcome and outcomeTimestamp: a client
        retrying after a lost answer) is acknowledged and not stored again; a later outcome for the same card
        is a new event. A reason given by code alone gets the display the card offered. Feedback for a card
        we never issued is stored and flagged (`known_card` False); its uuid is returned."""
        self.flush_cards()  # a card answered a moment ago may still be queued
        unique = list({item.key(): item for item in items}.values())
        uuids = sorted({item.card_uuid for item in unique})
        now = utcnow()
        insert_ignoring = _insert_ignoring_duplicates(self.engine.dialect.name)
        with self.engine.begin() as conn:
            offered: dict[str, list[dict[str, str]] | None] = {}
            for start in range(0, len(uuids), IN_CHUNK):
                chunk = uuids[start : start + IN_CHUNK]
                rows = conn.execute(
                    select(IssuedCard.card_uuid, IssuedCard.override_reasons).where(IssuedCard.card_uuid.in_(chunk))
                )
                offered.update((uuid, reasons) for uuid, reasons in rows)
            values = [
                {
                    "service_id": service_id,
                    "card_uuid": item.card_uuid,
                    "known_card": item.card_uuid in offered,
                    "outcome": item.outcome,
                    "accepted_suggestions": list(item.accepted_suggestions)
                    if item.accepted_suggestions is not None
                    else None,
                    "override_system": item.override_system,
                    "override_code": item.override_code,
                    "override_display": item.override_display
                    or offered_display(offered.get(item.card_uuid), item.override_system, item.override_code),
                    "user_comment": item.user_comment,
                    "outcome_timestamp": as_utc(item.outcome_timestamp),
                    "received_at": now,
                }
                for item in unique
            ]
            stored = 0
            if values:
                statement = (
                    insert_ignoring(CardFeedback)
                    .on_conflict_do_nothing(index_elements=["card_uuid", "outcome", "outcome_timestamp"])
                    .returning(CardFeedback.id)
                )
                stored = len(conn.execute(statement, values).all())
        return FeedbackResult(stored, len(items) - stored, [u for u in uuids if u not in offered])

    def card_history(self, card_uuid: str) -> list[FeedbackEvent]:
        """Every stored feedback event of one card, oldest outcome first."""
        with self.sessions() as session:
            rows = session.scalars(
                select(CardFeedback)
                .where(CardFeedback.card_uuid == card_uuid)
                .order_by(CardFeedback.outcome_timestamp, CardFeedback.id)
            ).all()
        return [
            FeedbackEvent(
                r.outcome,
                as_utc(r.outcome_timestamp),
                r.accepted_suggestions,
                r.override_system,
                r.override_code,
                r.override_display,
                r.user_comment,
                as_utc(r.received_at),
            )
            for r in rows
        ]

    # --- JWT replay protection --------------------------------------------------------------------------

    def remember_jti(self, issuer: str, jti: str, expires_at: datetime, now: datetime | None = None) -> bool:
        """Record a token id; False if the same issuer already used it and it has not expired yet."""
        now = now or utcnow()
        self._jti_inserts += 1
        if self._jti_inserts % 200 == 0:
            self.purge_expired_jtis(now)
        with self.sessions() as session:
            session.add(SeenJwtId(issuer=issuer, jti=jti, expires_at=expires_at))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
        with self.sessions() as session:
            # A row that expired may be reused; only one concurrent caller wins the conditional update.
            result = session.execute(
                update(SeenJwtId)
                .where(SeenJwtId.issuer == issuer, SeenJwtId.jti == jti, SeenJwtId.expires_at < now)
                .values(expires_at=expires_at)
            )
            session.commit()
            return isinstance(result, CursorResult) and result.rowcount == 1

    def purge_expired_jtis(self, now: datetime | None = None) -> None:
        with self.sessions() as session:
            session.execute(delete(SeenJwtId).where(SeenJwtId.expires_at < (now or utcnow())))
            session.commit()


fast_init(globals().values(), __name__)  # cheap building of the records above (linter.model_fast)
