"""subject references keyed per tenant: re-key the stored version 1 references

Every stored reference becomes ``rekey_v1(key, tenant, v1)`` for its row's tenant
(``shared.rules.subjects``), computed from the stored value alone: the identifiers are not kept.
Outbox payloads, dead letters and audit entries are not rewritten: what was published or sealed
is history. Needs RETENTION_SUBJECT_HASH_KEY (``privops migrate retention`` passes it) when rows exist.

Holds placed with a label that is not a reference (not 64 hex characters) are left as they are.

Revision ID: dab29cdf173e
Revises: 42783c54c943
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.runtime.migrations import RefColumn, migration_subject_key, one_way, rekey_subject_refs

revision: str = "dab29cdf173e"
down_revision: str | None = "42783c54c943"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REF_COLUMNS = [
    RefColumn("legal_hold", "subject_ref"),
    RefColumn("sweep_run", "held_subject_refs", "json_list"),
    RefColumn("subject_schedule", "subject_ref"),
]


def upgrade() -> None:
    rekey_subject_refs(op, migration_subject_key("retention"), REF_COLUMNS, service="retention")


def downgrade() -> None:
    one_way("the version 1 references are not kept, and the identifiers they came from never were")
