"""Legal clocks for rights requests: due dates, acknowledgements, extensions, pauses and their status.

Pure functions over aware datetimes. A request's clock is a ``Deadline`` value; every change
(extension, pause, resume) returns a new one recomputed from the clock start, so the same
inputs always give the same dates. Days are local days in the deadline's zone (UTC unless
the caller names the zone of the establishment handling the request).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, NamedTuple

from shared.rules.durations import Duration, add_duration
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar

from .errors import (
    ClockPauseNotAvailable,
    ClockStateError,
    ExtensionAlreadyUsed,
    ExtensionNotAvailable,
    ExtensionNoticeLate,
    ExtensionNoticeMissing,
    ExtensionTooLong,
    InvalidExtension,
    InvalidRegime,
    InvalidTimestamp,
)
from .jurisdictions import PauseGround, PauseMode, Period, PeriodUnit, Regime
from .requests import RequestType

DEFAULT_APPROACHING = timedelta(days=7)


class DeadlineStatus(StrEnum):
    """Where a request's clock stands at a given moment."""

    ON_TRACK = "on_track"
    APPROACHING = "approaching"
    OVERDUE = "overdue"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A request's clock: when the answer (and any acknowledgement) is due, and the rule that says so."""

    regime_id: str
    request_type: RequestType
    received_at: datetime
    clock_started_on: date  # receipt day, or the day the awaited item arrived in a regime that restarts
    due_on: date
    due_at: datetime  # the last instant of due_on in the zone, in UTC; overdue strictly after it
    initial_due_at: datetime  # the due time before any extension: extension reasons are due by then
    acknowledge_by: datetime | None
    basis: str
    zone: tzinfo = UTC
    extended_by: Period | None = None
    paused_since: datetime | None = None
    paused_for: PauseGround | None = None
    paused_days: int = 0

    @property
    def is_paused(self) -> bool:
        """True while the controller waits on the subject and the clock is stopped."""
        return self.paused_since is not None

    @property
    def acknowledge_on(self) -> date | None:
        """The local day by which receipt must be acknowledged, if the regime requires it."""
        return None if self.acknowledge_by is None else self.acknowledge_by.astimezone(self.zone).date()


def add_period(start: date, period: Period, calendar: WorkingCalendar = WEEKENDS_ONLY) -> date:
    """The last day of ``period`` counted from ``start`` (the start day not counted), before any roll-over."""
    if period.unit is PeriodUnit.MONTHS:
        return add_duration(start, Duration(months=period.amount))  # same-numbered day, clamped to month end
    if period.unit is PeriodUnit.CALENDAR_DAYS:
        return add_duration(start, Duration(days=period.amount))
    return calendar.add_working_days(start, period.amount)


def compute_deadline(
    received_at: datetime,
    regime: Regime,
    request_type: RequestType,
    calendar: WorkingCalendar = WEEKENDS_ONLY,
    *,
    zone: tzinfo = UTC,
) -> Deadline:
    """The clock of a request received at ``received_at``: due date, acknowledgement date and basis."""
    _require_aware(received_at, "received_at")
    clock = regime.clock_for(request_type)
    received_on = _local_day(received_at, zone)
    acknowledge_by = None
    if clock.acknowledge_within is not None:
        acknowledge_by = _end_of_day(add_period(received_on, clock.acknowledge_within, calendar), zone)
    schedule = _schedule(regime, RequestType(request_type), received_on, received_on, None, 0, zone, calendar)
    return Deadline(
        regime_id=regime.id,
        request_type=RequestType(request_type),
        received_at=received_at.astimezone(UTC),
        clock_started_on=received_on,
        acknowledge_by=acknowledge_by,
        zone=zone,
        **schedule._asdict(),
    )


def extend_deadline(
    deadline: Deadline,
    regime: Regime,
    *,
    reasons_sent_at: datetime | None,
    now: datetime,
    length: Period | None = None,
    calendar: WorkingCalendar = WEEKENDS_ONLY,
) -> Deadline:
    """Apply the regime's single extension, counted from the clock start; refuse a second, late or oversize one."""
    _check_regime(deadline, regime)
    _require_aware(now, "now")
    clock = regime.clock_for(deadline.request_type)
    rule = clock.extension
    if rule is None:
        raise ExtensionNotAvailable(
            f"{regime.id} allows no extension for {deadline.request_type} requests; the answer is due {deadline.due_on}"
        )
    if deadline.extended_by is not None:
        raise ExtensionAlreadyUsed(
            f"the deadline was already extended by {deadline.extended_by} to {deadline.due_on}; "
            f"{regime.id} allows one extension"
        )
    if deadline.is_paused:
        raise ClockStateError("the clock is paused; resume it before extending the deadline")
    if rule.reasons_before_first_deadline:
        _check_extension_notice(deadline, reasons_sent_at, now)
    extra = length or rule.length
    if extra is None:
        raise InvalidExtension(f"{regime.id} lets the controller state the extension period; give its length")
    if extra.unit != clock.respond_within.unit:
        raise InvalidExtension(f"the extension must be in {clock.respond_within.unit}, like the response period")
    if rule.max_total is not None and clock.respond_within.plus(extra).amount > rule.max_total.amount:
        raise ExtensionTooLong(
            f"{clock.respond_within} + {extra} exceeds the {regime.id} maximum of {rule.max_total} from the clock start"
        )
    return _reschedule(deadline, regime, calendar, extended_by=extra)


def _check_extension_notice(deadline: Deadline, reasons_sent_at: datetime | None, now: datetime) -> None:
    # The law lets the controller extend only if the subject hears why before the first deadline.
    first_due = f"{deadline.initial_due_at:%Y-%m-%d %H:%M} UTC"
    if reasons_sent_at is None:
        if now > deadline.initial_due_at:
            raise ExtensionNoticeMissing(
                f"the first deadline ({first_due}) passed without the reasons for an extension being sent; "
                "the deadline can no longer be extended"
            )
        raise ExtensionNoticeMissing(f"send the subject the reasons for the extension before {first_due} first")
    _require_aware(reasons_sent_at, "reasons_sent_at")
    if reasons_sent_at > now:
        raise InvalidTimestamp(f"reasons_sent_at {reasons_sent_at.isoformat()} is later than now")
    if reasons_sent_at > deadline.initial_due_at:
        raise ExtensionNoticeLate(
            f"the reasons were sent at {reasons_sent_at:%Y-%m-%d %H:%M} UTC, after the first deadline ({first_due}); "
            "the deadline can no longer be extended"
        )


def pause_clock(
    deadline: Deadline,
    regime: Regime,
    *,
    paused_at: datetime,
    ground: PauseGround = PauseGround.IDENTITY,
) -> Deadline:
    """Stop the clock while identity (or a fee, or clarification) is awaited, where the regime allows it."""
    _check_regime(deadline, regime)
    _require_aware(paused_at, "paused_at")
    pause = regime.clock_pause
    if pause.mode is PauseMode.NONE:
        why = pause.source or "the regime has no pause"
        raise ClockPauseNotAvailable(f"{regime.id}: the clock keeps running while {ground} is awaited ({why})")
    if ground not in pause.grounds:
        allowed = ", ".join(sorted(pause.grounds)) or "no ground"
        raise ClockPauseNotAvailable(f"{regime.id} stops the clock only while awaiting: {allowed}")
    if deadline.is_paused:
        since = f"{deadline.paused_since:%Y-%m-%d %H:%M} UTC"
        raise ClockStateError(f"the clock is already paused since {since} (awaiting {deadline.paused_for})")
    if paused_at < deadline.received_at:
        raise InvalidTimestamp("paused_at is earlier than the receipt of the request")
    if paused_at > deadline.due_at:
        raise ClockStateError(f"the deadline passed on {deadline.due_on}; asking for {ground} now does not stop it")
    return replace(deadline, paused_since=paused_at.astimezone(UTC), paused_for=PauseGround(ground))


def resume_clock(
    deadline: Deadline,
    regime: Regime,
    *,
    resumed_at: datetime,
    calendar: WorkingCalendar = WEEKENDS_ONLY,
) -> Deadline:
    """Run the clock again once the awaited item arrives: restart it, or move the due date by the days waited."""
    _check_regime(deadline, regime)
    _require_aware(resumed_at, "resumed_at")
    if deadline.paused_since is None:
        raise ClockStateError("the clock is not paused")
    if resumed_at < deadline.paused_since:
        raise InvalidTimestamp("resumed_at is earlier than the moment the clock was paused")
    resumed_on = _local_day(resumed_at, deadline.zone)
    changes: dict[str, Any] = {"paused_since": None, "paused_for": None}
    if regime.clock_pause.mode is PauseMode.RESTART:
        # The full period runs again from the day the awaited item arrived (ICO; Art. 12A UK GDPR).
        changes.update(clock_started_on=resumed_on, paused_days=0)
    elif regime.clock_pause.mode is PauseMode.SUSPEND:
        waited = (resumed_on - _local_day(deadline.paused_since, deadline.zone)).days
        changes.update(paused_days=deadline.paused_days + waited)
    else:
        raise ClockPauseNotAvailable(f"{regime.id} no longer pauses the clock; recompute the deadline from receipt")
    return _reschedule(deadline, regime, calendar, **changes)


def deadline_status(
    deadline: Deadline,
    now: datetime,
    *,
    approaching_within: timedelta = DEFAULT_APPROACHING,
) -> DeadlineStatus:
    """Paused, overdue, approaching (at most ``approaching_within`` left) or on track at ``now``."""
    _require_aware(now, "now")
    if deadline.is_paused:
        return DeadlineStatus.PAUSED
    if now > deadline.due_at:
        return DeadlineStatus.OVERDUE
    if deadline.due_at - now <= approaching_within:
        return DeadlineStatus.APPROACHING
    return DeadlineStatus.ON_TRACK


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """True when the answer is late at ``now`` (a paused clock is never overdue)."""
    return deadline_status(deadline, now) is DeadlineStatus.OVERDUE


def is_approaching(deadline: Deadline, now: datetime, *, within: timedelta = DEFAULT_APPROACHING) -> bool:
    """True when at most ``within`` is left before the answer is due and it is not yet late."""
    return deadline_status(deadline, now, approaching_within=within) is DeadlineStatus.APPROACHING


def is_acknowledgement_overdue(deadline: Deadline, now: datetime) -> bool:
    """True when the regime requires an acknowledgement and its day has passed at ``now``."""
    _require_aware(now, "now")
    return deadline.acknowledge_by is not None and now > deadline.acknowledge_by


class _Schedule(NamedTuple):
    due_on: date
    due_at: datetime
    initial_due_at: datetime
    basis: str


def _reschedule(deadline: Deadline, regime: Regime, calendar: WorkingCalendar, **changes: Any) -> Deadline:
    state = replace(deadline, **changes)
    received_on = _local_day(state.received_at, state.zone)
    schedule = _schedule(
        regime,
        state.request_type,
        received_on,
        state.clock_started_on,
        state.extended_by,
        state.paused_days,
        state.zone,
        calendar,
    )
    return replace(state, **schedule._asdict())


def _schedule(
    regime: Regime,
    request_type: RequestType,
    received_on: date,
    started_on: date,
    extended_by: Period | None,
    paused_days: int,
    zone: tzinfo,
    calendar: WorkingCalendar,
) -> _Schedule:
    clock = regime.clock_for(request_type)
    _, initial_due = _last_day(regime, started_on, clock.respond_within, paused_days, calendar)
    period = clock.respond_within if extended_by is None else clock.respond_within.plus(extended_by)
    raw, due = _last_day(regime, started_on, period, paused_days, calendar)

    start = "receipt" if started_on == received_on else "the day the awaited information arrived"
    basis = f"{regime.id}: {clock.respond_within} from {start} on {started_on}"
    basis += f" ({clock.respond_within.source or regime.source})"
    if extended_by is not None and clock.extension is not None:
        basis += f", extended by {extended_by} ({clock.extension.source or clock.extension.condition})"
    if paused_days:
        basis += f", plus {paused_days} days while the clock was paused"
    basis += f" = {raw}"
    if due != raw:
        basis += f", {_day_off(raw, calendar)}, moved to the next working day {due:%A} {due}"
    basis += f"; {regime.computation.rule}"
    acknowledge = clock.acknowledge_within
    if acknowledge is not None:
        acknowledge_on = add_period(received_on, acknowledge, calendar)
        basis += f"; receipt acknowledged within {acknowledge} ({acknowledge.source}), by {acknowledge_on}"
    if regime.counts_working_days(request_type):
        basis += f"; working days: {calendar.description}"
    return _Schedule(due, _end_of_day(due, zone), _end_of_day(initial_due, zone), basis)


def _day_off(day: date, calendar: WorkingCalendar) -> str:
    if day.weekday() in calendar.weekend:
        return f"a {day:%A}"
    name = calendar.holiday_name(day)
    return f"a public holiday ({name})" if name else "a public holiday"


def _last_day(
    regime: Regime, start: date, period: Period, paused_days: int, calendar: WorkingCalendar
) -> tuple[date, date]:
    raw = add_period(start, period, calendar) + timedelta(days=paused_days)
    return raw, calendar.next_working_day(raw) if regime.computation.rolls_to_working_day else raw


def _check_regime(deadline: Deadline, regime: Regime) -> None:
    if deadline.regime_id != regime.id:
        raise InvalidRegime(f"the deadline was computed under {deadline.regime_id}, not {regime.id}")


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _end_of_day(day: date, zone: tzinfo) -> datetime:
    # A period "ends with the expiry of the last hour" of its last day (Reg. 1182/71 Art. 3(2)).
    return datetime.combine(day, time.max, tzinfo=zone).astimezone(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidTimestamp(f"{name}: {moment.isoformat()} has no timezone; use an aware UTC datetime")
