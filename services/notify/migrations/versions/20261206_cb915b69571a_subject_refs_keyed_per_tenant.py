"""subject references keyed per tenant: re-key the stored version 1 references

Every stored reference becomes ``rekey_v1(key, tenant, v1)`` for its row's tenant
(``shared.rules.subjects``), computed from the stored value alone: the identifiers are not kept.
Outbox payloads, dead letters and audit entries are not rewritten: what was published or sealed
is history. Needs NOTIFY_SUBJECT_HASH_KEY (``privops migrate notify`` passes it) when rows exist.

Webhook targets, authorities and customer ids are not references (not 64 hex characters) and stay.

Revision ID: cb915b69571a
Revises: 2af19a6fe582
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.runtime.migrations import RefColumn, migration_subject_key, one_way, rekey_subject_refs

revision: str = "cb915b69571a"
down_revision: str | None = "2af19a6fe582"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF_COLUMNS = [
    RefColumn("message", "recipient_ref"),
]


def upgrade() -> None:
    rekey_subject_refs(op, migration_subject_key("notify"), REF_COLUMNS, service="notify")


def downgrade() -> None:
    one_way("the version 1 references are not kept, and the identifiers they came from never were")
