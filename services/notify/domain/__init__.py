"""The notification service's pure rules: templates, webhook signatures, delivery states."""

from .deliveries import FINAL, DeliveryState, RetryPolicy, http_is_transient, smtp_is_transient, transition
from .errors import DomainError, IllegalTransition, InvalidSignature, UnknownTemplate
from .templates import Message, TemplateCatalogue, candidate_locales, format_day, format_instant
from .webhooks import new_secret, sign, signature, verify

__all__ = [
    "FINAL",
    "DeliveryState",
    "DomainError",
    "IllegalTransition",
    "InvalidSignature",
    "Message",
    "RetryPolicy",
    "TemplateCatalogue",
    "UnknownTemplate",
    "candidate_locales",
    "format_day",
    "format_instant",
    "http_is_transient",
    "new_secret",
    "sign",
    "signature",
    "smtp_is_transient",
    "transition",
    "verify",
]
