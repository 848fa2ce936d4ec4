"""The queries the service needs, on top of a session factory. Synchronous: call from a worker thread."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linter.store.db import make_engine, make_session_factory
from linter.store.models import CardFeedback, IssuedCard, SeenJwtId, ServiceSetting

SALT_KEY = "patient_id_salt"


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_patient_id(salt: str, patient_id: str) -> str:
    """HMAC-SHA256 of the patient id: stable per installation, useless without the salt."""
    return hmac.new(salt.encode(), patient_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CardRecord:
    card_uuid: str
    rule_code: str
    indicator: str


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    card_uuid: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: Sequence[str] | None = None
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None
    user_comment: str | None = None
    extra: dict[str, Any] | None = None


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
            }
            for c in cards
        ]
        if not rows:
            return 0
        # One executemany in one transaction (Core, not ORM objects): on the hot path of every hook call.
        with self.engine.begin() as conn:
            conn.execute(insert(IssuedCard), rows)
        return len(rows)

    def record_feedback(self, service_id: str, items: Sequence[FeedbackRecord]) -> list[str]:
        """Store every item; return the card uuids that match no issued card (stored, flagged)."""
        uuids = {item.card_uuid for item in items}
        now = utcnow()
        with self.sessions() as session:
            known = set(session.scalars(select(IssuedCard.card_uuid).where(IssuedCard.card_uuid.in_(uuids))))
            for item in items:
                session.add(
                    CardFeedback(
                        service_id=service_id,
                        card_uuid=item.card_uuid,
                        known_card=item.card_uuid in known,
                        outcome=item.outcome,
                        accepted_suggestions=list(item.accepted_suggestions)
                        if item.accepted_suggestions is not None
                        else None,
                        override_system=item.override_system,
                        override_code=item.override_code,
                        override_display=item.override_display,
                        user_comment=item.user_comment,
                        outcome_timestamp=item.outcome_timestamp,
                        received_at=now,
                        extra=item.extra,
                    )
                )
            session.commit()
        return sorted(uuids - known)

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
