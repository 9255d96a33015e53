"""Argon2id hashes of client secrets and passwords (RFC 9106), computed off the event loop.

An unknown client or account is checked against a dummy hash, so a wrong id takes as long to
refuse as a wrong secret (no telling which ids exist from the response time).
"""

from __future__ import annotations

import functools
import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.identity.settings import IdentitySettings

SECRET_BYTES = 32


def new_secret() -> str:
    """A new client secret: 256 random bits, base64url (shown once, stored as a hash)."""
    return secrets.token_urlsafe(SECRET_BYTES)


class Hasher:
    """Argon2id with the service's parameters."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._argon = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._dummy = self._argon.hash(secrets.token_urlsafe(16))

    async def hash(self, secret: str) -> str:
        """The Argon2id hash of ``secret`` (PHC string with its salt and parameters)."""
        return await anyio.to_thread.run_sync(self._argon.hash, secret)

    async def verify(self, hashed: str | None, secret: str) -> bool:
        """Whether ``secret`` matches ``hashed``; with no hash, the same work and ``False``."""

        def check() -> bool:
            try:
                return self._argon.verify(hashed or self._dummy, secret) and hashed is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await anyio.to_thread.run_sync(check)

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with other parameters than the current ones."""
        return self._argon.check_needs_rehash(hashed)


@functools.lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> Hasher:
    return Hasher(time_cost, memory_kib, parallelism)


def hasher(settings: IdentitySettings) -> Hasher:
    """The hasher of ``settings`` (one per parameter set, made once)."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
