"""Feedback stored exactly once and only the spec's fields; cards keep the override reasons they offered.

- card_feedback: `extra` (unknown fields stored verbatim, a raw patient id among them) is dropped with its
  contents; one row per (card, outcome, outcomeTimestamp): existing duplicates (client retries) are reduced
  to the first row before the unique constraint is added; an index on `received_at` for retention.
- issued_card: `override_reasons` (the card's overrideReasons) and an index on `issued_at` for retention.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM card_feedback WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MIN(id) AS keep FROM card_feedback "
        "GROUP BY card_uuid, outcome, outcome_timestamp) AS first_rows)"
    )
    with op.batch_alter_table("card_feedback") as batch:
        batch.drop_column("extra")
        batch.create_unique_constraint("uq_card_feedback_event", ["card_uuid", "outcome", "outcome_timestamp"])
        batch.create_index("ix_card_feedback_received_at", ["received_at"])
    with op.batch_alter_table("issued_card") as batch:
        batch.add_column(sa.Column("override_reasons", sa.JSON(), nullable=True))
        batch.create_index("ix_issued_card_issued_at", ["issued_at"])


def downgrade() -> None:
    with op.batch_alter_table("issued_card") as batch:
        batch.drop_index("ix_issued_card_issued_at")
        batch.drop_column("override_reasons")
    with op.batch_alter_table("card_feedback") as batch:
        batch.drop_index("ix_card_feedback_received_at")
        batch.drop_constraint("uq_card_feedback_event", type_="unique")
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
