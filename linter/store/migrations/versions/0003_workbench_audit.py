"""Workbench audit trail: who logged in, viewed a job, downloaded a report (no patient data).

Revision ID: 0003
Revises: 0001 (the latest revision when this was written; re-chain after 0002 when merging)
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workbench_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.String(16), nullable=True),
    )
    op.create_index("ix_workbench_audit_at", "workbench_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_workbench_audit_at", table_name="workbench_audit")
    op.drop_table("workbench_audit")
