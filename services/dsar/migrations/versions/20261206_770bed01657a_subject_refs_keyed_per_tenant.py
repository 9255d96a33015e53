"""subject references keyed per tenant: re-key the stored version 1 references

Every stored reference becomes ``rekey_v1(key, tenant, v1)`` for its row's tenant
(``shared.rules.subjects``), computed from the stored value alone: the identifiers are not kept.
Outbox payloads, dead letters and audit entries are not rewritten: what was published or sealed
is history. Needs DSAR_SUBJECT_HASH_KEY (``privops migrate dsar`` passes it) when rows exist.

Signed erasure certificates keep the reference they were issued with: their signature covers it; so do
the holds a task was sent with (``dsar_task.holds``), as the stores received them.

Revision ID: 770bed01657a
Revises: 5b1e7c9d2a41
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.runtime.migrations import RefColumn, migration_subject_key, one_way, rekey_subject_refs

revision: str = "770bed01657a"
down_revision: str | None = "5b1e7c9d2a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF_COLUMNS = [
    RefColumn("dsar_request", "subject_ref"),
    RefColumn("dsar_request", "subject_refs", "array"),
    RefColumn("dsar_notification", "recipient_ref"),
    RefColumn("dsar_subject_recipient", "subject_ref"),
    RefColumn("dsar_task", "subject_ref"),
    # The copy of retention's holds (retention re-keys its own rows the same way).
    RefColumn("dsar_legal_hold", "subject_ref"),
]


def upgrade() -> None:
    rekey_subject_refs(op, migration_subject_key("dsar"), REF_COLUMNS, service="dsar")


def downgrade() -> None:
    one_way("the version 1 references are not kept, and the identifiers they came from never were")
