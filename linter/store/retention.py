"""Retention rules of the card and feedback store, applied by `linter.purge` (`orderlint purge`, and the
service once a day). Each rule deletes (or clears) what has outlived its period and says how much.

- Override comments (free text a clinician typed, which may name anyone): cleared from feedback received more
  than `comment_days` ago. The event itself (outcome, coded reason, time) stays for the statistics.
- Card audit: cards issued more than `card_days` ago are deleted with every feedback event about them, and so
  is feedback for cards we never issued received that long ago.
- Client JWT ids: kept only until the token expires (replay protection needs no more).

Times are the server's (`received_at`, `issued_at`), never a client's `outcomeTimestamp`: a client cannot
keep its data past the period by sending a date in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, Engine, Result, delete, or_, select, update

from linter.store.models import CardFeedback, IssuedCard, SeenJwtId
from linter.store.repository import utcnow


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    comment_days: int = 365
    card_days: int = 3660


@dataclass(frozen=True, slots=True)
class StorePurge:
    """Rows affected by one purge of the store."""

    comments_cleared: int
    cards_deleted: int
    feedback_deleted: int
    jwt_ids_deleted: int


def _count(result: Result[object]) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def purge_store(engine: Engine, policy: RetentionPolicy, now: datetime | None = None) -> StorePurge:
    """Apply every retention rule of the store in one transaction."""
    now = now or utcnow()
    comment_cutoff = now - timedelta(days=policy.comment_days)
    card_cutoff = now - timedelta(days=policy.card_days)
    old_cards = select(IssuedCard.card_uuid).where(IssuedCard.issued_at < card_cutoff)
    with engine.begin() as conn:
        feedback = conn.execute(
            delete(CardFeedback).where(
                or_(CardFeedback.received_at < card_cutoff, CardFeedback.card_uuid.in_(old_cards))
            )
        )
        cards = conn.execute(delete(IssuedCard).where(IssuedCard.issued_at < card_cutoff))
        comments = conn.execute(
            update(CardFeedback)
            .where(CardFeedback.user_comment.is_not(None), CardFeedback.received_at < comment_cutoff)
            .values(user_comment=None)
        )
        jtis = conn.execute(delete(SeenJwtId).where(SeenJwtId.expires_at < now))
        return StorePurge(_count(comments), _count(cards), _count(feedback), _count(jtis))
