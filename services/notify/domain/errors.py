"""The notification service's rule violations, rendered as RFC 9457 problems."""

from __future__ import annotations

from shared.rules.errors import RuleViolation


class DomainError(RuleViolation):
    """A notification rule was broken."""

    code = "notify"
    title = "Notification rule violated"


class UnknownTemplate(DomainError):
    """No template of that key exists in any acceptable locale."""

    code = "unknown-template"
    title = "Unknown template"


class InvalidSignature(DomainError):
    """A webhook's signature does not match its body, or its timestamp is too old."""

    code = "invalid-signature"
    title = "Invalid webhook signature"
    status = 401


class IllegalTransition(DomainError):
    """A delivery cannot move from its state to the one asked."""

    code = "illegal-transition"
    title = "Illegal delivery transition"
    status = 409


class InvalidTemplate(DomainError):
    """A tenant's template does not compile or render, or does not start with its Subject: line."""

    code = "invalid-template"
    title = "Invalid template"
