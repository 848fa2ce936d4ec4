"""The audit trail of who saw patient data in the workbench: logins, job views, report downloads.

One row per event: the workbench user, the time, the action, and the job id (a random id, not patient
data). Nothing from the uploaded files is recorded. Table `workbench_audit` (migration 0003).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import DateTime, Engine, Index, Integer, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from linter.store.models import Base

AuditAction = Literal["login", "job-view", "report-download"]


class WorkbenchAudit(Base):
    __tablename__ = "workbench_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))  # basic | oidc | proxy | open
    action: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(16), nullable=True)  # report format: json | csv | html

    __table_args__ = (Index("ix_workbench_audit_at", "at"),)


@dataclass(frozen=True)
class AuditEvent:
    at: datetime
    user: str
    role: str
    method: str
    action: str
    job_id: str | None = None
    detail: str | None = None


def record(engine: Engine, event: AuditEvent) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(WorkbenchAudit).values(
                at=event.at,
                user_name=event.user[:200],
                role=event.role,
                method=event.method,
                action=event.action,
                job_id=event.job_id,
                detail=event.detail,
            )
        )


def recent(engine: Engine, limit: int = 500, user: str | None = None) -> list[AuditEvent]:
    """The latest events, newest first (optionally one user's)."""
    query = select(WorkbenchAudit).order_by(WorkbenchAudit.at.desc(), WorkbenchAudit.id.desc()).limit(limit)
    if user is not None:
        query = query.where(WorkbenchAudit.user_name == user)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        AuditEvent(
            at=r["at"] if r["at"].tzinfo else r["at"].replace(tzinfo=UTC),
            user=r["user_name"],
            role=r["role"],
            method=r["method"],
            action=r["action"],
            job_id=r["job_id"],
            detail=r["detail"],
        )
        for r in rows
    ]
