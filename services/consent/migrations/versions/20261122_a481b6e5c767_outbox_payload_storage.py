"""outbox: payloads stored as they are (compressed by the service), not compressed again by PostgreSQL

Revision ID: a481b6e5c767
Revises: d05b347524ec
Create Date: 2026-11-22 11:20:00
"""

from collections.abc import Sequence

from shared.runtime.platform_schema import compress_outbox_payloads, store_outbox_payloads_as_they_are

revision: str = "a481b6e5c767"
down_revision: str | None = "d05b347524ec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    store_outbox_payloads_as_they_are()


def downgrade() -> None:
    compress_outbox_payloads()
