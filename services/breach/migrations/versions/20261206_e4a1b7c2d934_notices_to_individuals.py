"""notices to individuals: sealed contacts, bodies per language, customer approval, public communication

Revision ID: e4a1b7c2d934
Revises: 2bc6c93cecdb
Create Date: 2026-12-06 08:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "e4a1b7c2d934"
down_revision: str | None = "2bc6c93cecdb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affected_contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=False),
        sa.Column("contact_enc", sa.LargeBinary(), nullable=True),
        sa.Column("added_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purged_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_affected_contact_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affected_contact")),
        sa.UniqueConstraint("incident_id", "subject_ref", name="incident_contact"),
    )
    op.create_index("ix_affected_contact_ref", "affected_contact", ["tenant_id", "subject_ref"], unique=False)
    op.create_table(
        "notice_approval",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mail_status", sa.String(length=16), nullable=True),
        sa.Column("mail_detail", sa.Text(), nullable=True),
        sa.Column("decided_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_by_email", sa.String(length=320), nullable=True),
        sa.Column("customer_reference", sa.String(length=200), nullable=True),
        sa.Column("means", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name=op.f("fk_notice_approval_notice_id_notice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_approval")),
    )
    op.create_index("ix_notice_approval_notice", "notice_approval", ["notice_id", "requested_at"], unique=False)
    op.add_column(
        "notice",
        sa.Column(
            "bodies", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.add_column("notice", sa.Column("approval_status", sa.String(length=16), nullable=True))
    op.add_column("notice", sa.Column("public_communication", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("notice", "public_communication")
    op.drop_column("notice", "approval_status")
    op.drop_column("notice", "bodies")
    op.drop_index("ix_notice_approval_notice", table_name="notice_approval")
    op.drop_table("notice_approval")
    op.drop_index("ix_affected_contact_ref", table_name="affected_contact")
    op.drop_table("affected_contact")
