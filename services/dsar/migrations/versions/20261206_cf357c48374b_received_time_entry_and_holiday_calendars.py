"""Requests: who entered them and when, apart from their receipt, and their holiday calendar; tenant settings

Revision ID: cf357c48374b
Revises: 8a4e9ba8f00b
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "cf357c48374b"
down_revision: str | None = "8a4e9ba8f00b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dsar_request", sa.Column("entered_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True))
    # Until now a request was entered the moment it was received: its row's creation time says when.
    op.execute("UPDATE dsar_request SET entered_at = created_at")
    op.alter_column("dsar_request", "entered_at", nullable=False)
    op.add_column("dsar_request", sa.Column("entered_by", sa.String(length=255), nullable=True))
    # Existing requests keep the dates they were given (weekends only): no calendar, no recomputation.
    op.add_column("dsar_request", sa.Column("calendar", sa.String(length=16), nullable=True))
    op.create_table(
        "dsar_tenant_settings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("calendars", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )


def downgrade() -> None:
    op.drop_table("dsar_tenant_settings")
    op.drop_column("dsar_request", "calendar")
    op.drop_column("dsar_request", "entered_by")
    op.drop_column("dsar_request", "entered_at")
