"""subject references keyed per tenant: re-key the stored version 1 references

Every stored reference becomes ``rekey_v1(key, tenant, v1)`` for its row's tenant
(``shared.rules.subjects``), computed from the stored value alone: the identifiers are not kept.
Outbox payloads, dead letters and audit entries are not rewritten: what was published or sealed
is history. Needs BREACH_SUBJECT_HASH_KEY (``privops migrate breach`` passes it) when rows exist.

Revision ID: 2bc6c93cecdb
Revises: 7c3c62000fdc
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.runtime.migrations import RefColumn, migration_subject_key, one_way, rekey_subject_refs

revision: str = "2bc6c93cecdb"
down_revision: str | None = "7c3c62000fdc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF_COLUMNS = [
    RefColumn("affected_subject", "subject_ref"),
    # Only notices to the people affected go to a subject reference; the others to an authority or a customer.
    RefColumn(
        "notice_delivery", "recipient_ref", where="t.notice_id IN (SELECT id FROM notice WHERE kind = 'individuals')"
    ),
]


def upgrade() -> None:
    rekey_subject_refs(op, migration_subject_key("breach"), REF_COLUMNS, service="breach")


def downgrade() -> None:
    one_way("the version 1 references are not kept, and the identifiers they came from never were")
