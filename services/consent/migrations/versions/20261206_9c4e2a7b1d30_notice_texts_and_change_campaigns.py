"""notice texts kept and served; contacts; who was told of a material notice change

Revision ID: 9c4e2a7b1d30
Revises: 383b3ed6ccae
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "9c4e2a7b1d30"
down_revision: str | None = "383b3ed6ccae"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notice_version", sa.Column("title", sa.String(length=255), nullable=True))
    op.add_column("notice_version", sa.Column("text", sa.Text(), nullable=True))
    op.add_column("notice_version", sa.Column("summary", sa.Text(), nullable=True))
    op.add_column(
        "notice_version", sa.Column("requires_renewal", sa.Boolean(), server_default="false", nullable=False)
    )
    # What was published before: a material change of a later version asked every earlier grant again.
    op.execute("UPDATE notice_version SET requires_renewal = material AND version > 1")
    op.create_table(
        "subject_contact",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=False),
        sa.Column("email_enc", sa.LargeBinary(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("notices_opted_out_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "subject_ref", name=op.f("pk_subject_contact")),
    )
    op.create_table(
        "notice_campaign",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requires_renewal", sa.Boolean(), nullable=False),
        sa.Column("started_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unreachable", sa.Integer(), nullable=False),
        sa.Column("opted_out", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_campaign")),
        sa.UniqueConstraint("tenant_id", "purpose", "version", name="uq_notice_campaign_version"),
    )
    op.create_table(
        "notice_recipient",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "subject_ref", name=op.f("pk_notice_recipient")),
    )
    op.create_index(
        "ix_notice_recipient_notification",
        "notice_recipient",
        ["notification_id"],
        unique=True,
        postgresql_where=sa.text("notification_id IS NOT NULL"),
    )
    op.create_index("ix_notice_recipient_subject", "notice_recipient", ["tenant_id", "subject_ref"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notice_recipient_subject", table_name="notice_recipient")
    op.drop_index(
        "ix_notice_recipient_notification",
        table_name="notice_recipient",
        postgresql_where=sa.text("notification_id IS NOT NULL"),
    )
    op.drop_table("notice_recipient")
    op.drop_table("notice_campaign")
    op.drop_table("subject_contact")
    op.drop_column("notice_version", "requires_renewal")
    op.drop_column("notice_version", "summary")
    op.drop_column("notice_version", "text")
    op.drop_column("notice_version", "title")
