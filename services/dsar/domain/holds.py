"""Legal holds on an erasure: which of the tenant's holds a store's task must honour.

Retention owns the holds; the DSAR service keeps a copy of them (placed, released) and sends the
ones that apply with each erase task, so a store keeps what they cover and answers exempt:
erasure does not reach data needed for legal claims, GDPR Art. 17(3)(e)
(https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class KnownHold:
    """A legal hold as the DSAR service knows it: every scope that is set must match."""

    id: str
    placed_at: datetime | None
    subject_ref: str | None = None
    category: str | None = None
    system: str | None = None
    matter: str | None = None
    reason: str | None = None
    released_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        """Placed (a release heard of before the placement is not a hold) and not released at ``now``."""
        return (
            self.placed_at is not None
            and self.placed_at <= now
            and (self.released_at is None or now < self.released_at)
        )

    def applies(self, subject_refs: Iterable[str], system: str) -> bool:
        """True when the hold is about one of these references (or about no one person) and this system (or any)."""
        about_them = self.subject_ref is None or self.subject_ref in set(subject_refs)
        return about_them and (self.system is None or self.system == system)


def holds_for_task(
    holds: Iterable[KnownHold], subject_refs: Iterable[str], system: str, now: datetime
) -> list[KnownHold]:
    """The active holds an erase task of ``system`` for a subject with ``subject_refs`` carries, oldest first."""
    refs = list(subject_refs)
    chosen = [hold for hold in holds if hold.is_active(now) and hold.applies(refs, system)]
    return sorted(chosen, key=lambda hold: (hold.placed_at, hold.id))
