"""portability transfers: the package sent to the receiving controller, its attempts and the answer

A portability request may name the receiving controller's endpoint (GDPR Art. 20(2)); each package
sent there is recorded with its attempts, the receiver's acknowledgement or the failure.

Revision ID: 3f6a2d8c1e57
Revises: 41964513bc6b
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "3f6a2d8c1e57"
down_revision: str | None = "41964513bc6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dsar_portability_transfer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("controller", sa.String(255), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("content_digest", sa.String(128), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("receipt_id", sa.String(255), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("delivered_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsar_portability_transfer")),
        sa.UniqueConstraint("request_id", name=op.f("uq_dsar_portability_transfer_request_id")),
    )
    op.create_index(
        "ix_dsar_transfer_due",
        "dsar_portability_transfer",
        ["next_attempt_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_dsar_transfer_due", table_name="dsar_portability_transfer")
    op.drop_table("dsar_portability_transfer")
