"""ended tenants: a customer's contract has ended, its tokens are refused (shared.runtime.tenant_ends)

Revision ID: ed9d7cf839c0
Revises: cb915b69571a
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "ed9d7cf839c0"
down_revision: str | None = "cb915b69571a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ended_tenant",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ended_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contract_end_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )


def downgrade() -> None:
    op.drop_table("ended_tenant")
