"""subject references keyed per tenant: re-key the stored version 1 references

Every stored reference becomes ``rekey_v1(key, tenant, v1)`` for its row's tenant
(``shared.rules.subjects``), computed from the stored value alone: the identifiers are not kept.
Outbox payloads, dead letters and audit entries are not rewritten: what was published or sealed
is history. Needs CONSENT_SUBJECT_HASH_KEY (``privops migrate consent`` passes it) when rows exist.

Consent records are append-only proof: their trigger is suspended for this one rewrite of the
pseudonym, the decision, its time and its evidence are unchanged.

Revision ID: 3eadddc541b7
Revises: 5b1e0c9d2f44
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.runtime.migrations import RefColumn, migration_subject_key, one_way, rekey_subject_refs

revision: str = "3eadddc541b7"
down_revision: str | None = "5b1e0c9d2f44"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF_COLUMNS = [
    RefColumn("consent_record", "subject_ref", trigger="consent_record_append_only"),
    RefColumn("consent_state", "subject_ref"),
    RefColumn("subject_status", "subject_ref"),
    RefColumn("subject_flag_change", "subject_ref"),
]


def upgrade() -> None:
    rekey_subject_refs(op, migration_subject_key("consent"), REF_COLUMNS, service="consent")


def downgrade() -> None:
    one_way("the version 1 references are not kept, and the identifiers they came from never were")
