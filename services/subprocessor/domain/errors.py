"""Errors raised by the subprocessor rules; each says what was wrong and what is accepted instead."""

from __future__ import annotations

from shared.rules.errors import RuleViolation


class DomainError(RuleViolation):
    """A subprocessor rule refused the input; nothing was changed."""


class NaiveDatetime(DomainError):
    """A time was given without a timezone; every time must be timezone-aware."""


class InvalidLocation(DomainError):
    """A processing location is not an ISO 3166 alpha-2 country code."""


class UnknownTransferMechanism(DomainError):
    """The transfer mechanism is not one the service knows."""


class TransferNotAllowed(DomainError):
    """A processing location outside the EEA lacks a valid transfer mechanism."""


class InvalidChange(DomainError):
    """A subprocessor change or notice is inconsistent."""


class IllegalTransition(DomainError):
    """A change cannot move from its current state to the requested one."""


class EffectiveDateTooEarly(DomainError):
    """The planned effective date leaves a customer less than their notice period."""


class ObjectionRefused(DomainError):
    """An objection cannot be accepted (not affected, window closed, change final)."""


class ObjectionWindowClosed(ObjectionRefused):
    """The objection arrived after the customer's objection window closed."""


class CustomerNotAffected(ObjectionRefused):
    """The objecting customer is not affected by the change."""


class ObjectionAlreadyResolved(DomainError):
    """An objection was resolved twice."""


class SignatureError(DomainError):
    """A webhook signature could not be verified."""


class MalformedSignatureHeader(SignatureError):
    """The signature header is not of the form ``t=<unix>,v1=<hex>``."""


class StaleSignature(SignatureError):
    """The signature's timestamp is outside the tolerance window (replay protection)."""


class SignatureMismatch(SignatureError):
    """No signature in the header matches the body and the secret."""
