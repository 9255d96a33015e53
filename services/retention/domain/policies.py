"""Retention policies: how long each category of data is kept, from which event, and what happens then.

Pure rules, no I/O. Periods are ISO 8601 durations in calendar units (``shared.rules.durations``), so
"3 years" from 29 February ends on 28 February, never on 1 March.

Two views of the same rule:

* a sweep asks for a **cut-off**: every record whose clock started at or before the cut-off is due;
* a subject-level schedule asks for a **due date**: the instant one record's clock runs out.

Calendar arithmetic clamps month ends (31 Jan + 1 month = 28 Feb), so the two are not exact
inverses. The cut-off is the safe side: a sweep never acts on a record before its due date, and
around a month end it may act up to three days after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from shared.rules.durations import Duration, InvalidDuration, add_duration, parse_duration, subtract_duration

from .errors import (
    AmbiguousPolicy,
    InvalidPeriod,
    InvalidPolicy,
    NaiveDatetime,
    NoApplicablePolicy,
    UnknownAction,
    UnknownCategory,
    UnknownClockStart,
)


class DataCategory(StrEnum):
    """A category of personal data that carries its own retention rule."""

    PROSPECT = "prospect"
    CUSTOMER = "customer"
    CONSENT_BASED = "consent_based"
    COOKIE = "cookie"
    CONNECTION_LOG = "connection_log"
    INVOICE = "invoice"
    ACCOUNT = "account"


class ClockStart(StrEnum):
    """The event from which a retention period is counted."""

    COLLECTION = "collection"
    LAST_CONTACT = "last_contact"
    LAST_ORDER = "last_order"
    CONTRACT_END = "contract_end"
    CONSENT_GIVEN = "consent_given"
    ACCOUNT_CLOSED = "account_closed"
    TRACKER_SET = "tracker_set"
    FINANCIAL_YEAR_END = "financial_year_end"


class RetentionAction(StrEnum):
    """What happens to the data when its period runs out."""

    DELETE = "delete"
    ANONYMISE = "anonymise"
    ARCHIVE_THEN_DELETE = "archive_then_delete"


# A new occurrence of these events restarts the clock (a fresh contact, order or positive consent
# answer); the others happen once per record, so a repeat never extends retention.
RESTARTING_CLOCKS = frozenset({ClockStart.LAST_CONTACT, ClockStart.LAST_ORDER, ClockStart.CONSENT_GIVEN})

_E = TypeVar("_E", bound=StrEnum)


def _parse_enum(enum: type[_E], value: str | _E, error: type[Exception], what: str) -> _E:
    """Turn a text into a member of ``enum`` or raise ``error`` listing the accepted values."""
    try:
        return enum(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        accepted = ", ".join(member.value for member in enum)
        raise error(f"unknown {what} {value!r}; expected one of: {accepted}") from None


def parse_category(value: str | DataCategory) -> DataCategory:
    """A data category from its text, or UnknownCategory."""
    return _parse_enum(DataCategory, value, UnknownCategory, "data category")


def parse_clock_start(value: str | ClockStart) -> ClockStart:
    """A clock-start event from its text, or UnknownClockStart."""
    return _parse_enum(ClockStart, value, UnknownClockStart, "clock-start event")


def parse_action(value: str | RetentionAction) -> RetentionAction:
    """A retention action from its text, or UnknownAction."""
    return _parse_enum(RetentionAction, value, UnknownAction, "retention action")


def parse_period(text: str, what: str = "retention period") -> Duration:
    """A positive ISO 8601 duration, or InvalidPeriod naming the field."""
    try:
        return parse_duration(text)
    except InvalidDuration as exc:
        raise InvalidPeriod(f"{what}: {exc}") from None


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged if it carries a timezone, else raise NaiveDatetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be a timezone-aware datetime (UTC), got naive {value.isoformat()}")
    return value


def _check_period(period: Duration, what: str) -> None:
    if not isinstance(period, Duration):
        raise InvalidPeriod(f"{what} must be a Duration, got {type(period).__name__}")
    # Duration can be built directly with negative fields; parse_duration never yields them.
    fields = (period.years, period.months, period.days, period.hours, period.minutes, period.seconds)
    if any(value < 0 for value in fields):
        raise InvalidPeriod(f"{what} {period.isoformat()} is negative; a period must be longer than zero")
    if period.is_zero():
        raise InvalidPeriod(f"{what} is zero; a period must be longer than zero")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long one category of data is kept (optionally in one system, for one purpose), and what then."""

    category: DataCategory
    period: Duration
    clock_start: ClockStart
    action: RetentionAction
    legal_reference: str
    system: str | None = None
    purpose: str | None = None
    archive_period: Duration | None = None
    # The clock never starts before this event too has happened: customer data is kept for the
    # whole contract, however old the last order is.
    clock_not_before: ClockStart | None = None
    version: int = 1

    def __post_init__(self) -> None:
        # Coerce texts given directly to the constructor, so identity comparisons on members hold.
        object.__setattr__(self, "category", parse_category(self.category))
        object.__setattr__(self, "clock_start", parse_clock_start(self.clock_start))
        object.__setattr__(self, "action", parse_action(self.action))
        if self.clock_not_before is not None:
            object.__setattr__(self, "clock_not_before", parse_clock_start(self.clock_not_before))
        _check_period(self.period, "retention period")
        if self.action is RetentionAction.ARCHIVE_THEN_DELETE:
            if self.archive_period is None:
                raise InvalidPolicy(
                    f"policy for {self.category.value!r}: action archive_then_delete needs an archive period (e.g. P5Y)"
                )
            _check_period(self.archive_period, "archive period")
        elif self.archive_period is not None:
            raise InvalidPolicy(
                f"policy for {self.category.value!r}: an archive period only applies to archive_then_delete, "
                f"not to {self.action.value}"
            )
        if not self.legal_reference or not self.legal_reference.strip():
            raise InvalidPolicy(
                f"policy for {self.category.value!r}: a legal reference is required (Art. 30(1)(f) GDPR)"
            )
        for name in ("system", "purpose"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidPolicy(f"policy for {self.category.value!r}: {name} must be omitted or non-blank")
        if self.version < 1:
            raise InvalidPolicy(f"policy for {self.category.value!r}: version must be 1 or more, got {self.version}")

    @property
    def key(self) -> tuple[DataCategory, str | None, str | None]:
        """What the policy covers: category, system, purpose."""
        return (self.category, self.system, self.purpose)

    @property
    def specificity(self) -> int:
        """How narrowly the policy is scoped: 0 (whole category) to 2 (one system and one purpose)."""
        return (self.system is not None) + (self.purpose is not None)


def build_policy(
    category: str,
    period: str,
    clock_start: str,
    action: str,
    legal_reference: str,
    *,
    system: str | None = None,
    purpose: str | None = None,
    archive_period: str | None = None,
    clock_not_before: str | None = None,
    version: int = 1,
) -> RetentionPolicy:
    """Build a policy from its text form (as an API or a config file gives it), validating every field."""
    return RetentionPolicy(
        category=parse_category(category),
        period=parse_period(period),
        clock_start=parse_clock_start(clock_start),
        action=parse_action(action),
        legal_reference=legal_reference,
        system=system,
        purpose=purpose,
        archive_period=None if archive_period is None else parse_period(archive_period, "archive period"),
        clock_not_before=None if clock_not_before is None else parse_clock_start(clock_not_before),
        version=version,
    )


# The periods the privacy policy promises (DESIGN.md), with the French basis from
# reference/regulations.md Part E. Defaults only: a tenant overrides them with its own policies.
DEFAULT_POLICY_PACK: tuple[RetentionPolicy, ...] = (
    build_policy(
        "prospect",
        "P3Y",
        "last_contact",
        "delete",
        "CNIL référentiel « gestion des activités commerciales »: 3 years from collection or the last contact "
        "emanating from the prospect",
    ),
    build_policy(
        "customer",
        "P1Y",
        "last_order",
        "archive_then_delete",
        "Contract duration + 1 year after the last order (privacy policy); then 5 years of intermediate archive: "
        "Code civil art. 2224, Code de commerce art. L110-4 (5-year limitation)",
        archive_period="P5Y",
        clock_not_before="contract_end",
    ),
    build_policy(
        "consent_based",
        "P3Y",
        "consent_given",
        "delete",
        "GDPR Art. 5(1)(e) and Art. 7; 3 years from consent, renewed on each positive answer (privacy policy; "
        "CNIL référentiel « gestion des activités commerciales »)",
    ),
    build_policy(
        "cookie",
        "P13M",
        "tracker_set",
        "delete",
        "Directive 2002/58/EC Art. 5(3); loi Informatique et Libertés art. 82; CNIL délibérations n° 2013-378 and "
        "n° 2020-092: 13 months maximum",
    ),
    build_policy(
        "connection_log",
        "P1Y",
        "collection",
        "delete",
        "Décret n° 2011-219 du 25 février 2011 (LCEN art. 6-II): 1 year [VERIFY scope after Décret n° 2021-1362]",
    ),
    build_policy(
        "invoice",
        "P10Y",
        "financial_year_end",
        "delete",
        "Code de commerce art. L123-22: accounting and invoicing documents 10 years from the close of the "
        "financial year",
    ),
    build_policy(
        "account",
        "P90D",
        "account_closed",
        "delete",
        "GDPR Art. 5(1)(e) (storage limitation): 90 days after account closure (privacy policy)",
    ),
)


def select_policy(
    policies: Iterable[RetentionPolicy],
    category: str | DataCategory,
    system: str | None = None,
    purpose: str | None = None,
) -> RetentionPolicy:
    """The most specific policy covering (category, system, purpose); the latest version wins a tie."""
    wanted = parse_category(category)
    candidates = [
        policy
        for policy in policies
        if policy.category is wanted and policy.system in (None, system) and policy.purpose in (None, purpose)
    ]
    if not candidates:
        raise NoApplicablePolicy(
            f"no retention policy covers category {wanted.value!r} (system={system!r}, purpose={purpose!r})"
        )
    best = max(policy.specificity for policy in candidates)
    top = [policy for policy in candidates if policy.specificity == best]
    keys = {policy.key for policy in top}
    if len(keys) > 1:
        # A system-only and a purpose-only rule both match: picking one silently could delete
        # data another rule must keep, so the configuration has to say which wins.
        scopes = "; ".join(f"system={key[1]!r} purpose={key[2]!r}" for key in sorted(keys, key=str))
        raise AmbiguousPolicy(
            f"category {wanted.value!r}: equally specific policies match ({scopes}); "
            "add a policy for this exact system and purpose"
        )
    return max(top, key=lambda policy: policy.version)


def clock_started_at(policy: RetentionPolicy, events: Mapping[ClockStart, datetime]) -> datetime | None:
    """When the policy's clock started for one subject, given when each event last happened; None if not yet."""
    started = events.get(policy.clock_start)
    if started is None:
        return None
    require_aware(started, f"event {policy.clock_start.value}")
    if policy.clock_not_before is None:
        return started
    gate = events.get(policy.clock_not_before)
    if gate is None:
        return None
    return max(started, require_aware(gate, f"event {policy.clock_not_before.value}"))


def restart_clock(
    policy: RetentionPolicy, recorded_at: datetime | None, event: ClockStart, event_at: datetime
) -> datetime | None:
    """The time to record for the policy's clock-start event once ``event`` happened at ``event_at``."""
    require_aware(event_at, "event_at")
    if event is not policy.clock_start:
        return recorded_at
    if recorded_at is None:
        return event_at
    # A positive consent answer, a new contact or a new order renews the period; a second
    # "collection" of the same record does not.
    if event in RESTARTING_CLOCKS:
        return max(recorded_at, event_at)
    return recorded_at


def due_at(policy: RetentionPolicy, clock_started_at: datetime) -> datetime:
    """When the policy's action (archive, for archive_then_delete) falls due for one record."""
    return add_duration(require_aware(clock_started_at, "clock_started_at"), policy.period)


def final_due_at(policy: RetentionPolicy, clock_started_at: datetime) -> datetime:
    """When the record must be gone for good (after the archive period, for archive_then_delete)."""
    first = due_at(policy, clock_started_at)
    return first if policy.archive_period is None else add_duration(first, policy.archive_period)


def cutoff(policy: RetentionPolicy, now: datetime) -> datetime:
    """Records whose clock started at or before this instant are due for the policy's action."""
    return subtract_duration(require_aware(now, "now"), policy.period)


def archive_cutoff(policy: RetentionPolicy, now: datetime) -> datetime:
    """For archive_then_delete: records whose clock started at or before this instant move to the archive."""
    if policy.action is not RetentionAction.ARCHIVE_THEN_DELETE:
        raise InvalidPolicy(f"policy for {policy.category.value!r} does not archive (action {policy.action.value})")
    return cutoff(policy, now)


def delete_cutoff(policy: RetentionPolicy, now: datetime) -> datetime:
    """The cut-off of the policy's last step: the final deletion, after any archive period."""
    if policy.archive_period is None:
        return cutoff(policy, now)
    # Undo the steps in reverse order of due_at() so that the safe-side guarantee holds.
    return subtract_duration(subtract_duration(require_aware(now, "now"), policy.archive_period), policy.period)


def is_due(policy: RetentionPolicy, clock_started_at: datetime, now: datetime) -> bool:
    """True once one record's clock has run out (its first action is due)."""
    return due_at(policy, clock_started_at) <= require_aware(now, "now")
