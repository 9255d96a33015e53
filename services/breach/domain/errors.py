"""Errors raised by the breach rules; each says what was wrong and what is accepted instead.

All are ``ValueError`` subclasses so the web layer can map every one of them to an RFC 9457
problem (422 unless it says otherwise) without knowing the rule that raised it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from shared.rules.errors import RuleViolation

_E = TypeVar("_E", bound=StrEnum)


class DomainError(RuleViolation):
    """A breach rule refused the input; nothing was changed."""


class NaiveDatetime(DomainError):
    """A time was given without a timezone; every time must be timezone-aware."""


class InvalidSeverityInput(DomainError):
    """An ENISA input is out of range (no data category, wrong adjustment, unknown level)."""


class MissingOverrideReason(DomainError):
    """A notification decision was overridden without a documented reason or decision-maker."""


class MissingExemptionReason(DomainError):
    """An Art. 34(3) exemption from telling individuals was claimed without a documented reason."""


class InvalidClockInput(DomainError):
    """The facts given to the deadline engine are inconsistent (e.g. a milestone before awareness)."""


class InvalidEscalationOffset(DomainError):
    """An escalation offset is zero or negative; escalations must come before the deadline."""


class MissingDelayReasons(DomainError):
    """A notice sent after its deadline carries no reasons for the delay (GDPR Art. 33(1))."""


class IncompleteNotice(DomainError):
    """A notice lacks required contents and does not say they will follow (or is a final notice)."""

    def __init__(self, message: str, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


class MissingToFollowReason(DomainError):
    """A field marked "to follow" in a staged notice has no reason why it is not yet known (Art. 33(4))."""


def enum_member(enum: type[_E], value: str, what: str, error: type[DomainError] = DomainError) -> _E:
    """Coerce a plain string (as the web layer sends it) to an enum member, or refuse it clearly."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise error(f"unknown {what} {value!r}; use one of {allowed}") from None


class InvalidIncident(DomainError):
    """The facts of an incident are inconsistent (awareness in the future or before detection)."""


class IncidentClosed(DomainError):
    """The incident is closed: it can no longer change, and no notice can be drafted or sent for it."""

    status = 409
    title = "Incident closed"
    code = "incident-closed"


class NoticeFrozen(DomainError):
    """A sent notice is frozen: it cannot be sent again or changed."""

    status = 409
    title = "Notice already sent"
    code = "notice-frozen"


class MissingContactPoint(DomainError):
    """No contact point is set for the tenant: a notice must name one with its contact details (Art. 33(3)(b))."""


class ApprovalRequired(DomainError):
    """A processor's notice to individuals is sent on the customer's behalf only once the customer approved it."""

    status = 409
    title = "Customer approval required"
    code = "approval-required"


class ApprovalDeclined(DomainError):
    """The customer declined the notice to individuals: it cannot be sent as drafted."""

    status = 409
    title = "Customer declined the notice"
    code = "approval-declined"


class ApprovalClosed(DomainError):
    """The approval was already decided (approved or declined): a link or a record cannot decide it again."""

    status = 409
    title = "Approval already decided"
    code = "approval-closed"


class ApprovalNotApplicable(DomainError):
    """Only a processor's notice to individuals, still a draft, is approved by the customer."""
