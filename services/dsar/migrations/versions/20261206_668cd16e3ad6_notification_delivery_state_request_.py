"""Notification delivery state, request locale and acknowledgement

Revision ID: 668cd16e3ad6
Revises: ddd88e3bd98f
Create Date: 2026-12-06 04:02:17.371754
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "668cd16e3ad6"
down_revision: str | None = "ddd88e3bd98f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dsar_notification", sa.Column("locale", sa.String(length=16), nullable=True))
    op.add_column(
        "dsar_notification", sa.Column("state", sa.String(length=16), server_default="requested", nullable=False)
    )
    op.add_column("dsar_notification", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "dsar_notification", sa.Column("sent_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "dsar_notification", sa.Column("delivered_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "dsar_notification", sa.Column("failed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("dsar_notification", sa.Column("failure_reason", sa.Text(), nullable=True))
    op.add_column("dsar_request", sa.Column("locale", sa.String(length=16), nullable=True))
    op.add_column(
        "dsar_request", sa.Column("acknowledged_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("dsar_request", "acknowledged_at")
    op.drop_column("dsar_request", "locale")
    op.drop_column("dsar_notification", "failure_reason")
    op.drop_column("dsar_notification", "failed_at")
    op.drop_column("dsar_notification", "delivered_at")
    op.drop_column("dsar_notification", "sent_at")
    op.drop_column("dsar_notification", "attempts")
    op.drop_column("dsar_notification", "state")
    op.drop_column("dsar_notification", "locale")
