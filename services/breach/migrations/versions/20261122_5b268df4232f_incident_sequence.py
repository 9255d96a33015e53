"""incident references: one counter per tenant and year of awareness, taken atomically

Revision ID: 5b268df4232f
Revises: 9c168079c731
Create Date: 2026-11-22 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b268df4232f"
down_revision: str | None = "9c168079c731"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_sequence",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_incident_sequence")),
    )
    # The register goes on from the highest number each tenant has given in each year.
    op.execute(
        "INSERT INTO incident_sequence (tenant_id, year, last) "
        "SELECT tenant_id, substring(reference FROM '^BR-([0-9]{4})-')::int, "
        "max(substring(reference FROM '^BR-[0-9]{4}-([0-9]+)$')::int) "
        "FROM incident WHERE reference ~ '^BR-[0-9]{4}-[0-9]+$' GROUP BY 1, 2"
    )


def downgrade() -> None:
    op.drop_table("incident_sequence")
