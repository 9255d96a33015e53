"""Ed25519 keys and compact JWS: what the issuer signs with and what anyone verifies with.

Tokens, certificates of erasure and consent receipts are JWS in compact serialisation (RFC 7515)
signed with Ed25519 (``alg: EdDSA``, RFC 8037). Public keys travel as JWK sets (RFC 7517): an
OKP key with ``crv: Ed25519``, its ``x`` coordinate in base64url, and a ``kid`` that the JWS
header names. Anyone checks a document with a standard JWT library and the published set:

    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(jws)["kid"]].key
    claims = jwt.decode(jws, key, algorithms=["EdDSA"], options={"verify_aud": False})
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "EdDSA"


class SignatureInvalid(ValueError):
    """A JWS that does not verify against the given keys (unknown kid, bad signature, malformed)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> Ed25519PrivateKey:
    """A fresh random Ed25519 key."""
    return Ed25519PrivateKey.generate()


def derive_private_key(secret: bytes, info: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key: the 32-byte seed is HKDF-SHA256(secret, info) (RFC 5869).

    Development mode only (a service's own key when no issuer runs): production keys are random
    and live in the identity service alone.
    """
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte raw private key (to encrypt at rest)."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def private_key_from(raw: bytes) -> Ed25519PrivateKey:
    """The key back from its 32 raw bytes."""
    return Ed25519PrivateKey.from_private_bytes(raw)


def thumbprint_kid(public: Ed25519PublicKey) -> str:
    """A ``kid``: the base64url SHA-256 JWK thumbprint of the public key (RFC 7638), first 22 characters."""
    x = _b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()
    return _b64url(hashlib.sha256(canonical).digest())[:22]


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str) -> dict[str, str]:
    """The public JWK of a key (``kty OKP``, ``crv Ed25519``), for a JWK set."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    x = _b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def jwk_public_key(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """The public key of an Ed25519 JWK; ``SignatureInvalid`` for any other kind."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise SignatureInvalid("not an Ed25519 public key (kty OKP, crv Ed25519)")
    return Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))


def sign(key: Ed25519PrivateKey, kid: str, claims: Mapping[str, Any], typ: str = "JWT") -> str:
    """A compact JWS of ``claims`` (a JSON object) signed with ``key``; the header names ``kid`` and ``typ``."""
    return jwt.encode(dict(claims), key, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})


def header(jws: str) -> dict[str, Any]:
    """The unverified protected header (to find the ``kid``)."""
    try:
        return dict(jwt.get_unverified_header(jws))
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"not a compact JWS: {exc}") from None


def verify(jws: str, jwks: Mapping[str, Any], *, typ: str | None = None) -> dict[str, Any]:
    """The claims of ``jws`` when it verifies with the key its ``kid`` names in ``jwks``; else ``SignatureInvalid``.

    Expiry is checked when the claims carry ``exp``; ``aud`` is not (documents have none).
    """
    protected = header(jws)
    if protected.get("alg") != ALGORITHM:
        raise SignatureInvalid(f"signed with {protected.get('alg')!r}, not {ALGORITHM}")
    if typ is not None and protected.get("typ") != typ:
        raise SignatureInvalid(f"a {protected.get('typ')!r}, not a {typ!r}")
    kid = protected.get("kid")
    match = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not match:
        raise SignatureInvalid(f"no published key has kid {kid!r}")
    try:
        claims: dict[str, Any] = jwt.decode(
            jws, jwk_public_key(match[0]), algorithms=[ALGORITHM], options={"verify_aud": False}
        )
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"the signature does not verify: {exc}") from None
    return claims
