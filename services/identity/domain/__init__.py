"""The identity service's pure rules: clients, scopes handed out, key lifetimes, token claims, PKCE."""

from .clients import ALL_TENANTS, ClientKind, Registration, check_registration, subject, widening
from .errors import DomainError, InvalidClient, InvalidDocument, OAuthError
from .keys import KeyUse, KeyWindow

__all__ = [
    "ALL_TENANTS",
    "ClientKind",
    "DomainError",
    "InvalidClient",
    "InvalidDocument",
    "KeyUse",
    "KeyWindow",
    "OAuthError",
    "Registration",
    "check_registration",
    "subject",
    "widening",
]
