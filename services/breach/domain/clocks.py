"""Legal clocks of a personal-data breach: every deadline computed from one awareness time.

Conventions (regulations.md Part B; jurisdictions.json):

* Hour clocks are elapsed time; weekends and holidays never extend them. GDPR lets the hour of
  awareness go uncounted (Reg. 1182/71 Art. 3(1)) but we use ``aware_at + 72h``, the
  conservative reading the reference recommends.
* Day, month and business-day clocks keep the time of day of their start, which is never later
  than the "end of the last day" reading. Business days come from the jurisdiction's
  ``WorkingCalendar`` (weekends only unless the tenant supplies public holidays).
* A rule with no hard limit ("without undue delay", "as soon as feasible") has ``due_at=None``
  and a ``target_at`` the privacy team works to (configurable, 24 hours by default).
* A clock that counts from a later step (NIS2 final report after the incident notification, the
  California AG copy after the individuals' notice) counts from the step's actual time once it
  is known, and until then from that step's deadline; such deadlines are ``provisional``.
* Clocks that start at "determination" (or DORA's "classification") use that time when given;
  until then they start at awareness — earlier, hence safe — and are ``provisional``.

Values the reference marks unconfirmed carry ``verify=True``: a lawyer signs them off first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from services.breach.domain.clock_rules import (
    RULES,
    SECTOR_REGIMES,
    Audience,
    BusinessDays,
    ClockRule,
    Jurisdiction,
    Period,
    Role,
    Start,
    Trigger,
)
from services.breach.domain.errors import (
    InvalidClockInput,
    InvalidEscalationOffset,
    MissingDelayReasons,
    NaiveDatetime,
    enum_member,
)
from services.breach.domain.severity import RiskLevel
from shared.rules.durations import Duration, add_duration
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar

__all__ = [
    "DEFAULT_ESCALATION_OFFSETS",
    "RULES",
    "SECTOR_FLAGS",
    "Audience",
    "BreachScope",
    "BusinessDays",
    "ClockRule",
    "ClockSettings",
    "Deadline",
    "Escalation",
    "Jurisdiction",
    "Role",
    "compute_deadlines",
    "escalation_points",
    "is_late",
    "is_overdue",
    "is_past_target",
    "require_delay_reasons",
    "status_at",
]


@dataclass(frozen=True)
class Deadline:
    """A computed legal clock for one notice."""

    jurisdiction: Jurisdiction
    audience: Audience
    recipient: str
    starts_at: datetime
    due_at: datetime | None
    target_at: datetime
    rule: str
    citation: str
    verify: bool = False
    provisional: bool = False
    condition: str | None = None

    @property
    def is_hard(self) -> bool:
        """True when the law (or contract) fixes a latest time."""
        return self.due_at is not None


@dataclass(frozen=True)
class BreachScope:
    """What the clocks depend on besides the awareness time."""

    jurisdictions: frozenset[Jurisdiction]
    role: Role = Role.CONTROLLER
    nis2_entity: bool = False
    dora_entity: bool = False
    hipaa_in_scope: bool = False
    risk: RiskLevel | None = None  # None until assessed: every risk-triggered clock runs
    malicious: bool = False
    small_processing_agent: bool = False
    affected: Mapping[Jurisdiction, int] = field(default_factory=dict)
    determined_at: datetime | None = None
    classified_at: datetime | None = None
    sent: Mapping[tuple[Jurisdiction, Audience], datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Coerce plain strings from the web layer so that rule matching compares enum members.
        jurisdictions = frozenset(
            enum_member(Jurisdiction, j, "jurisdiction", InvalidClockInput) for j in self.jurisdictions
        )
        object.__setattr__(self, "jurisdictions", jurisdictions)
        object.__setattr__(self, "role", enum_member(Role, self.role, "role", InvalidClockInput))
        if self.risk is not None:
            object.__setattr__(self, "risk", enum_member(RiskLevel, self.risk, "risk level", InvalidClockInput))


@dataclass(frozen=True)
class ClockSettings:
    """Tenant-configurable parts of the clocks."""

    # Processor → controller: GDPR says only "without undue delay"; a customer contract may fix hours.
    contract_notice_hours: int | None = None
    # Working target for every soft rule; contracts commonly use 24–48 h (regulations.md §B.1).
    undue_delay_target_hours: int = 24
    calendars: Mapping[Jurisdiction, WorkingCalendar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("contract_notice_hours", "undue_delay_target_hours"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidClockInput(f"{name} must be a positive number of hours, not {value}")


@dataclass(frozen=True)
class Escalation:
    """An instant at which a deadline is escalated (e.g. 24 h and 4 h before it)."""

    deadline: Deadline
    offset: timedelta
    at: datetime


DEFAULT_ESCALATION_OFFSETS: Final = (timedelta(hours=24), timedelta(hours=4))

OPEN, OVERDUE = "open", "overdue"

# The scope flag that brings in each sector regime, and when it is true (what the regime's rules read).
SECTOR_FLAGS: Final[Mapping[Jurisdiction, tuple[str, str]]] = {
    Jurisdiction.EU_NIS2: (
        "nis2_entity",
        "the organisation is an essential or important entity (Directive (EU) 2022/2555, Art. 3 and 23)",
    ),
    Jurisdiction.EU_DORA: ("dora_entity", "the organisation is a financial entity under DORA (Reg. (EU) 2022/2554)"),
    Jurisdiction.US_HIPAA: (
        "hipaa_in_scope",
        "the data is PHI held as a HIPAA covered entity or business associate (45 CFR 164.404-410)",
    ),
}


def compute_deadlines(
    aware_at: datetime, scope: BreachScope, settings: ClockSettings | None = None
) -> tuple[Deadline, ...]:
    """Every deadline that runs for this breach, earliest target first."""
    settings = settings or ClockSettings()
    aware_at = _utc(aware_at, "aware_at")
    _check_scope(aware_at, scope)
    regimes = set(scope.jurisdictions) | {regime for regime, applies in _sector_flags(scope).items() if applies}
    computed: dict[tuple[Jurisdiction, Audience], Deadline] = {}
    for rule in RULES:
        if rule.jurisdiction in regimes and _applies(rule, scope):
            computed[(rule.jurisdiction, rule.audience)] = _deadline(rule, aware_at, scope, settings, computed)
    if scope.role is Role.PROCESSOR and not any(a is Audience.CONTROLLER for _, a in computed):
        computed[(Jurisdiction.CONTRACT, Audience.CONTROLLER)] = _contract_deadline(aware_at, settings)
    return tuple(sorted(computed.values(), key=lambda d: (d.target_at, d.jurisdiction.value, d.audience.value)))


def escalation_points(
    deadlines: Iterable[Deadline], offsets: Sequence[timedelta] = DEFAULT_ESCALATION_OFFSETS
) -> tuple[Escalation, ...]:
    """The instants to escalate each deadline (target minus each offset), skipping any before its clock started."""
    for offset in offsets:
        if offset <= timedelta(0):
            raise InvalidEscalationOffset(f"escalation offsets must be positive (before the deadline), not {offset}")
    points = [
        Escalation(deadline, offset, deadline.target_at - offset)
        for deadline in deadlines
        for offset in sorted(set(offsets), reverse=True)  # "1 day" and "24 hours" escalate once
        if deadline.target_at - offset >= deadline.starts_at
    ]
    return tuple(sorted(points, key=lambda point: (point.at, point.deadline.jurisdiction.value)))


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """True once ``now`` is past the hard limit; a rule without one is never overdue."""
    now = _utc(now, "now")
    return deadline.due_at is not None and now > deadline.due_at


def is_past_target(deadline: Deadline, now: datetime) -> bool:
    """True once ``now`` is past the working target (the hard limit when there is one)."""
    return _utc(now, "now") > deadline.target_at


def is_late(deadline: Deadline, sent_at: datetime) -> bool:
    """True when a notice was sent after the deadline's hard limit."""
    sent_at = _utc(sent_at, "sent_at")
    return deadline.due_at is not None and sent_at > deadline.due_at


def require_delay_reasons(deadline: Deadline, sent_at: datetime, reasons: str | None) -> None:
    """Refuse a late notice that gives no reasons for the delay (GDPR Art. 33(1), second sentence)."""
    if is_late(deadline, sent_at) and not (reasons and reasons.strip()):
        assert deadline.due_at is not None  # is_late implies a hard limit
        late_by = _utc(sent_at, "sent_at") - deadline.due_at
        raise MissingDelayReasons(
            f"the {deadline.audience.value} notice for {deadline.jurisdiction.value} is sent {late_by} after its "
            f"deadline of {deadline.due_at.isoformat()} ({deadline.citation}); it must give the reasons for the delay"
        )


def status_at(status: str, due_at: datetime | None, now: datetime) -> str:
    """What a stored clock reads at ``now``: an open clock past its hard limit is ``overdue``."""
    if status == OPEN and due_at is not None and _utc(now, "now") > due_at:
        return OVERDUE
    return status


def _sector_flags(scope: BreachScope) -> dict[Jurisdiction, bool]:
    return {
        Jurisdiction.EU_NIS2: scope.nis2_entity,
        Jurisdiction.EU_DORA: scope.dora_entity,
        Jurisdiction.US_HIPAA: scope.hipaa_in_scope,
    }


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _check_scope(aware_at: datetime, scope: BreachScope) -> None:
    flags = _sector_flags(scope)
    for regime in sorted(SECTOR_REGIMES & scope.jurisdictions):
        if not flags[regime]:
            flag, what = SECTOR_FLAGS[regime]
            raise InvalidClockInput(
                f"{regime.value} applies because of what the organisation is, not where people live: "
                f"set {flag}: true when {what}, or leave {regime.value} out"
            )
    if not scope.jurisdictions and not any(flags.values()):
        raise InvalidClockInput("at least one jurisdiction is needed to compute breach deadlines")
    for name, value in (("determined_at", scope.determined_at), ("classified_at", scope.classified_at)):
        if value is not None and _utc(value, name) < aware_at:
            raise InvalidClockInput(f"{name} ({value.isoformat()}) is before awareness ({aware_at.isoformat()})")
    for count in scope.affected.values():
        if count < 0:
            raise InvalidClockInput(f"an affected count cannot be negative ({count})")


def _applies(rule: ClockRule, scope: BreachScope) -> bool:
    if rule.role is not None and rule.role is not scope.role:
        return False
    if rule.malicious is not None and rule.malicious is not scope.malicious:
        return False
    count = scope.affected.get(rule.jurisdiction)
    # An unknown count keeps a threshold clock running: the earlier obligation is the safe one.
    if rule.min_affected is not None and count is not None and count < rule.min_affected:
        return False
    if rule.below_affected is not None and (count is None or count >= rule.below_affected):
        return False
    if scope.risk is None or rule.trigger is Trigger.ALWAYS:
        return True
    if rule.trigger is Trigger.RISK:
        return scope.risk is not RiskLevel.UNLIKELY
    return scope.risk is RiskLevel.HIGH


def _deadline(
    rule: ClockRule,
    aware_at: datetime,
    scope: BreachScope,
    settings: ClockSettings,
    computed: Mapping[tuple[Jurisdiction, Audience], Deadline],
) -> Deadline:
    start, start_is_hard, provisional = _start(rule, aware_at, scope, computed)
    calendar = settings.calendars.get(rule.jurisdiction, WEEKENDS_ONLY)
    period = rule.period
    if isinstance(period, BusinessDays) and rule.doubles_for_small_agents and scope.small_processing_agent:
        period = BusinessDays(period.days * 2)
    due_at = _add(start, period, calendar) if period is not None and start_is_hard else None
    if rule.longstop is not None:
        longstop = add_duration(aware_at, rule.longstop)
        due_at = longstop if due_at is None else min(due_at, longstop)
    citation = rule.citation
    # The customer contract turns "without undue delay" into hours; a statutory limit (Florida's 10 days) stands.
    if rule.audience is Audience.CONTROLLER and due_at is None and settings.contract_notice_hours:
        due_at = aware_at + timedelta(hours=settings.contract_notice_hours)
        citation += f"; customer contract ({settings.contract_notice_hours} h)"
    if due_at is not None:
        target_at = due_at
    elif period is not None:
        target_at = _add(start, period, calendar)  # a soft step plus a period: no hard limit, same arithmetic
    else:
        target_at = add_duration(start, rule.target or Duration(hours=settings.undue_delay_target_hours))
    return Deadline(
        jurisdiction=rule.jurisdiction,
        audience=rule.audience,
        recipient=rule.recipient,
        starts_at=start,
        due_at=due_at,
        target_at=target_at,
        rule=rule.rule,
        citation=citation,
        verify=rule.verify,
        provisional=provisional,
        condition=rule.condition,
    )


def _start(
    rule: ClockRule,
    aware_at: datetime,
    scope: BreachScope,
    computed: Mapping[tuple[Jurisdiction, Audience], Deadline],
) -> tuple[datetime, bool, bool]:
    """Where the clock starts, whether that start is a hard instant, and whether it will move."""
    if rule.after is not None:
        sent = scope.sent.get((rule.jurisdiction, rule.after))
        if sent is not None:
            return _utc(sent, "sent"), True, False
        previous = computed.get((rule.jurisdiction, rule.after))
        if previous is None:  # the step it follows does not run here: count from awareness, the safe side
            return aware_at, True, True
        if previous.due_at is not None:
            return previous.due_at, True, True
        return previous.target_at, False, True
    if rule.start is Start.YEAR_END:
        return datetime(aware_at.year + 1, 1, 1, tzinfo=UTC), True, False
    if rule.start is Start.DETERMINATION:
        if scope.determined_at is not None:
            return _utc(scope.determined_at, "determined_at"), True, False
        return aware_at, True, True
    if rule.start is Start.CLASSIFICATION:
        if scope.classified_at is not None:
            return _utc(scope.classified_at, "classified_at"), True, False
        return aware_at, False, True  # only the longstop binds until the incident is classified
    return aware_at, True, False


def _add(start: datetime, period: Period, calendar: WorkingCalendar) -> datetime:
    if isinstance(period, BusinessDays):
        day = calendar.add_working_days(start.date(), period.days)
        return datetime.combine(day, start.timetz())
    return add_duration(start, period)


def _contract_deadline(aware_at: datetime, settings: ClockSettings) -> Deadline:
    hours = settings.contract_notice_hours
    due_at = aware_at + timedelta(hours=hours) if hours else None
    return Deadline(
        jurisdiction=Jurisdiction.CONTRACT,
        audience=Audience.CONTROLLER,
        recipient="controller (customer)",
        starts_at=aware_at,
        due_at=due_at,
        target_at=due_at or aware_at + timedelta(hours=settings.undue_delay_target_hours),
        rule=f"within {hours} hours per the customer contract" if hours else "without undue delay",
        citation="customer contract (data processing agreement)",
    )
