"""subject refs GIN index: find a subject's requests without reading every request

The intake's repetition check (``subject_refs && refs``) and the service's own DSAR answers
(``subject_refs @> [ref]``) read every request of every tenant without it: a cost per request that
grows with the table.

Revision ID: b7c41e0d9a25
Revises: 85012a4eaccf
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7c41e0d9a25"
down_revision: str | None = "85012a4eaccf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dsar_request_subject_refs", "dsar_request", ["subject_refs"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_dsar_request_subject_refs", table_name="dsar_request")
