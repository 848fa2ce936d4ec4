"""Alert-fatigue statistics from the card and feedback tables: per rule, over a period, how many cards were
issued, accepted, overridden, the override rate, the top override reasons and the latest comments, and a
per-day series for the chart. Read-only; shared by `/dashboard` and `orderlint stats`.

A card counts in the period when it was issued in it. A card's feedback is an append-only history of events
(accepted, later overridden: two events); the card counts once, with its latest outcome by outcomeTimestamp
(a clinician who overrides and then accepts has accepted). A reason given by code alone is shown with the
display the card offered. Feedback for cards we never issued is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from linter.store.models import CardFeedback, IssuedCard
from linter.store.repository import offered_display

TOP_REASONS = 3
LATEST_COMMENTS = 5


@dataclass
class DayCount:
    day: date
    issued: int = 0
    accepted: int = 0
    overridden: int = 0


@dataclass
class RuleStats:
    code: str
    name: str
    issued: int = 0
    accepted: int = 0
    overridden: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    days: list[DayCount] = field(default_factory=list)

    @property
    def no_feedback(self) -> int:
        return self.issued - self.accepted - self.overridden

    @property
    def override_rate(self) -> float | None:
        """Overridden / (accepted + overridden); None when no clinician answered yet."""
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else None

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "issued": self.issued,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "no_feedback": self.no_feedback,
            "override_rate": None if self.override_rate is None else round(self.override_rate, 4),
            "top_override_reasons": [{"reason": r, "count": n} for r, n in self.top_reasons],
            "comments": self.comments,
            "per_day": [
                {"day": d.day.isoformat(), "issued": d.issued, "accepted": d.accepted, "overridden": d.overridden}
                for d in self.days
            ],
        }


@dataclass
class PeriodStats:
    since: datetime
    until: datetime
    rules: list[RuleStats]

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "rules": [r.as_json() for r in self.rules],
        }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def has_tables(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names())
    return {IssuedCard.__tablename__, CardFeedback.__tablename__} <= names


def period(days: int, until: datetime | None = None) -> tuple[datetime, datetime]:
    end = _aware(until or datetime.now(UTC))
    return end - timedelta(days=days), end


def rule_stats(engine: Engine, since: datetime, until: datetime, names: Mapping[str, str]) -> PeriodStats:
    """Per-rule figures for cards issued in [since, until]. `names` maps rule codes to their readable names
    (the caller's registry: the store records codes only); a code not in it gets an empty name."""
    since, until = _aware(since), _aware(until)
    with Session(engine) as session:
        cards = session.execute(
            select(IssuedCard.card_uuid, IssuedCard.rule_code, IssuedCard.issued_at).where(
                IssuedCard.issued_at >= since, IssuedCard.issued_at <= until
            )
        ).all()
        feedback = session.execute(
            select(
                CardFeedback.card_uuid,
                CardFeedback.outcome,
                CardFeedback.outcome_timestamp,
                CardFeedback.id,
                CardFeedback.override_system,
                CardFeedback.override_code,
                CardFeedback.override_display,
                CardFeedback.user_comment,
                IssuedCard.override_reasons,
            )
            .join(IssuedCard, IssuedCard.card_uuid == CardFeedback.card_uuid)
            .where(IssuedCard.issued_at >= since, IssuedCard.issued_at <= until)
        ).all()
    latest: dict[str, tuple[datetime, int, str, str | None, str | None, str | None]] = {}
    for uuid, outcome, ts, row_id, system, code, display, comment, offered in feedback:
        key = (_aware(ts), row_id)
        if uuid not in latest or key > latest[uuid][:2]:
            # display: stored, or the card's own (feedback that arrived before the card was recorded)
            latest[uuid] = (key[0], row_id, outcome, code, display or offered_display(offered, system, code), comment)

    first_day = since.date()
    n_days = (until.date() - first_day).days + 1
    by_rule: dict[str, RuleStats] = {}
    reasons: dict[str, Counter[str]] = {}
    comments: dict[str, list[tuple[datetime, str]]] = {}
    for uuid, rule_code, issued_at in cards:
        stats = by_rule.get(rule_code)
        if stats is None:
            stats = by_rule[rule_code] = RuleStats(rule_code, names.get(rule_code, ""))
            stats.days = [DayCount(first_day + timedelta(days=i)) for i in range(n_days)]
        day = stats.days[min(max((_aware(issued_at).date() - first_day).days, 0), n_days - 1)]
        stats.issued += 1
        day.issued += 1
        answer = latest.get(uuid)
        if answer is None:
            continue
        ts, _row, outcome, code, display, comment = answer
        if outcome == "accepted":
            stats.accepted += 1
            day.accepted += 1
        elif outcome == "overridden":
            stats.overridden += 1
            day.overridden += 1
            reasons.setdefault(rule_code, Counter())[display or code or "no reason given"] += 1
            if comment and comment.strip():
                comments.setdefault(rule_code, []).append((ts, comment.strip()))
    for code, stats in by_rule.items():
        stats.top_reasons = sorted(reasons.get(code, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
        stats.comments = [c for _, c in sorted(comments.get(code, []), reverse=True)[:LATEST_COMMENTS]]
    rules = sorted(by_rule.values(), key=lambda r: (-(r.override_rate or 0.0), -r.issued, r.code))
    return PeriodStats(since, until, rules)
