"""The legal clock of a request as columns: read it into the domain's ``Deadline`` and write it back."""

from __future__ import annotations

from datetime import UTC

from services.dsar.domain import Deadline, Period, PeriodUnit, RequestType, working_calendar
from services.dsar.domain.jurisdictions import PauseGround
from services.dsar.models import DsarRequest
from shared.rules.workdays import WorkingCalendar


def deadline_of(request: DsarRequest) -> Deadline:
    """The domain clock of a stored request (days are counted in UTC)."""
    extended = None
    if request.extended_by_amount is not None and request.extended_by_unit is not None:
        extended = Period(request.extended_by_amount, PeriodUnit(request.extended_by_unit))
    return Deadline(
        regime_id=request.regime_id,
        request_type=RequestType(request.request_type),
        received_at=request.received_at,
        clock_started_on=request.clock_started_on,
        due_on=request.due_at.astimezone(UTC).date(),
        due_at=request.due_at,
        initial_due_at=request.initial_due_at,
        acknowledge_by=request.acknowledge_by,
        basis=request.deadline_basis,
        extended_by=extended,
        paused_since=request.paused_since,
        paused_for=PauseGround(request.paused_for) if request.paused_for else None,
        paused_days=request.paused_days,
    )


def calendar_of(request: DsarRequest) -> WorkingCalendar:
    """The public holidays the request's dates leave out: those it was opened with (older requests: weekends only)."""
    return working_calendar(request.calendar)


def store_deadline(request: DsarRequest, deadline: Deadline) -> None:
    """Write a recomputed clock into the request's columns."""
    if request.due_at is not None and deadline.due_at != request.due_at:
        # A new due date deserves its own warnings.
        request.approaching_notified_at = None
        request.overdue_notified_at = None
    request.clock_started_on = deadline.clock_started_on
    request.due_at = deadline.due_at
    request.initial_due_at = deadline.initial_due_at
    request.acknowledge_by = deadline.acknowledge_by
    request.deadline_basis = deadline.basis
    request.extended_by_amount = deadline.extended_by.amount if deadline.extended_by else None
    request.extended_by_unit = deadline.extended_by.unit.value if deadline.extended_by else None
    request.paused_since = deadline.paused_since
    request.paused_for = deadline.paused_for.value if deadline.paused_for else None
    request.paused_days = deadline.paused_days
