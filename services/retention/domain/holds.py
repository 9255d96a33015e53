"""Legal holds: data that must not be deleted, whatever its retention policy says.

A hold names what it covers (a subject, a category, a system, a matter, or a combination that
must all match), who placed it and why. It applies from ``placed_at`` until it is released;
a released hold is kept as evidence but no longer stops anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from .errors import HoldAlreadyReleased, InvalidHold
from .policies import DataCategory, parse_category, require_aware


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


@dataclass(frozen=True, slots=True)
class LegalHold:
    """A legal hold; every scope field that is set must match for the hold to cover an item."""

    id: str
    placed_by: str
    reason: str
    placed_at: datetime
    subject_ref: str | None = None
    category: DataCategory | None = None
    system: str | None = None
    matter: str | None = None
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None

    def __post_init__(self) -> None:
        if _blank(self.id):
            raise InvalidHold("a legal hold needs an id")
        if _blank(self.placed_by):
            raise InvalidHold(f"legal hold {self.id}: who placed the hold is required")
        if _blank(self.reason):
            raise InvalidHold(f"legal hold {self.id}: a reason is required (e.g. the litigation or request it serves)")
        require_aware(self.placed_at, "placed_at")
        if self.category is not None:
            object.__setattr__(self, "category", parse_category(self.category))
        for name in ("subject_ref", "system", "matter"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidHold(f"legal hold {self.id}: {name} must be omitted or non-blank")
        scopes = (self.subject_ref, self.system, self.matter)
        if self.category is None and all(_blank(value) for value in scopes):
            raise InvalidHold(f"legal hold {self.id}: name what it covers (subject_ref, category, system or matter)")
        if self.released_at is not None:
            require_aware(self.released_at, "released_at")
            if self.released_at < self.placed_at:
                raise InvalidHold(
                    f"legal hold {self.id}: released at {self.released_at.isoformat()}, "
                    f"before it was placed at {self.placed_at.isoformat()}"
                )
            if _blank(self.released_by):
                raise InvalidHold(f"legal hold {self.id}: who released the hold is required")

    def is_active(self, now: datetime) -> bool:
        """True from placement until release."""
        require_aware(now, "now")
        return self.placed_at <= now and (self.released_at is None or now < self.released_at)


@dataclass(frozen=True, slots=True)
class HeldItem:
    """What a sweep is about to act on: one subject's data of one category in one system."""

    category: DataCategory
    system: str
    subject_ref: str | None = None
    matters: frozenset[str] = frozenset()


def release_hold(hold: LegalHold, *, by: str, at: datetime, reason: str | None = None) -> LegalHold:
    """The hold, released by ``by`` at ``at``; a second release is refused."""
    if hold.released_at is not None:
        raise HoldAlreadyReleased(
            f"legal hold {hold.id} was already released at {hold.released_at.isoformat()} by {hold.released_by}"
        )
    return replace(hold, released_at=at, released_by=by, release_reason=reason)


def covers(hold: LegalHold, item: HeldItem) -> bool:
    """True when every scope the hold names matches the item (ignoring whether the hold is active)."""
    return (
        (hold.category is None or hold.category is item.category)
        and (hold.system is None or hold.system == item.system)
        and (hold.subject_ref is None or hold.subject_ref == item.subject_ref)
        and (hold.matter is None or hold.matter in item.matters)
    )


def holds_on(item: HeldItem, holds: Iterable[LegalHold], now: datetime) -> tuple[LegalHold, ...]:
    """The active holds that stop the item, for the sweep's evidence."""
    return tuple(hold for hold in holds if hold.is_active(now) and covers(hold, item))


def is_held(item: HeldItem, holds: Iterable[LegalHold], now: datetime) -> bool:
    """True when at least one active hold covers the item."""
    return bool(holds_on(item, holds, now))


@dataclass(frozen=True, slots=True)
class SweepExclusions:
    """What a sweep of one (system, category) must leave alone."""

    whole_sweep_held: bool
    subject_refs: frozenset[str]
    matters: frozenset[str]
    hold_ids: tuple[str, ...]

    def skips(self, subject_ref: str | None, matters: Iterable[str] = ()) -> bool:
        """True when the sweep must leave this item alone."""
        if self.whole_sweep_held:
            return True
        if subject_ref is not None and subject_ref in self.subject_refs:
            return True
        return not self.matters.isdisjoint(matters)


def sweep_exclusions(
    system: str, category: str | DataCategory, holds: Iterable[LegalHold], now: datetime
) -> SweepExclusions:
    """The subjects and matters a sweep of (system, category) must skip, or a flag that the whole sweep is held."""
    wanted = parse_category(category)
    applicable = [
        hold
        for hold in holds
        if hold.is_active(now)
        and (hold.category is None or hold.category is wanted)
        and (hold.system is None or hold.system == system)
    ]
    subjects: set[str] = set()
    matters: set[str] = set()
    whole = False
    for hold in applicable:
        if hold.subject_ref is not None:
            # A hold on one subject within one matter is widened to the whole subject: a sweep filter
            # cannot express the pair, and skipping too much is safe where deleting too much is not.
            subjects.add(hold.subject_ref)
        elif hold.matter is not None:
            matters.add(hold.matter)
        else:
            whole = True
    return SweepExclusions(
        whole_sweep_held=whole,
        subject_refs=frozenset(subjects),
        matters=frozenset(matters),
        hold_ids=tuple(sorted(hold.id for hold in applicable)),
    )
