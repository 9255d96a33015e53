"""Signing the privacy team in: OpenID Connect authorization code flow with PKCE S256 at the identity service.

RFC 6749 §4.1 with RFC 7636 (S256): the portal sends the browser to ``/authorize`` with a state,
a nonce and a code challenge it keeps in a sealed short-lived cookie, then exchanges the code for
the person's access token (client authentication: HTTP Basic, RFC 6749 §2.3.1). The access token
carries the person's tenant and the scopes of their roles; the console shows what it allows and
every service checks it again.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from services.portal.settings import PortalSettings

SCOPE = "openid profile email"


class LoginFailed(Exception):
    """The sign-in could not complete; the message is safe to show."""


def start(settings: PortalSettings, next_path: str) -> tuple[str, dict[str, Any]]:
    """The identity service's authorize URL, and what to keep (sealed) until the callback."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pending = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": next_path if next_path.startswith("/console") else "/console",
    }
    query = {
        "response_type": "code",
        "client_id": settings.console_client_id,
        "redirect_uri": settings.callback_url,
        "scope": SCOPE,
        "state": pending["state"],
        "nonce": pending["nonce"],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.browser_identity_url}/authorize?{urlencode(query)}", pending


async def finish(
    http: httpx.AsyncClient, settings: PortalSettings, code: str, pending: dict[str, Any]
) -> dict[str, Any]:
    """Exchange the code: the session (access token, its claims, the person's email and name)."""
    issuer = settings.identity_url or settings.identity_public_url
    if not issuer or settings.console_client_secret is None:
        raise LoginFailed("The console is not configured to sign people in (PORTAL_CONSOLE_CLIENT_SECRET).")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.callback_url,
        "code_verifier": pending["verifier"],
    }
    auth = (settings.console_client_id, settings.console_client_secret.get_secret_value())
    try:
        response = await http.post(f"{issuer.rstrip('/')}/oauth/token", data=form, auth=auth)
    except httpx.HTTPError as exc:
        raise LoginFailed("The sign-in service is not reachable; please try again.") from exc
    if response.status_code != 200:
        raise LoginFailed("The sign-in could not be completed; please sign in again.")
    body = response.json()
    access = str(body["access_token"])
    # Read, not verified: the portal only shows what the token says; every service verifies it.
    claims = jwt.decode(access, options={"verify_signature": False})
    identity = jwt.decode(body.get("id_token") or access, options={"verify_signature": False})
    if body.get("id_token") and identity.get("nonce") != pending["nonce"]:
        raise LoginFailed("The sign-in answer was not for this browser; please sign in again.")
    return {
        "sid": secrets.token_urlsafe(16),
        "token": access,
        "tenant": claims.get("tenant"),
        "scopes": str(claims.get("scope", "")).split(),
        "exp": claims.get("exp"),
        "email": identity.get("email") or str(claims.get("sub", "")).removeprefix("user:"),
        "name": identity.get("name"),
    }
