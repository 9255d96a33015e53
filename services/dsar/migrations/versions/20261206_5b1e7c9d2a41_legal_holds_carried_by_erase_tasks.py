"""Legal holds carried by erase tasks: retention's holds as heard of, and the holds each task was sent with

Revision ID: 5b1e7c9d2a41
Revises: cf357c48374b
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "5b1e7c9d2a41"
down_revision: str | None = "cf357c48374b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dsar_legal_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("system", sa.String(length=128), nullable=True),
        sa.Column("matter", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("placed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_dsar_legal_hold_active",
        "dsar_legal_hold",
        ["tenant_id"],
        unique=False,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.add_column(
        "dsar_task",
        sa.Column("holds", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("dsar_task", "holds")
    op.drop_index("ix_dsar_legal_hold_active", table_name="dsar_legal_hold", postgresql_where=sa.text("released_at IS NULL"))
    op.drop_table("dsar_legal_hold")
