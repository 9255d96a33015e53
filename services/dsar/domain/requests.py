"""Rights requests: their types, their life cycle, their type-specific details and repetition checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.rules.durations import Duration, subtract_duration

from .errors import DomainError, IllegalTransition, InvalidReceivedAt, InvalidRequestDetails, InvalidTimestamp


class RequestType(StrEnum):
    """The rights a data subject can exercise (GDPR Arts. 15-18, 20, 21 and their equivalents)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    LIFT_RESTRICTION = "lift_restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"


class RequestState(StrEnum):
    """Where a request stands in its life cycle."""

    RECEIVED = "received"
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REFUSED = "refused"
    CANCELLED = "cancelled"


_S = RequestState

# A request may be refused at any open stage (manifestly unfounded or excessive, identity not
# established, an exception such as Art. 17(3)) and withdrawn by the subject at any open stage.
# Work on the data starts only once identity is settled, so nothing skips VERIFIED.
TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    _S.RECEIVED: frozenset({_S.AWAITING_VERIFICATION, _S.VERIFIED, _S.REFUSED, _S.CANCELLED}),
    _S.AWAITING_VERIFICATION: frozenset({_S.VERIFIED, _S.REFUSED, _S.CANCELLED}),
    _S.VERIFIED: frozenset({_S.IN_PROGRESS, _S.REFUSED, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.REFUSED, _S.CANCELLED}),
    _S.COMPLETED: frozenset(),
    _S.REFUSED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def allowed_transitions(current: RequestState) -> frozenset[RequestState]:
    """The states a request in ``current`` may move to."""
    return TRANSITIONS[RequestState(current)]


def is_final(state: RequestState) -> bool:
    """True when no further transition is possible (completed, refused, cancelled)."""
    return not allowed_transitions(state)


def transition(current: RequestState, target: RequestState) -> RequestState:
    """Return ``target`` when the move from ``current`` is legal, else raise ``IllegalTransition``."""
    current, target = RequestState(current), RequestState(target)
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition(current.value, target.value, tuple(sorted(state.value for state in allowed)))
    return target


@dataclass(frozen=True, slots=True)
class Correction:
    """One field the subject wants corrected (Art. 16) and the value it should hold."""

    field: str
    new_value: str


@dataclass(frozen=True, slots=True)
class RequestDetails:
    """Type-specific details: corrections for rectification, purposes for objection, a target for portability."""

    corrections: tuple[Correction, ...] = ()
    purposes: tuple[str, ...] = ()
    target_controller: str | None = None
    # The receiving controller's endpoint (Art. 20(2)): the package is sent there instead of a download link.
    target_endpoint: str | None = None


def validate_details(request_type: RequestType, details: RequestDetails | None = None) -> RequestDetails:
    """Check the details fit the request type and return them trimmed; raise ``InvalidRequestDetails`` if not."""
    request_type = RequestType(request_type)
    details = details or RequestDetails()
    _reject_foreign_details(request_type, details)
    if request_type is RequestType.RECTIFICATION:
        return RequestDetails(corrections=_valid_corrections(details.corrections))
    if request_type is RequestType.OBJECTION:
        return RequestDetails(purposes=_valid_purposes(details.purposes))
    if request_type is RequestType.PORTABILITY and details.target_controller is not None:
        target = details.target_controller.strip()
        if not target:
            raise InvalidRequestDetails("target_controller: leave it out for a download, or name the controller")
        endpoint = details.target_endpoint.strip() if details.target_endpoint else None
        return RequestDetails(target_controller=target, target_endpoint=endpoint or None)
    if request_type is RequestType.PORTABILITY and details.target_endpoint:
        raise InvalidRequestDetails("target_controller: name the controller that receives the data at target_endpoint")
    return RequestDetails()


def _reject_foreign_details(request_type: RequestType, details: RequestDetails) -> None:
    # Details given for the wrong type usually mean the wrong type was picked; saying so beats dropping them.
    if details.corrections and request_type is not RequestType.RECTIFICATION:
        raise InvalidRequestDetails(f"corrections: only a rectification request carries them, not {request_type}")
    if details.purposes and request_type is not RequestType.OBJECTION:
        raise InvalidRequestDetails(f"purposes: only an objection request carries them, not {request_type}")
    if details.target_controller is not None and request_type is not RequestType.PORTABILITY:
        raise InvalidRequestDetails(f"target_controller: only a portability request carries it, not {request_type}")
    if details.target_endpoint is not None and request_type is not RequestType.PORTABILITY:
        raise InvalidRequestDetails(f"target_endpoint: only a portability request carries it, not {request_type}")


def _valid_corrections(corrections: tuple[Correction, ...]) -> tuple[Correction, ...]:
    if not corrections:
        raise InvalidRequestDetails("corrections: a rectification request must name at least one field to correct")
    seen: set[str] = set()
    cleaned: list[Correction] = []
    for index, correction in enumerate(corrections):
        name, value = correction.field.strip(), correction.new_value.strip()
        if not name:
            raise InvalidRequestDetails(f"corrections[{index}].field: name the field to correct")
        if not value:
            raise InvalidRequestDetails(f"corrections[{index}].new_value: give the corrected value of {name!r}")
        if name in seen:
            raise InvalidRequestDetails(f"corrections[{index}].field: {name!r} is listed twice")
        seen.add(name)
        cleaned.append(Correction(field=name, new_value=value))
    return tuple(cleaned)


def _valid_purposes(purposes: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(purpose.strip() for purpose in purposes if purpose.strip()))
    if not cleaned:
        raise InvalidRequestDetails("purposes: an objection must name the processing purposes objected to")
    return cleaned


# A request entered after it arrived (by post, by phone) starts its clock on the day it arrived; a
# time ahead of the service's clock by more than a client's clock may drift is a typo, not a receipt.
RECEIPT_CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)


def check_received_at(received_at: datetime, now: datetime, *, skew: timedelta = RECEIPT_CLOCK_SKEW) -> datetime:
    """The time a request arrived, in UTC: aware, not after ``now`` (give or take ``skew``), not before 2000.

    A time a few seconds ahead of ``now`` (a client's clock) is taken as ``now``: the clock never
    starts later than the moment privops learnt of the request.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidReceivedAt(f"received_at: {received_at.isoformat()} has no timezone; add one, e.g. +01:00 or Z")
    _require_aware(now, "now")
    if received_at > now + skew:
        raise InvalidReceivedAt(
            f"received_at: {received_at.isoformat()} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}); "
            "give the time the request arrived"
        )
    if received_at < EARLIEST_RECEIPT:
        raise InvalidReceivedAt(f"received_at: {received_at.isoformat()} is before {EARLIEST_RECEIPT:%Y-%m-%d}")
    return min(received_at, now).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PriorRequest:
    """A request the same subject made before: its type and when it was received."""

    request_type: RequestType
    received_at: datetime


_ONE_MONTH = Duration(months=1)
_TWELVE_MONTHS = Duration(months=12)


@dataclass(frozen=True, slots=True)
class RepetitionPolicy:
    """When a new request looks repetitive: product defaults for a human to review, not legal thresholds.

    The defaults echo the statutes that count: CCPA lets a business decline more than two requests
    to know in 12 months, Virginia gives two free requests a year. Tenants tune them.
    """

    same_type_within: Duration = _ONE_MONTH
    window: Duration = _TWELVE_MONTHS
    max_in_window: int = 2

    def __post_init__(self) -> None:
        if self.same_type_within.is_zero() or self.window.is_zero():
            raise DomainError("repetition policy: windows must be longer than zero")
        if self.max_in_window < 1:
            raise DomainError("repetition policy: max_in_window must be at least 1")


@dataclass(frozen=True, slots=True)
class RepetitionAssessment:
    """Whether a new request looks repeated or manifestly excessive (Art. 12(5)), and why."""

    reasons: tuple[str, ...]
    same_type_recent: int
    in_window: int

    @property
    def flagged(self) -> bool:
        """True when at least one reason was found; the controller still decides and bears the burden."""
        return bool(self.reasons)


def assess_repetition(
    previous: Iterable[PriorRequest],
    request_type: RequestType,
    received_at: datetime,
    policy: RepetitionPolicy | None = None,
) -> RepetitionAssessment:
    """Flag a new request that repeats a recent one of the same type or exceeds the yearly count."""
    policy = policy or RepetitionPolicy()
    _require_aware(received_at, "received_at")
    same_type_cutoff = subtract_duration(received_at, policy.same_type_within)
    window_cutoff = subtract_duration(received_at, policy.window)
    earlier = []
    for prior in previous:
        _require_aware(prior.received_at, "previous received_at")
        # Later requests are not "previous"; an identical instant is a double submission and counts.
        if prior.received_at <= received_at:
            earlier.append(prior)
    same_type = sorted(
        p.received_at for p in earlier if p.request_type == request_type and p.received_at > same_type_cutoff
    )
    in_window = 1 + sum(1 for p in earlier if p.received_at > window_cutoff)
    reasons: list[str] = []
    if same_type:
        reasons.append(
            f"an earlier {RequestType(request_type)} request was received on {same_type[-1]:%Y-%m-%d}, "
            f"less than {policy.same_type_within} before this one"
        )
    if in_window > policy.max_in_window:
        reasons.append(
            f"{in_window} requests within {policy.window} (this one included); the policy allows {policy.max_in_window}"
        )
    return RepetitionAssessment(reasons=tuple(reasons), same_type_recent=len(same_type), in_window=in_window)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidTimestamp(f"{name}: {moment.isoformat()} has no timezone; use an aware UTC datetime")
