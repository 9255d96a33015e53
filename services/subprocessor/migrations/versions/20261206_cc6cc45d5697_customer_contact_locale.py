"""customer contact locale: the language a contact reads notices in

Revision ID: cc6cc45d5697
Revises: e67a56c8ae9e
Create Date: 2026-12-06 04:01:33.342348
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cc6cc45d5697"
down_revision: str | None = "e67a56c8ae9e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_contact", sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_contact", "locale")
