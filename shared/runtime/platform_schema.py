"""The platform tables every service database holds: outbox, inbox, dead letters, audit log.

Each service's first migration calls ``create_platform_tables()``, so the platform schema is
written once, here, and versioned within every service's migration tree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.runtime.audit import APPEND_ONLY_TRIGGER_SQL
from shared.runtime.db import UTCDateTime


def create_platform_tables() -> None:
    """Create the platform tables and the audit log's append-only trigger."""
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UTCDateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoint")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("entity_type", sa.String(length=128), nullable=False),
        sa.Column("entity_id", sa.String(length=255), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_log_seq")),
    )
    op.create_index("ix_audit_log_tenant_entity", "audit_log", ["tenant_id", "entity_type", "entity_id"])
    op.create_index("ix_audit_log_unsealed", "audit_log", ["id"], postgresql_where=sa.text("seq IS NULL"))
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("consumer_group", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("event_type", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("failed_at", UTCDateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
    )
    op.create_index(op.f("ix_dead_letter_consumer_group"), "dead_letter", ["consumer_group"])
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("processed_at", UTCDateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    for statement in APPEND_ONLY_TRIGGER_SQL:
        op.execute(statement)


def drop_platform_tables() -> None:
    """Drop what ``create_platform_tables`` created."""
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS privops_audit_append_only()")
    for table in ("outbox", "inbox", "dead_letter", "audit_log", "audit_checkpoint"):
        op.drop_table(table)


def store_outbox_payloads_as_they_are() -> None:
    """Outbox payloads are stored out of line without PostgreSQL compressing them (``STORAGE EXTERNAL``).

    Packed rows arrive compressed by the service (LZ4); PostgreSQL would try its own compression
    (pglz) on every one first, at about 2.5 ms per pack of 500 events, for nothing. Single events
    are small enough to stay in line either way. No rewrite: the setting applies to rows written after it.
    """
    op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL")


def compress_outbox_payloads() -> None:
    """Undo ``store_outbox_payloads_as_they_are`` (PostgreSQL's default storage for bytea)."""
    op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTENDED")


def _dead_letter_replay_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=512), nullable=True),
        sa.Column("record_key", sa.LargeBinary(), nullable=True),
        sa.Column("last_failed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("discard_reason", sa.Text(), nullable=True),
    ]


def keep_dead_letters_for_replay() -> None:
    """Dead letters keep their envelope, key and tenant, and a state (open, replayed, discarded) for a person.

    Rows written before keep their headers: the tenant, source and subject of those whose envelope
    was read are taken from them (a tenant that is no valid tenant stays unknown: an operator's).
    """
    for column in _dead_letter_replay_columns():
        op.add_column("dead_letter", column)
    op.create_index("ix_dead_letter_tenant_state", "dead_letter", ["tenant_id", "state", "id"])
    op.execute("UPDATE dead_letter SET last_failed_at = failed_at")
    op.execute(
        "UPDATE dead_letter SET source = left(headers->>'ce_source', 255), "
        "subject = left(headers->>'ce_subject', 512), "
        "tenant_id = CASE WHEN headers->>'ce_tenantid' ~ '^[a-z0-9][a-z0-9_-]{0,62}$' "
        "THEN headers->>'ce_tenantid' END "
        "WHERE event_id IS NOT NULL"
    )


def forget_dead_letter_state() -> None:
    """Undo ``keep_dead_letters_for_replay``."""
    op.drop_index("ix_dead_letter_tenant_state", table_name="dead_letter")
    for column in reversed(_dead_letter_replay_columns()):
        op.drop_column("dead_letter", column.name)


def create_current_platform_tables() -> None:
    """A new service's first migration: ``create_platform_tables`` with every later platform step applied."""
    create_platform_tables()
    store_outbox_payloads_as_they_are()
    keep_dead_letters_for_replay()
