"""subject schedule: when the event that started the clock happened

Revision ID: 5d1e0c7b3a21
Revises: aa6c2ddfc222
Create Date: 2026-11-22 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "5d1e0c7b3a21"
down_revision: str | None = "aa6c2ddfc222"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subject_schedule", sa.Column("event_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True))
    # Schedules written before this revision: their creation time is the best evidence there is.
    op.execute("UPDATE subject_schedule SET event_at = created_at")
    op.alter_column("subject_schedule", "event_at", nullable=False)


def downgrade() -> None:
    op.drop_column("subject_schedule", "event_at")
