"""The queries the service needs, on top of a session factory. Synchronous: call from a worker thread."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linter.store.db import make_engine, make_session_factory
from linter.store.models import CardFeedback, IssuedCard, SeenJwtId, ServiceSetting

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


class Store:
    def __init__(self, engine: Engine, salt: str | None = None) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self._salt: str | None = salt
        self._jti_inserts = 0

    @classmethod
    def from_url(cls, url: str, salt: str | None = None) -> Store:
        return cls(make_engine(url), salt)

    def dispose(self) -> None:
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

    def record_cards(
        self, service_id: str, hook_instance: str, patient_id: str | None, cards: Iterable[CardRecord]
    ) -> int:
        patient_hash = self.patient_hash(patient_id)
        issued_at = utcnow()
        rows = [
            {
                "card_uuid": c.card_uuid,
                "service_id": service_id,
                "hook_instance": hook_instance,
                "rule_code": c.rule_code,
                "indicator": c.indicator,
                "issued_at": issued_at,
                "patient_hash": patient_hash,
                "override_reasons": [
                    {"system": r.system, "code": r.code, "display": r.display} for r in c.override_reasons
                ]
                or None,
            }
            for c in cards
        ]
        if not rows:
            return 0
        # One executemany in one transaction (Core, not ORM objects): on the hot path of every hook call.
        with self.engine.begin() as conn:
            conn.execute(insert(IssuedCard), rows)
        return len(rows)

    def record_feedback(self, service_id: str, items: Sequence[FeedbackRecord]) -> FeedbackResult:
        """Store each event once. An item already stored (same card, outcome and outcomeTimestamp: a client
        retrying after a lost answer) is acknowledged and not stored again; a later outcome for the same card
        is a new event. A reason given by code alone gets the display the card offered. Feedback for a card
        we never issued is stored and flagged (`known_card` False); its uuid is returned."""
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
