"""dead letters: the envelope, key and tenant kept for replay, and a state (open, replayed, discarded)

Revision ID: 41f501ea2b39
Revises: cc6cc45d5697
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

from shared.runtime.platform_schema import forget_dead_letter_state, keep_dead_letters_for_replay

revision: str = "41f501ea2b39"
down_revision: str | None = "cc6cc45d5697"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    keep_dead_letters_for_replay()


def downgrade() -> None:
    forget_dead_letter_state()
