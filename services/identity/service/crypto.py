"""Ed25519 keys, their encryption at rest, and compact JWS (RFC 7515) with alg EdDSA (RFC 8037).

A private key is kept as its 32-byte seed, sealed with AES-256-GCM under a key derived by HKDF-SHA256
(RFC 5869) from the ``key_encryption_key`` setting; the kid is the associated data, so a sealed
seed copied onto another key's row does not open.
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.identity.domain.keys import thumbprint
from services.identity.domain.tokens import ALGORITHM

NONCE_BYTES = 12
KEK_INFO = b"privops identity: private keys at rest, v1"


class SealedKeyError(Exception):
    """A sealed private key does not open: the key encryption key changed, or the row was tampered with."""


@dataclass(frozen=True)
class KeyPair:
    """A private key ready to sign, with its kid."""

    kid: str
    private: Ed25519PrivateKey


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """The bytes of base64url text with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEK_INFO).derive(secret.encode())
    return AESGCM(key)


def generate() -> tuple[str, str, Ed25519PrivateKey]:
    """A new Ed25519 key: its kid (RFC 7638 thumbprint), public ``x`` and private key."""
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64url(raw)
    return thumbprint(x), x, private


def seal(secret: str, kid: str, private: Ed25519PrivateKey) -> bytes:
    """The private key's seed encrypted for storage: nonce ‖ AES-GCM(seed, aad=kid)."""
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(secret).encrypt(nonce, seed, kid.encode())


def unseal(secret: str, kid: str, sealed: bytes) -> Ed25519PrivateKey:
    """The private key of a sealed seed (``SealedKeyError`` when it does not open)."""
    try:
        seed = _aead(secret).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], kid.encode())
    except (InvalidTag, ValueError):
        raise SealedKeyError(f"the private key {kid} does not open with this key encryption key") from None
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_jwk(kid: str, x: str) -> dict[str, str]:
    """The public JWK of an Ed25519 key (RFC 8037 §2), for a JWKS."""
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def public_key(x: str) -> Ed25519PublicKey:
    """The verification key of a JWK ``x``."""
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def sign(pair: KeyPair, typ: str, claims: dict[str, Any]) -> str:
    """A compact JWS of ``claims`` with header alg EdDSA, kid and typ."""
    return jwt.encode(claims, pair.private, algorithm=ALGORITHM, headers={"kid": pair.kid, "typ": typ})
