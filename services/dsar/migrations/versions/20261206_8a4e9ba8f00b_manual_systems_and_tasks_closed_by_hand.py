"""Manual systems and tasks closed by hand: who closed a task, with what evidence and reason

Revision ID: 8a4e9ba8f00b
Revises: 237b2330658b
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a4e9ba8f00b"
down_revision: str | None = "237b2330658b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dsar_data_system", sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("dsar_data_system", sa.Column("instructions", sa.Text(), nullable=True))
    op.add_column("dsar_data_system", sa.Column("contact", sa.String(length=255), nullable=True))
    op.add_column("dsar_task", sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("dsar_task", sa.Column("closed_by", sa.String(length=255), nullable=True))
    op.add_column("dsar_task", sa.Column("evidence", sa.Text(), nullable=True))
    op.add_column("dsar_task", sa.Column("close_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("dsar_task", "close_reason")
    op.drop_column("dsar_task", "evidence")
    op.drop_column("dsar_task", "closed_by")
    op.drop_column("dsar_task", "manual")
    op.drop_column("dsar_data_system", "contact")
    op.drop_column("dsar_data_system", "instructions")
    op.drop_column("dsar_data_system", "manual")
