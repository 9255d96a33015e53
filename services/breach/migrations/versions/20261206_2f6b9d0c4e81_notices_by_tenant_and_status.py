"""notices by tenant and status: the drafts waiting across the register in one read

``GET /v1/notices?status=draft`` lists every incident's drafts (the console's home page asked each
incident in turn).

Revision ID: 2f6b9d0c4e81
Revises: 9eb2db3a474e
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2f6b9d0c4e81"
down_revision: str | None = "9eb2db3a474e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notice_tenant_status", "notice", ["tenant_id", "status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notice_tenant_status", table_name="notice")
