"""People signing in through the OpenID Connect provider: authorization requests, redirects, limits.

OpenID Connect Core 1.0 §3.1 (authorization code flow) with PKCE S256 required (RFC 7636; OAuth 2.0
Security BCP, RFC 9700 §2.1.1). An unknown client or an unregistered redirect URI is shown to the
person and never redirected to (RFC 6749 §4.1.2.1); every other error goes back to the client on
its redirect URI, with ``state`` and the issuer (RFC 9207).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from . import pkce
from .errors import InvalidUser

OPENID = "openid"
OIDC_SCOPES = ("openid", "profile", "email")
MAX_STATE = 1024
MAX_NONCE = 255
PASSWORD_MIN, PASSWORD_MAX = 12, 256  # NIST SP 800-63B §3.1.1.2: at least 8, allow at least 64


class UnsafeRedirect(Exception):
    """The request names no usable client or redirect URI: tell the person, redirect nowhere."""


class AuthorizeError(Exception):
    """An error the client learns on its redirect URI (``error``, ``error_description``, ``state``)."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        super().__init__(description)
        self.redirect_uri, self.error, self.description, self.state = redirect_uri, error, description, state


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    state: str | None = None
    nonce: str | None = None

    def hidden_fields(self) -> dict[str, str]:
        """What the login form carries back, unchanged, to ``POST /authorize``."""
        fields = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "code_challenge": self.code_challenge,
            "code_challenge_method": pkce.METHOD,
        }
        return fields | {k: v for k, v in (("state", self.state), ("nonce", self.nonce)) if v}


def authorize_request(params: Mapping[str, str], redirect_uris: Sequence[str] | None) -> AuthorizeRequest:
    """Check an authorization request against its client's registered redirect URIs (None: no such console)."""
    if redirect_uris is None:
        raise UnsafeRedirect("This application is not registered to sign people in.")
    uri = params.get("redirect_uri", "")
    if uri not in redirect_uris:  # exact match (RFC 9700 §2.1)
        raise UnsafeRedirect("The address to return to is not one this application registered.")
    state = params.get("state") or None

    def refuse(error: str, description: str) -> AuthorizeError:
        return AuthorizeError(uri, error, description, state if state and len(state) <= MAX_STATE else None)

    if state is not None and len(state) > MAX_STATE:
        raise refuse("invalid_request", f"state is at most {MAX_STATE} characters")
    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "only the authorization code flow (response_type=code) is offered")
    scopes = params.get("scope", "").split()
    if OPENID not in scopes:
        raise refuse("invalid_scope", "scope includes openid")
    if not set(scopes) <= set(OIDC_SCOPES):
        raise refuse("invalid_scope", f"scope is among {' '.join(OIDC_SCOPES)}; people get their roles' scopes")
    if not pkce.valid_challenge(params.get("code_challenge"), params.get("code_challenge_method")):
        raise refuse("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
    nonce = params.get("nonce") or None
    if nonce is not None and len(nonce) > MAX_NONCE:
        raise refuse("invalid_request", f"nonce is at most {MAX_NONCE} characters")
    return AuthorizeRequest(params["client_id"], uri, params["code_challenge"], " ".join(scopes), state, nonce)


def redirect(uri: str, issuer: str, state: str | None, **values: str) -> str:
    """``uri`` with the response's parameters added to its query (RFC 6749 §4.1.2, RFC 9207 ``iss``)."""
    query = values | {"iss": issuer} | ({"state": state} if state else {})
    return uri + ("&" if "?" in uri else "?") + urlencode(query)


def error_redirect(error: AuthorizeError, issuer: str) -> str:
    """Where an authorization error sends the person back to their application."""
    return redirect(error.redirect_uri, issuer, error.state, error=error.error, error_description=error.description)


def retry_after(failures: Sequence[datetime], now: datetime, window: timedelta, limit: int) -> timedelta | None:
    """How long an account must wait when it failed ``limit`` times within ``window`` (else None)."""
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < limit:
        return None
    return recent[-limit] + window - now


def digest(secret: str) -> str:
    """The SHA-256 (hex) by which a one-time secret (an authorization code, an invitation) is kept."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str, email: str) -> str:
    """``password`` when it is acceptable: long enough, not too long, not the address itself."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidUser(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long", "password")
    if password.strip().lower() == email.lower():
        raise InvalidUser("a password is not the email address", "password")
    return password
