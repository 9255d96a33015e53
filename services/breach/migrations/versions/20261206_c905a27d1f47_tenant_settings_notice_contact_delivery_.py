"""tenant settings (contact point, authorities, customers, locale), a notice's contact, delivery outcomes

Revision ID: c905a27d1f47
Revises: 5b268df4232f
Create Date: 2026-12-06 04:01:33.133259
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "c905a27d1f47"
down_revision: str | None = "5b268df4232f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("contact", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("authorities", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("customers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_locale", sa.String(length=16), nullable=True),
        sa.Column("updated_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_settings")),
    )
    op.add_column("notice", sa.Column("contact", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("notice_delivery", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("notice_delivery", sa.Column("sent_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "notice_delivery", sa.Column("delivered_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "notice_delivery", sa.Column("failed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("notice_delivery", "failed_at")
    op.drop_column("notice_delivery", "delivered_at")
    op.drop_column("notice_delivery", "sent_at")
    op.drop_column("notice_delivery", "attempts")
    op.drop_column("notice", "contact")
    op.drop_table("tenant_settings")
