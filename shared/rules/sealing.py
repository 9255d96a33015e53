"""Personal data sealed at rest: AES-256-GCM with a key derived per service, and keyed hashes of link secrets.

A service keeps an address only as long as a message needs it (a claim of the notify service),
sealed with ``seal``; a link's secret is never kept, only ``keyed_hash`` of it, compared in
constant time with ``same_hash``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def data_key(secret: str, service: str) -> bytes:
    """The 256-bit key a service seals personal data with, derived from one of its secrets."""
    return hashlib.sha256(f"privops.{service}.data-key|".encode() + secret.encode()).digest()


def seal(key: bytes, value: Any, *, context: bytes) -> bytes:
    """Encrypt a JSON-serialisable value (random nonce prepended); ``context`` is bound as associated data."""
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return nonce + AESGCM(key).encrypt(nonce, plain, context)


def unseal(key: bytes, blob: bytes, *, context: bytes) -> Any:
    """The value ``seal`` encrypted (``cryptography.exceptions.InvalidTag`` for another key or context)."""
    return json.loads(AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context))


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` for ``purpose``: what is stored instead of a link's secret."""
    return hmac.new(secret.encode(), f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def same_hash(expected: str | None, actual: str) -> bool:
    """Constant-time comparison of two hashes (False when nothing is stored)."""
    return expected is not None and hmac.compare_digest(expected, actual)
