"""ended tenants: a customer's contract has ended, its tokens are refused (shared.runtime.tenant_ends)

Revision ID: 3376caaad775
Revises: 9c4e2a7b1d30
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "3376caaad775"
down_revision: str | None = "9c4e2a7b1d30"
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
