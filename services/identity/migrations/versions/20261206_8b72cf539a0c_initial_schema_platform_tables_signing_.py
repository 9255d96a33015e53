"""initial schema: platform tables, signing keys, clients

Revision ID: 8b72cf539a0c
Revises: 
Create Date: 2026-12-06 05:54:47.986267
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.runtime.db
from shared.runtime.platform_schema import create_current_platform_tables, drop_platform_tables
from sqlalchemy.dialects import postgresql

revision: str = '8b72cf539a0c'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_current_platform_tables()
    op.create_table('client',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scopes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('system', sa.String(length=64), nullable=True),
    sa.Column('redirect_uris', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('secret_hash', sa.String(length=255), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('secret_rotated_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_client'))
    )
    op.create_index('ix_client_tenant', 'client', ['tenant_id', 'client_id'], unique=False)
    op.create_table('signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('use', sa.String(length=16), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('x', sa.String(length=64), nullable=False),
    sa.Column('sealed_private', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )
    op.create_index('ix_signing_key_use', 'signing_key', ['use', 'tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signing_key_use', table_name='signing_key')
    op.drop_table('signing_key')
    op.drop_index('ix_client_tenant', table_name='client')
    op.drop_table('client')
    drop_platform_tables()
