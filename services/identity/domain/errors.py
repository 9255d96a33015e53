"""The identity service's rule violations (RFC 9457 problems) and OAuth errors (RFC 6749 §5.2)."""

from __future__ import annotations

from typing import ClassVar

from shared.rules.errors import RuleViolation


class DomainError(RuleViolation):
    """An identity rule was broken."""

    code = "identity"
    title = "Identity rule violated"


class InvalidClient(DomainError):
    """A client's registration breaks a rule (kind and tenant, scopes, system, redirect URIs)."""

    code = "invalid-client"
    title = "Invalid client registration"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidUser(DomainError):
    """A person's account breaks a rule (roles, password)."""

    code = "invalid-user"
    title = "Invalid user account"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidDocument(DomainError):
    """A document to sign is malformed (its type, its claims)."""

    code = "invalid-document"
    title = "Invalid document"


class OAuthError(Exception):
    """An error of the token endpoint, answered as RFC 6749 §5.2 JSON ``{"error", "error_description"}``.

    The OAuth 2.0 specification fixes this format for the token endpoint, so it is not an RFC 9457
    problem like the rest of the API.
    """

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON body of the error response."""
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    """A parameter is missing, repeated, unsupported or malformed."""


class InvalidClientAuth(OAuthError):
    """Client authentication failed: unknown client, wrong secret, disabled client, no authentication."""

    error, status = "invalid_client", 401


class InvalidGrant(OAuthError):
    """The authorization code is invalid, expired, used, for another client or fails PKCE."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """The client may not use this grant type."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """The grant type is not one this server supports."""

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """The requested scope is unknown or wider than the client's."""

    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """The requested tenant is not one the client may act for (RFC 8707 §2)."""

    error = "invalid_target"
