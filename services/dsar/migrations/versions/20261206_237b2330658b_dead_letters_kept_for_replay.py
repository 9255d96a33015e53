"""dead letters: the envelope, key and tenant kept for replay, and a state (open, replayed, discarded)

Revision ID: 237b2330658b
Revises: 668cd16e3ad6
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

from shared.runtime.platform_schema import forget_dead_letter_state, keep_dead_letters_for_replay

revision: str = "237b2330658b"
down_revision: str | None = "668cd16e3ad6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    keep_dead_letters_for_replay()


def downgrade() -> None:
    forget_dead_letter_state()
