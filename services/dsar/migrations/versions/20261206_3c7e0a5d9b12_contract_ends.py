"""contract ends: a tenant's data returned and destroyed in every system, with a signed certificate

Revision ID: 3c7e0a5d9b12
Revises: 3f6a2d8c1e57
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.runtime.db

revision: str = "3c7e0a5d9b12"
down_revision: str | None = "3f6a2d8c1e57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, shared.runtime.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dsar_contract_end",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("effective_at", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contract_ref", sa.String(255), nullable=True),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("requested_by_name", sa.String(255), nullable=True),
        _ts("requested_at", nullable=False),
        sa.Column("confirmed_by", sa.String(255), nullable=True),
        _ts("confirmed_at"),
        sa.Column("cancelled_by", sa.String(255), nullable=True),
        _ts("cancelled_at"),
        sa.Column("notify_enc", sa.LargeBinary(), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        _ts("started_at"),
        sa.Column("package_id", sa.Uuid(), nullable=True),
        _ts("package_built_at"),
        _ts("deletion_started_at"),
        _ts("completed_at"),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("certificate_id", sa.Uuid(), nullable=True),
        sa.Column("certificate", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        _ts("signed_at"),
        _ts("notified_at"),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_dsar_contract_end_due",
        "dsar_contract_end",
        ["effective_at"],
        postgresql_where=sa.text("state = 'confirmed'"),
    )
    op.create_table(
        "dsar_contract_end_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("contract_end_id", sa.Uuid(), nullable=False),
        sa.Column("system_key", sa.String(64), nullable=False),
        sa.Column("system_name", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        _ts("published_at", nullable=False),
        _ts("next_retry_at"),
        sa.Column("records_affected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("exemptions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("holds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("store_client", sa.String(255), nullable=True),
        sa.Column("export_enc", sa.LargeBinary(), nullable=True),
        _ts("started_at"),
        _ts("completed_at"),
        sa.Column("closed_by", sa.String(255), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_end_id", "system_key", "action", name="uq_dsar_contract_end_task"),
    )
    op.create_index(
        op.f("ix_dsar_contract_end_task_contract_end_id"), "dsar_contract_end_task", ["contract_end_id"], unique=False
    )
    op.create_index(
        "ix_dsar_contract_end_task_retry",
        "dsar_contract_end_task",
        ["next_retry_at"],
        postgresql_where=sa.text("state = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_dsar_contract_end_task_retry", table_name="dsar_contract_end_task")
    op.drop_index(op.f("ix_dsar_contract_end_task_contract_end_id"), table_name="dsar_contract_end_task")
    op.drop_table("dsar_contract_end_task")
    op.drop_index("ix_dsar_contract_end_due", table_name="dsar_contract_end")
    op.drop_table("dsar_contract_end")
