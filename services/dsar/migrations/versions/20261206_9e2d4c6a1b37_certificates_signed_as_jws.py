"""certificates of erasure signed as JWS by the identity service; the client that claimed each task

The signature becomes a compact JWS (EdDSA with the tenant's key, made by the identity service),
possibly made after the certificate (a job signs what the identity service could not sign at once),
so it is text and nullable, with the time it was signed. Existing certificates keep their
HMAC-SHA256 signature and algorithm, and still verify as before.

Revision ID: 9e2d4c6a1b37
Revises: 770bed01657a
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.runtime.db

revision: str = "9e2d4c6a1b37"
down_revision: str | None = "770bed01657a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "dsar_erasure_certificate", "signature", type_=sa.Text(), existing_type=sa.String(128), nullable=True
    )
    op.add_column("dsar_erasure_certificate", sa.Column("signed_at", shared.runtime.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE dsar_erasure_certificate SET signed_at = issued_at")
    op.create_index(
        "ix_dsar_certificate_unsigned",
        "dsar_erasure_certificate",
        ["issued_at"],
        postgresql_where=sa.text("signature IS NULL"),
    )
    op.add_column("dsar_task", sa.Column("claimed_by", sa.String(255), nullable=True))


def downgrade() -> None:
    op.drop_column("dsar_task", "claimed_by")
    op.drop_index("ix_dsar_certificate_unsigned", table_name="dsar_erasure_certificate")
    op.drop_column("dsar_erasure_certificate", "signed_at")
    op.execute("DELETE FROM dsar_erasure_certificate WHERE signature IS NULL OR length(signature) > 128")
    op.alter_column(
        "dsar_erasure_certificate", "signature", type_=sa.String(128), existing_type=sa.Text(), nullable=False
    )
