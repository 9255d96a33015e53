"""outbox: payloads stored as they are (compressed by the service), not compressed again by PostgreSQL

Revision ID: e67a56c8ae9e
Revises: 2ae34c95556e
Create Date: 2026-11-22 11:20:00
"""

from collections.abc import Sequence

from shared.runtime.platform_schema import compress_outbox_payloads, store_outbox_payloads_as_they_are

revision: str = "e67a56c8ae9e"
down_revision: str | None = "2ae34c95556e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    store_outbox_payloads_as_they_are()


def downgrade() -> None:
    compress_outbox_payloads()
