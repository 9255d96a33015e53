"""tasks needing attention index: the console's failed and silent tasks without reading every task

``GET /v1/tasks?attention=true`` lists a tenant's tasks whose store went silent or that failed;
the partial index holds only those rows.

Revision ID: 5c0e8a7f2d14
Revises: b7c41e0d9a25
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c0e8a7f2d14"
down_revision: str | None = "b7c41e0d9a25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_dsar_task_attention",
        "dsar_task",
        ["tenant_id"],
        postgresql_where=sa.text("escalated_at IS NOT NULL OR outcome = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_dsar_task_attention", table_name="dsar_task")
