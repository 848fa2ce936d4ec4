"""Cards issued, feedback, JWT ids seen, shared settings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_card",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(64), nullable=False, unique=True),
        sa.Column("service_id", sa.String(200), nullable=False),
        sa.Column("hook_instance", sa.String(200), nullable=False),
        sa.Column("rule_code", sa.String(32), nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_issued_card_rule_time", "issued_card", ["rule_code", "issued_at"])
    op.create_table(
        "card_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(200), nullable=False),
        sa.Column("card_uuid", sa.String(200), nullable=False),
        sa.Column("known_card", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=True),
        sa.Column("override_system", sa.String(500), nullable=True),
        sa.Column("override_code", sa.String(200), nullable=True),
        sa.Column("override_display", sa.Text(), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.Column("outcome_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
    )
    op.create_index("ix_card_feedback_card_uuid", "card_feedback", ["card_uuid"])
    op.create_table(
        "seen_jwt_id",
        sa.Column("issuer", sa.String(500), primary_key=True),
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_jwt_id_expires_at", "seen_jwt_id", ["expires_at"])
    op.create_table(
        "service_setting",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_setting")
    op.drop_index("ix_seen_jwt_id_expires_at", table_name="seen_jwt_id")
    op.drop_table("seen_jwt_id")
    op.drop_index("ix_card_feedback_card_uuid", table_name="card_feedback")
    op.drop_table("card_feedback")
    op.drop_index("ix_issued_card_rule_time", table_name="issued_card")
    op.drop_table("issued_card")
