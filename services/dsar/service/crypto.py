"""Keys of the DSAR service: identifiers encrypted at rest, hashed codes and tokens, signed certificates."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.dsar.settings import DsarSettings

SIGNATURE_ALGORITHM = "HMAC-SHA256"
_NONCE_BYTES = 12


def data_key(settings: DsarSettings) -> bytes:
    """The 256-bit AES key for personal data at rest (``data_key``, else derived from ``signing_key``)."""
    secret = settings.data_key or settings.signing_key
    return hashlib.sha256(b"privops.dsar.data-key|" + secret.get_secret_value().encode()).digest()


def seal(settings: DsarSettings, value: Any) -> bytes:
    """Encrypt a JSON-serialisable value (AES-256-GCM, random nonce prepended)."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return nonce + AESGCM(data_key(settings)).encrypt(nonce, plain, b"privops.dsar")


def unseal(settings: DsarSettings, blob: bytes) -> Any:
    """Decrypt a value sealed with ``seal``."""
    nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    return json.loads(AESGCM(data_key(settings)).decrypt(nonce, body, b"privops.dsar"))


def subject_key(settings: DsarSettings) -> bytes:
    """The key of the subject reference, shared by every privops service."""
    return settings.subject_hash_key.get_secret_value().encode()


def new_code() -> str:
    """A six-digit one-time code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_secret(settings: DsarSettings, purpose: str, value: str) -> str:
    """Keyed hash of a code or a link token: what is stored instead of the secret."""
    key = settings.signing_key.get_secret_value().encode()
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def same_hash(expected: str | None, actual: str) -> bool:
    """Constant-time comparison of two hashes."""
    return expected is not None and hmac.compare_digest(expected, actual)


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes a certificate signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(settings: DsarSettings, document: dict[str, Any]) -> str:
    """HMAC-SHA256 of the canonical document with the signing key, in hex."""
    key = settings.signing_key.get_secret_value().encode()
    return hmac.new(key, canonical(document), hashlib.sha256).hexdigest()


def verify_signature(settings: DsarSettings, document: dict[str, Any], signature: str) -> bool:
    """True when ``signature`` is this service's signature of ``document``."""
    return hmac.compare_digest(sign(settings, document), signature.strip().lower())
