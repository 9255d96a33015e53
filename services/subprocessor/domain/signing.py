"""Webhook signing for change notices sent to customers' endpoints, and the retry schedule.

The signature is HMAC-SHA256 over ``f"{timestamp}.{body}"`` with the customer's own secret, sent
as ``t=<unix seconds>,v1=<hex>``. Signing the timestamp lets the receiver refuse a replayed
delivery; several ``v1`` entries may appear while a customer rotates its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import datetime

from .errors import DomainError, MalformedSignatureHeader, NaiveDatetime, SignatureMismatch, StaleSignature

SIGNATURE_HEADER = "Privops-Signature"
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _secret(value: str | bytes) -> bytes:
    secret = _as_bytes(value)
    if not secret:
        raise DomainError("the webhook secret must not be empty")
    return secret


def _unix(now: datetime) -> int:
    if now.tzinfo is None or now.utcoffset() is None:
        raise NaiveDatetime(f"now must be a timezone-aware datetime (UTC), got naive {now.isoformat()}")
    return int(now.timestamp())


def compute_signature(secret: str | bytes, timestamp: int, body: str | bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = f"{timestamp}.".encode() + _as_bytes(body)
    return hmac.new(_secret(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: str | bytes, *, now: datetime) -> str:
    """The signature header value ``t=<unix>,v1=<hex>`` for ``body`` sent at ``now``."""
    timestamp = _unix(now)
    return f"t={timestamp},{SIGNATURE_SCHEME}={compute_signature(secret, timestamp, body)}"


def parse_signature_header(header: str) -> tuple[int, tuple[str, ...]]:
    """The timestamp and the ``v1`` signatures of a header; unknown schemes are ignored."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise MalformedSignatureHeader(f"signature header part {part.strip()!r} is not key=value")
        if key == "t":
            if not value.isdigit():
                raise MalformedSignatureHeader(f"signature timestamp {value!r} is not unix seconds")
            timestamp = int(value)
        elif key == SIGNATURE_SCHEME:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise MalformedSignatureHeader("signature header must look like t=<unix seconds>,v1=<hex>")
    return timestamp, tuple(signatures)


def verify(
    secret: str | bytes,
    body: str | bytes,
    header: str,
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check the header against the body and secret, within ``tolerance_seconds`` of ``now``; return its timestamp."""
    timestamp, signatures = parse_signature_header(header)
    age = _unix(now) - timestamp
    # A timestamp far in the future is refused too: it would stay "fresh" long enough to replay.
    if abs(age) > tolerance_seconds:
        raise StaleSignature(
            f"signature timestamp {timestamp} is {abs(age)} s {'old' if age > 0 else 'in the future'}; "
            f"tolerance is {tolerance_seconds} s"
        )
    expected = compute_signature(secret, timestamp, body)
    # Compare every candidate in constant time so the position of a match leaks nothing either.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise SignatureMismatch("no v1 signature matches this body and secret")
    return timestamp


def backoff_delay(
    attempt: int,
    *,
    base_seconds: float = 10.0,
    factor: float = 2.0,
    cap_seconds: float = 3600.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): exponential, capped, less up to ``jitter`` of it."""
    if attempt < 1:
        raise DomainError(f"attempt numbers start at 1, got {attempt}")
    if not 0.0 <= jitter <= 1.0:
        raise DomainError(f"jitter must be between 0 and 1, got {jitter}")
    # Cap the exponent first so a high attempt number cannot overflow the float.
    delay = cap_seconds if attempt > 64 else min(cap_seconds, base_seconds * factor ** (attempt - 1))
    # Jitter only shortens the wait, so the cap stays a hard upper bound and retries spread out.
    return delay * (1.0 - jitter * (rng or random.Random()).random())


def retry_schedule(
    max_attempts: int,
    *,
    base_seconds: float = 10.0,
    factor: float = 2.0,
    cap_seconds: float = 3600.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> list[float]:
    """The waits before each of ``max_attempts`` retries; pass a seeded ``rng`` for a repeatable schedule."""
    generator = rng or random.Random()
    return [
        backoff_delay(
            attempt, base_seconds=base_seconds, factor=factor, cap_seconds=cap_seconds, jitter=jitter, rng=generator
        )
        for attempt in range(1, max_attempts + 1)
    ]
