"""Subprocessor changes: written notice, the objection window, and when a change may take effect.

GDPR Art. 28(2) and SCC Clause 9 (Option 2) require the processor to tell each controller in
writing of an intended addition or replacement, early enough to object. The window is contractual:
15 calendar days by default (the privacy policy's promise), overridable per customer contract, and
counted in business days where the DPA says so. Every affected customer's window runs from the
moment their own notice was delivered (reference/regulations.md §D.2–D.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from shared.rules.workdays import WorkingCalendar

from .errors import (
    CustomerNotAffected,
    EffectiveDateTooEarly,
    IllegalTransition,
    InvalidChange,
    NaiveDatetime,
    ObjectionAlreadyResolved,
    ObjectionRefused,
    ObjectionWindowClosed,
)

DEFAULT_NOTICE_PERIOD_DAYS = 15


class ChangeKind(StrEnum):
    """What a change does to the subprocessor list."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    LOCATION_CHANGE = "location_change"
    PURPOSE_CHANGE = "purpose_change"


# Art. 28(2) gives a right to object to additions and replacements; a new location or purpose
# changes the processing as much, so it gets the same window. A removal is announced, not objected to.
OBJECTABLE_KINDS = frozenset(kind for kind in ChangeKind if kind is not ChangeKind.REMOVE)


class ChangeState(StrEnum):
    """Where a change stands between proposal and taking effect."""

    PROPOSED = "proposed"
    NOTICED = "noticed"
    OBJECTION_WINDOW_OPEN = "objection_window_open"
    HELD = "held"
    EFFECTIVE = "effective"
    CANCELLED = "cancelled"


class ObjectionResolution(StrEnum):
    """How an objection was settled."""

    WITHDRAWN = "withdrawn"
    CHANGE_CANCELLED = "change_cancelled"
    ALTERNATIVE_ARRANGED = "alternative_arranged"
    CONTRACT_TERMINATED = "contract_terminated"


ALLOWED_TRANSITIONS: Mapping[ChangeState, frozenset[ChangeState]] = MappingProxyType(
    {
        ChangeState.PROPOSED: frozenset({ChangeState.NOTICED, ChangeState.CANCELLED}),
        # A removal has no window: once noticed it may take effect.
        ChangeState.NOTICED: frozenset(
            {ChangeState.OBJECTION_WINDOW_OPEN, ChangeState.EFFECTIVE, ChangeState.CANCELLED}
        ),
        ChangeState.OBJECTION_WINDOW_OPEN: frozenset({ChangeState.HELD, ChangeState.EFFECTIVE, ChangeState.CANCELLED}),
        # Objections resolved while some windows are still open send the change back to waiting.
        ChangeState.HELD: frozenset({ChangeState.OBJECTION_WINDOW_OPEN, ChangeState.EFFECTIVE, ChangeState.CANCELLED}),
        ChangeState.EFFECTIVE: frozenset(),
        ChangeState.CANCELLED: frozenset(),
    }
)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be a timezone-aware datetime (UTC), got naive {value.isoformat()}")
    return value


def transition(current: ChangeState, target: ChangeState) -> ChangeState:
    """Return ``target`` if a change may move there from ``current``, else raise IllegalTransition."""
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(state.value for state in ALLOWED_TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(f"a change cannot go from {current.value} to {target.value}; allowed: {allowed}")
    return target


@dataclass(frozen=True, slots=True)
class SubprocessorChange:
    """An intended change to the subprocessor list and the customers it affects."""

    id: str
    kind: ChangeKind
    subprocessor: str
    affected_customers: frozenset[str]
    effective_at: datetime | None = None
    replaces: str | None = None
    state: ChangeState = ChangeState.PROPOSED

    def __post_init__(self) -> None:
        # Accept any iterable of customer ids but keep the value hashable and immutable.
        object.__setattr__(self, "affected_customers", frozenset(self.affected_customers))
        if not self.id.strip() or not self.subprocessor.strip():
            raise InvalidChange("a subprocessor change needs an id and the subprocessor's name")
        if self.kind is ChangeKind.REPLACE and not (self.replaces and self.replaces.strip()):
            raise InvalidChange(f"change {self.id}: a replacement must name the subprocessor it replaces")
        if self.kind is not ChangeKind.REPLACE and self.replaces is not None:
            raise InvalidChange(f"change {self.id}: only a replacement names a replaced subprocessor")
        if self.replaces is not None and self.replaces == self.subprocessor:
            raise InvalidChange(f"change {self.id}: a subprocessor cannot replace itself")
        if self.effective_at is not None:
            _aware(self.effective_at, "effective_at")

    def moved_to(self, target: ChangeState) -> SubprocessorChange:
        """This change in ``target`` state, if the move is allowed."""
        return replace(self, state=transition(self.state, target))


@dataclass(frozen=True, slots=True)
class CustomerNotice:
    """The written notice of one change to one customer, under that customer's contract."""

    change_id: str
    customer_id: str
    notice_period_days: int = DEFAULT_NOTICE_PERIOD_DAYS
    delivered_at: datetime | None = None
    # Set when the customer's DPA counts the notice period in business days.
    calendar: WorkingCalendar | None = None

    def __post_init__(self) -> None:
        if self.notice_period_days < 1:
            raise InvalidChange(
                f"notice to {self.customer_id}: the notice period must be at least 1 day, got {self.notice_period_days}"
            )
        if self.delivered_at is not None:
            _aware(self.delivered_at, "delivered_at")

    @property
    def objection_deadline(self) -> datetime | None:
        """When this customer's objection window closes (None until the notice is delivered)."""
        if self.delivered_at is None:
            return None
        return earliest_effective_date(self.delivered_at, self.notice_period_days, calendar=self.calendar)


def earliest_effective_date(
    delivered_at: datetime,
    notice_period_days: int = DEFAULT_NOTICE_PERIOD_DAYS,
    *,
    calendar: WorkingCalendar | None = None,
) -> datetime:
    """The first instant a change may take effect: delivery plus the notice period (calendar or business days)."""
    _aware(delivered_at, "delivered_at")
    if notice_period_days < 1:
        raise InvalidChange(f"the notice period must be at least 1 day, got {notice_period_days}")
    if calendar is None:
        return delivered_at + timedelta(days=notice_period_days)
    day = calendar.add_working_days(delivered_at.date(), notice_period_days)
    return datetime.combine(day, delivered_at.timetz())


def notices_by_customer(change: SubprocessorChange, notices: Iterable[CustomerNotice]) -> dict[str, CustomerNotice]:
    """Each affected customer's governing notice: the latest delivered one, else an undelivered one."""
    chosen: dict[str, CustomerNotice] = {}
    for notice in notices:
        if notice.change_id != change.id or notice.customer_id not in change.affected_customers:
            continue
        current = chosen.get(notice.customer_id)
        # A re-sent (corrected) notice restarts the window; the later delivery is the safe one.
        if current is None or (
            notice.delivered_at is not None
            and (current.delivered_at is None or notice.delivered_at > current.delivered_at)
        ):
            chosen[notice.customer_id] = notice
    return chosen


def validate_effective_date(
    change: SubprocessorChange, notices: Iterable[CustomerNotice], effective_at: datetime | None = None
) -> datetime:
    """Refuse an effective date shorter than any affected customer's notice period after delivery; return it."""
    planned = effective_at if effective_at is not None else change.effective_at
    if planned is None:
        raise InvalidChange(f"change {change.id} has no planned effective date")
    _aware(planned, "effective_at")
    governing = notices_by_customer(change, notices)
    undelivered = sorted(customer for customer in change.affected_customers if _deadline(governing, customer) is None)
    if undelivered:
        raise EffectiveDateTooEarly(
            f"change {change.id}: no delivered notice yet for {', '.join(undelivered)}; "
            "the effective date is counted from delivery"
        )
    too_early = [
        f"{customer} (notice period ends {deadline.isoformat()})"
        for customer in sorted(change.affected_customers)
        if (deadline := _deadline(governing, customer)) is not None and planned < deadline
    ]
    if too_early:
        raise EffectiveDateTooEarly(
            f"change {change.id}: effective date {planned.isoformat()} is too early for " + "; ".join(too_early)
        )
    return planned


def _deadline(governing: Mapping[str, CustomerNotice], customer: str) -> datetime | None:
    notice = governing.get(customer)
    return None if notice is None else notice.objection_deadline


@dataclass(frozen=True, slots=True)
class Objection:
    """A customer's objection to a change, and how it was settled."""

    change_id: str
    customer_id: str
    raised_at: datetime
    reason: str = ""
    resolution: ObjectionResolution | None = None
    resolved_at: datetime | None = None
    resolution_note: str = ""

    @property
    def is_resolved(self) -> bool:
        """True once the objection has been settled one way or another."""
        return self.resolution is not None


def raise_objection(
    change: SubprocessorChange,
    notices: Iterable[CustomerNotice],
    *,
    customer_id: str,
    raised_at: datetime,
    reason: str = "",
) -> Objection:
    """Record a customer's objection, refusing one from an unaffected customer or after the window closed."""
    _aware(raised_at, "raised_at")
    if change.state in (ChangeState.EFFECTIVE, ChangeState.CANCELLED):
        raise ObjectionRefused(f"change {change.id} is already {change.state.value}")
    if change.kind not in OBJECTABLE_KINDS:
        raise ObjectionRefused(f"change {change.id} removes a subprocessor; a removal cannot be objected to")
    if customer_id not in change.affected_customers:
        raise CustomerNotAffected(f"customer {customer_id} is not affected by change {change.id} and cannot object")
    deadline = _deadline(notices_by_customer(change, notices), customer_id)
    # Before delivery the window has not started yet, but an early objection is still an objection.
    if deadline is not None and raised_at >= deadline:
        raise ObjectionWindowClosed(
            f"customer {customer_id}'s objection window for change {change.id} closed at {deadline.isoformat()}; "
            f"the objection arrived at {raised_at.isoformat()}"
        )
    return Objection(change_id=change.id, customer_id=customer_id, raised_at=raised_at, reason=reason)


def resolve_objection(
    objection: Objection, resolution: ObjectionResolution, *, at: datetime, note: str = ""
) -> Objection:
    """The objection settled with ``resolution`` at ``at``; a second resolution is refused."""
    _aware(at, "at")
    if objection.resolution is not None:
        raise ObjectionAlreadyResolved(
            f"the objection of {objection.customer_id} to change {objection.change_id} was already resolved "
            f"({objection.resolution.value})"
        )
    if at < objection.raised_at:
        raise InvalidChange("an objection cannot be resolved before it was raised")
    return replace(objection, resolution=ObjectionResolution(resolution), resolved_at=at, resolution_note=note)


def blocking_reasons(
    change: SubprocessorChange,
    notices: Iterable[CustomerNotice],
    objections: Iterable[Objection],
    now: datetime,
) -> list[str]:
    """Why the change may not take effect at ``now`` (empty when it may)."""
    _aware(now, "now")
    if change.state in (ChangeState.EFFECTIVE, ChangeState.CANCELLED):
        return [f"change is already {change.state.value}"]
    reasons: list[str] = []
    mine = [objection for objection in objections if objection.change_id == change.id]
    reasons += [
        f"cancelled after the objection of {objection.customer_id}"
        for objection in mine
        if objection.resolution is ObjectionResolution.CHANGE_CANCELLED
    ]
    governing = notices_by_customer(change, notices)
    for customer in sorted(change.affected_customers):
        deadline = _deadline(governing, customer)
        if deadline is None:
            reasons.append(f"no notice delivered to {customer}")
        elif change.kind in OBJECTABLE_KINDS and now < deadline:
            reasons.append(f"objection window of {customer} open until {deadline.isoformat()}")
    reasons += [f"unresolved objection from {objection.customer_id}" for objection in mine if not objection.is_resolved]
    if change.effective_at is not None and now < change.effective_at:
        reasons.append(f"planned effective date {change.effective_at.isoformat()} not reached")
    return reasons


def can_go_effective(
    change: SubprocessorChange,
    notices: Iterable[CustomerNotice],
    objections: Iterable[Objection],
    now: datetime,
) -> bool:
    """True only when every affected customer's window has closed and no unresolved objection stands."""
    return not blocking_reasons(change, notices, objections, now)
