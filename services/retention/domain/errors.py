"""Errors raised by the retention rules; each says what was wrong and what is accepted instead."""

from __future__ import annotations

from shared.rules.errors import RuleViolation


class DomainError(RuleViolation):
    """A retention rule refused the input; nothing was changed."""


class UnknownCategory(DomainError):
    """The data category is not one the retention service knows."""


class UnknownClockStart(DomainError):
    """The clock-start event is not one the retention service knows."""


class UnknownAction(DomainError):
    """The retention action is not one the retention service knows."""


class InvalidPeriod(DomainError):
    """A retention or archive period is malformed, zero or negative."""


class InvalidPolicy(DomainError):
    """A retention policy is inconsistent (e.g. archive action without an archive period)."""


class NaiveDatetime(DomainError):
    """A time was given without a timezone; every time must be timezone-aware."""


class NoApplicablePolicy(DomainError):
    """No retention policy covers the requested category."""


class AmbiguousPolicy(DomainError):
    """Two equally specific policies cover the same data and disagree."""


class InvalidHold(DomainError):
    """A legal hold is missing who placed it, why, or what it covers."""


class HoldAlreadyReleased(DomainError):
    """A legal hold was released twice."""
