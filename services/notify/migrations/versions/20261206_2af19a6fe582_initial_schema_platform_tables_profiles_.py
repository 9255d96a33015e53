"""Initial schema: platform tables, tenant profiles, template overrides, messages and their attempts

Revision ID: 2af19a6fe582
Revises: 
Create Date: 2026-12-06 04:04:21.185070
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.runtime.db
from shared.runtime.platform_schema import (
    create_platform_tables,
    drop_platform_tables,
    keep_dead_letters_for_replay,
    store_outbox_payloads_as_they_are,
)
from sqlalchemy.dialects import postgresql

revision: str = '2af19a6fe582'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables()
    store_outbox_payloads_as_they_are()
    keep_dead_letters_for_replay()
    op.create_table('message',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=128), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('recipient_ref', sa.String(length=128), nullable=False),
    sa.Column('claim_url', sa.String(length=2048), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('queued_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('tenant_id', 'dedupe_key', name=op.f('uq_message_tenant_id'))
    )
    op.create_index('ix_message_due', 'message', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state IN ('queued', 'retrying')"))
    op.create_index('ix_message_recipient', 'message', ['tenant_id', 'recipient_ref'], unique=False)
    op.create_index('ix_message_settling', 'message', ['sent_at'], unique=False, postgresql_where=sa.text("state = 'sent'"))
    op.create_index('ix_message_tenant', 'message', ['tenant_id', 'queued_at'], unique=False)
    op.create_table('template_override',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('file', sa.String(length=160), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('updated_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_override')),
    sa.UniqueConstraint('tenant_id', 'locale', 'file', name=op.f('uq_template_override_tenant_id'))
    )
    op.create_table('tenant_profile',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('sender_address', sa.String(length=320), nullable=True),
    sa.Column('sender_name', sa.String(length=255), nullable=True),
    sa.Column('reply_to', sa.String(length=320), nullable=True),
    sa.Column('brand_name', sa.String(length=255), nullable=True),
    sa.Column('brand_colour', sa.String(length=16), nullable=True),
    sa.Column('default_locale', sa.String(length=35), nullable=False),
    sa.Column('alert_emails', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('alert_webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('webhook_secrets', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_profile'))
    )
    op.create_table('delivery_attempt',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('at', shared.runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_delivery_attempt_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    op.create_index('ix_delivery_attempt_message', 'delivery_attempt', ['message_id', 'id'], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index('ix_delivery_attempt_message', table_name='delivery_attempt')
    op.drop_table('delivery_attempt')
    op.drop_table('tenant_profile')
    op.drop_table('template_override')
    op.drop_index('ix_message_tenant', table_name='message')
    op.drop_index('ix_message_settling', table_name='message', postgresql_where=sa.text("state = 'sent'"))
    op.drop_index('ix_message_recipient', table_name='message')
    op.drop_index('ix_message_due', table_name='message', postgresql_where=sa.text("state IN ('queued', 'retrying')"))
    op.drop_table('message')
    drop_platform_tables()
    # ### end Alembic commands ###
