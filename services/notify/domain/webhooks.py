"""Signed webhooks, in the Standard Webhooks scheme (https://www.standardwebhooks.com/).

A receiver checks a delivery with nothing but its secret:

- the request carries ``webhook-id`` (the message id, the same on every retry), ``webhook-timestamp``
  (seconds since the epoch) and ``webhook-signature`` (space-separated ``v1,<base64>`` entries);
- the signed content is ``f"{webhook_id}.{webhook_timestamp}.{body}"`` (the raw body bytes);
- each ``v1`` signature is base64(HMAC-SHA256(secret, signed content)), where the secret is the
  bytes that follow ``whsec_`` in the endpoint's secret, base64-decoded;
- a timestamp more than five minutes away from the receiver's clock is refused (replay).

During a rotation the request carries one signature per active secret, so a receiver that still
holds the old secret keeps verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from .errors import InvalidSignature

SECRET_PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as exc:
        raise InvalidSignature("the webhook secret is not base64 after 'whsec_'") from exc


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of ``body`` sent as message ``message_id`` at ``timestamp``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secrets_: Sequence[str], message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with every active secret (the newest first)."""
    timestamp = int(at.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, now: datetime) -> None:
    """Raise ``InvalidSignature`` unless ``headers`` sign ``body`` with ``secret`` within the tolerance."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id, raw_ts, given = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
        timestamp = int(raw_ts)
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed webhook-id, webhook-timestamp or webhook-signature") from exc
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise InvalidSignature("the webhook timestamp is outside the five-minute tolerance")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in given.split()):
        raise InvalidSignature("no signature matches the body")
