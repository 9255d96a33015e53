"""consent receipts: signed once and kept, mailed to the person, readable by link

Revision ID: 383b3ed6ccae
Revises: 3eadddc541b7
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "383b3ed6ccae"
down_revision: str | None = "3eadddc541b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_receipt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("jws", sa.Text(), nullable=True),
        sa.Column("signed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("recipient_enc", sa.LargeBinary(), nullable=True),
        sa.Column("claim_expires_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=True),
        sa.Column("delivery_reason", sa.Text(), nullable=True),
        sa.Column("created_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_receipt")),
        sa.UniqueConstraint("tenant_id", "record_id", name="uq_consent_receipt_record"),
    )
    op.create_index(
        "ix_consent_receipt_notification",
        "consent_receipt",
        ["notification_id"],
        unique=True,
        postgresql_where=sa.text("notification_id IS NOT NULL"),
    )
    op.create_index(
        "ix_consent_receipt_claim_window",
        "consent_receipt",
        ["claim_expires_at"],
        unique=False,
        postgresql_where=sa.text("recipient_enc IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_consent_receipt_claim_window",
        table_name="consent_receipt",
        postgresql_where=sa.text("recipient_enc IS NOT NULL"),
    )
    op.drop_index(
        "ix_consent_receipt_notification",
        table_name="consent_receipt",
        postgresql_where=sa.text("notification_id IS NOT NULL"),
    )
    op.drop_table("consent_receipt")
