"""The notification service's pure rules: templates, webhook signatures, delivery states."""

from .alerts import ALERTS, WEBHOOK_TARGET, Alert, Link, alert_for
from .deliveries import FINAL, DeliveryState, RetryPolicy, http_is_transient, smtp_is_transient, transition
from .errors import DomainError, IllegalTransition, InvalidSignature, InvalidTemplate, UnknownTemplate
from .redaction import pick_locale, redact
from .templates import Message, TemplateCatalogue, candidate_locales, format_day, format_instant
from .webhooks import new_secret, sign, signature, verify

__all__ = [
    "ALERTS",
    "FINAL",
    "WEBHOOK_TARGET",
    "Alert",
    "DeliveryState",
    "DomainError",
    "IllegalTransition",
    "InvalidSignature",
    "InvalidTemplate",
    "Link",
    "Message",
    "RetryPolicy",
    "TemplateCatalogue",
    "UnknownTemplate",
    "alert_for",
    "candidate_locales",
    "format_day",
    "format_instant",
    "http_is_transient",
    "new_secret",
    "pick_locale",
    "redact",
    "sign",
    "signature",
    "smtp_is_transient",
    "transition",
    "verify",
]
