"""Proof Key for Code Exchange (RFC 7636), S256 only: the code is useless without the verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

METHOD = "S256"
# RFC 7636 §4.1: 43–128 unreserved characters; the S256 challenge is 43 base64url characters.
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def challenge_of(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def valid_challenge(challenge: str | None, method: str | None) -> bool:
    """Whether an authorization request carries a well-formed S256 challenge (``plain`` is refused)."""
    return method == METHOD and challenge is not None and bool(CHALLENGE.fullmatch(challenge))


def verifies(challenge: str, verifier: str | None) -> bool:
    """Whether ``verifier`` is the one ``challenge`` was made from (constant-time comparison)."""
    if not verifier or not VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(challenge_of(verifier), challenge)
