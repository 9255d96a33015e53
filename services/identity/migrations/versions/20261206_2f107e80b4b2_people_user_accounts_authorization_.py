"""people: user accounts, authorization codes, failed logins

Revision ID: 2f107e80b4b2
Revises: 8b72cf539a0c
Create Date: 2026-12-06 06:08:09.425629
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.runtime.db
from sqlalchemy.dialects import postgresql

revision: str = '2f107e80b4b2'
down_revision: str | None = '8b72cf539a0c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_failure',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('account_ref', sa.String(length=64), nullable=False),
    sa.Column('at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    op.create_index('ix_login_failure_account', 'login_failure', ['tenant_id', 'account_ref', 'at'], unique=False)
    op.create_table('user_account',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_ref', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('roles', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('invite_hash', sa.String(length=64), nullable=True),
    sa.Column('invite_expires_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('invite_hash', name=op.f('uq_user_account_invite_hash')),
    sa.UniqueConstraint('tenant_id', 'email', name=op.f('uq_user_account_tenant_id'))
    )
    op.create_index('ix_user_account_email_ref', 'user_account', ['tenant_id', 'email_ref'], unique=False)
    op.create_table('authorization_code',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=True),
    sa.Column('created_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_authorization_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_authorization_code'))
    )


def downgrade() -> None:
    op.drop_table('authorization_code')
    op.drop_index('ix_user_account_email_ref', table_name='user_account')
    op.drop_table('user_account')
    op.drop_index('ix_login_failure_account', table_name='login_failure')
    op.drop_table('login_failure')
