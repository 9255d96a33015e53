"""Errors raised by the DSAR rules; the web layer renders each one as an RFC 9457 problem."""

from __future__ import annotations

from typing import ClassVar

from shared.rules.errors import RuleViolation


class DomainError(RuleViolation):
    """A rights-request rule refused the input; nothing was changed."""

    code: ClassVar[str] = "dsar-rule-broken"
    title: ClassVar[str] = "The input breaks a rights-request rule"
    status: ClassVar[int] = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidTimestamp(DomainError):
    """A time is naive (no timezone) or lies in an impossible order (resumed before paused)."""

    code = "invalid-timestamp"
    title = "Invalid timestamp"


class UnknownRegime(DomainError):
    """The jurisdiction regime id is not in the rule table."""

    code = "unknown-regime"
    title = "Unknown jurisdiction regime"


class InvalidRegime(DomainError):
    """A regime (or a tenant override of one) is inconsistent, e.g. a 45-day clock with a 2-month extension."""

    code = "invalid-regime"
    title = "Inconsistent jurisdiction rules"


class RequestTypeNotCovered(DomainError):
    """The regime gives no right of this type, so it sets no deadline for it."""

    code = "request-type-not-covered"
    title = "Request type not covered by this regime"


class InvalidRequestDetails(DomainError):
    """The type-specific details of a request are missing or do not fit its type."""

    code = "invalid-request-details"
    title = "Invalid request details"


class IllegalTransition(DomainError):
    """A request cannot move from its current state to the one asked for."""

    code = "illegal-transition"
    title = "Illegal request state transition"
    status = 409

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]) -> None:
        options = ", ".join(allowed) if allowed else "none, it is final"
        super().__init__(f"a request in state {current!r} cannot move to {target!r} (allowed: {options})")
        self.current = current
        self.target = target


class ExtensionRefused(DomainError):
    """The response period cannot be extended; subclasses say why."""

    code = "extension-refused"
    title = "Extension refused"
    status = 409


class ExtensionNotAvailable(ExtensionRefused):
    """The regime has no extension for this request type."""

    code = "extension-not-available"
    title = "No extension in this regime"


class ExtensionAlreadyUsed(ExtensionRefused):
    """The single extension the law allows was already taken."""

    code = "extension-already-used"
    title = "Extension already used"


class ExtensionNoticeMissing(ExtensionRefused):
    """The subject was not sent the reasons for the extension."""

    code = "extension-notice-missing"
    title = "Extension reasons not sent"


class ExtensionNoticeLate(ExtensionRefused):
    """The reasons for the extension reached the subject after the first deadline."""

    code = "extension-notice-late"
    title = "Extension reasons sent too late"


class ExtensionTooLong(ExtensionRefused):
    """The extension asked for would end after the regime's maximum counted from the clock start."""

    code = "extension-too-long"
    title = "Extension beyond the legal maximum"
    status = 422


class InvalidExtension(ExtensionRefused):
    """The extension asked for has no length where one must be stated, or is in the wrong unit."""

    code = "invalid-extension"
    title = "Invalid extension"
    status = 422


class ClockPauseNotAvailable(DomainError):
    """The regime keeps the clock running while identity (or a fee, or clarification) is awaited."""

    code = "clock-pause-not-available"
    title = "The clock cannot be paused in this regime"
    status = 409


class ClockStateError(DomainError):
    """The clock is not in a state that allows the operation (already paused, not paused, expired)."""

    code = "clock-state"
    title = "Deadline clock in the wrong state"
    status = 409


class NoIdentifier(DomainError):
    """A request names no identifier of the subject, so no store could find the person."""

    code = "no-identifier"
    title = "No subject identifier"


class InvalidReceivedAt(InvalidTimestamp):
    """A request's time of receipt lies in the future or before any plausible receipt."""

    code = "invalid-received-at"
    title = "Invalid time of receipt"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.field = "received_at"


class InvalidCalendar(DomainError):
    """A holiday calendar the tenant chose is unknown, or cannot apply to the regime it was chosen for."""

    code = "invalid-calendar"
    title = "Invalid holiday calendar"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.field = field
