"""incident next clock: the soonest open clock on the incident, for the register's order by urgency

``GET /v1/incidents?order=clock`` ordered every incident of the tenant by a subquery over its
clocks: a dashboard's short list read the whole register (6.6 ms of PostgreSQL at 1,900 open
incidents, growing with each one). The time is now kept on the incident when its clocks change,
and the list reads the first rows of an index.

Revision ID: 5d1e7a9b3c20
Revises: 2f6b9d0c4e81
Create Date: 2026-12-06 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.runtime.db import UTCDateTime

revision: str = "5d1e7a9b3c20"
down_revision: str | None = "2f6b9d0c4e81"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incident", sa.Column("next_clock_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE incident i SET next_clock_at = ("
        "SELECT min(coalesce(d.due_at, d.target_at)) FROM deadline d WHERE d.incident_id = i.id AND d.status = 'open')"
    )
    op.create_index("ix_incident_tenant_next_clock", "incident", ["tenant_id", "next_clock_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_tenant_next_clock", table_name="incident")
    op.drop_column("incident", "next_clock_at")
