"""Tables. Patient ids are never stored: only an HMAC with a per-installation salt (`patient_hash`).

Nothing else a client sends is stored beyond the columns below: feedback keeps the CDS Hooks fields only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class IssuedCard(Base):
    """One card sent to a CDS client."""

    __tablename__ = "issued_card"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[str] = mapped_column(String(200))
    hook_instance: Mapped[str] = mapped_column(String(200))
    rule_code: Mapped[str] = mapped_column(String(32))
    indicator: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    patient_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The card's overrideReasons as sent ([{system, code, display}]): feedback that names a reason by code
    # alone (the CDS Hooks sandbox sends no display) is stored with the display the card offered.
    override_reasons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)

    # issued_at: the statistics and retention select by it. No index on rule_code: no query filters by it, and
    # each index costs every recorded card a B-tree insert (migration 0004 dropped the one there was).
    __table_args__ = (Index("ix_issued_card_issued_at", "issued_at"),)


class CardFeedback(Base):
    """One feedback event (spec body `feedback[]`). `known_card` is False when no issued card has that uuid.

    Append-only: a card accepted and later overridden has two rows, and stats read the latest. The same event
    sent again (same card, outcome and outcomeTimestamp: a client retry) hits `uq_card_feedback_event` and is
    not stored twice. Only retention touches stored rows (`linter.store.retention`).
    """

    __tablename__ = "card_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200))
    card_uuid: Mapped[str] = mapped_column(String(200), index=True)
    known_card: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    override_system: Mapped[str | None] = mapped_column(String(500), nullable=True)
    override_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    override_display: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("card_uuid", "outcome", "outcome_timestamp", name="uq_card_feedback_event"),
        Index("ix_card_feedback_received_at", "received_at"),
    )


class SeenJwtId(Base):
    """`jti` of every accepted client JWT, kept until the token expires (replay protection across workers)."""

    __tablename__ = "seen_jwt_id"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ServiceSetting(Base):
    """Values shared by all workers and generated once (the patient-id salt)."""

    __tablename__ = "service_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
