"""purpose rules and subject flags history, for checks as of a past instant

Revision ID: 5b1e0c9d2f44
Revises: 7402b4c7dbeb
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "5b1e0c9d2f44"
down_revision: str | None = "7402b4c7dbeb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purpose_rules_version",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("valid_from", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lawful_basis", sa.String(length=32), nullable=False),
        sa.Column("validity", sa.String(length=32), nullable=True),
        sa.Column("gpc_covered", sa.Boolean(), nullable=False),
        sa.Column("direct_marketing", sa.Boolean(), nullable=False),
        sa.Column("renewal_required_since", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "key", "valid_from", name=op.f("pk_purpose_rules_version")),
    )
    op.create_table(
        "subject_flag_change",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=False),
        sa.Column("at", shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("objected", sa.Boolean(), nullable=False),
        sa.Column("erased_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_flag_change")),
    )
    op.create_index(
        "ix_subject_flag_change_subject", "subject_flag_change", ["tenant_id", "subject_ref", "at"], unique=False
    )
    # What is known so far: each purpose's current rules since it was created, each subject's flags since
    # they last changed (the history before this migration was not kept).
    op.execute(
        "INSERT INTO purpose_rules_version (tenant_id, key, valid_from, lawful_basis, validity, gpc_covered, "
        "direct_marketing, renewal_required_since) SELECT tenant_id, key, created_at, lawful_basis, validity, "
        "gpc_covered, direct_marketing, renewal_required_since FROM purpose"
    )
    op.execute(
        "INSERT INTO subject_flag_change (tenant_id, subject_ref, at, restricted, objected, erased_at) "
        "SELECT tenant_id, subject_ref, updated_at, restricted, objected, erased_at FROM subject_status"
    )


def downgrade() -> None:
    op.drop_index("ix_subject_flag_change_subject", table_name="subject_flag_change")
    op.drop_table("subject_flag_change")
    op.drop_table("purpose_rules_version")
