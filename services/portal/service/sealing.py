"""Sealed values: the console session and the links to a person's request, encrypted and authenticated.

Fernet (AES-128-CBC with HMAC-SHA256, https://github.com/fernet/spec) under a key derived from the
portal's ``signing_key``: a browser can neither read nor change what it holds, and a value sealed
for one use (``purpose``) does not open for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Sealer:
    """Seals and opens small JSON values for one purpose each."""

    def __init__(self, key: str) -> None:
        self._root = key.encode()
        self._fernets: dict[str, Fernet] = {}

    def _fernet(self, purpose: str) -> Fernet:
        fernet = self._fernets.get(purpose)
        if fernet is None:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"privops-portal", info=purpose.encode())
            fernet = self._fernets[purpose] = Fernet(base64.urlsafe_b64encode(derived.derive(self._root)))
        return fernet

    def csrf(self, binding: str) -> str:
        """The form token of ``binding`` (a console session, a visitor of the privacy center).

        An HMAC under a key derived from the portal's secret: nobody without that secret can compute
        the token of a session or visitor id they learnt, and it never opens as a sealed value.
        """
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"privops-portal", info=b"csrf").derive(self._root)
        return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()[:32]

    def csrf_matches(self, binding: str, sent: str) -> bool:
        """Whether ``sent`` is the form token of ``binding`` (compared in constant time)."""
        return hmac.compare_digest(sent.encode(), self.csrf(binding).encode())

    def seal(self, purpose: str, value: dict[str, Any]) -> str:
        """The sealed text of ``value`` (URL- and cookie-safe)."""
        return self._fernet(purpose).encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def open(self, purpose: str, sealed: str | None, max_age_s: float | None = None) -> dict[str, Any] | None:
        """The value, or None when missing, tampered with, sealed for another purpose or older than ``max_age_s``."""
        if not sealed or len(sealed) > 8192:
            return None
        try:
            ttl = None if max_age_s is None else max(1, int(max_age_s))
            raw = self._fernet(purpose).decrypt(sealed.encode(), ttl=ttl)
        except (InvalidToken, ValueError):
            return None
        value = json.loads(raw)
        return value if isinstance(value, dict) else None


def expired(claims: dict[str, Any]) -> bool:
    """Whether a session's access token has expired."""
    return float(claims.get("exp", 0)) <= time.time()
