"""issued_card: drop `ix_issued_card_rule_time` (rule_code, issued_at).

No query reads issued_card by rule code: the statistics (linter.store.stats) and retention
(linter.store.retention) select cards by `issued_at` (`ix_issued_card_issued_at`), and feedback looks cards up by
`card_uuid` (its unique index). The index only cost every recorded card one more B-tree insert: about a fifth of
the card writer's SQLite time (issue 11 §3). Downgrading puts it back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_issued_card_rule_time", table_name="issued_card")


def downgrade() -> None:
    op.create_index("ix_issued_card_rule_time", "issued_card", ["rule_code", "issued_at"])
