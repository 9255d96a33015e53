"""Webhook signatures (Standard Webhooks scheme) and the delivery state machine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.domain import (
    DeliveryState,
    IllegalTransition,
    InvalidSignature,
    RetryPolicy,
    http_is_transient,
    new_secret,
    sign,
    smtp_is_transient,
    transition,
    verify,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
# The test vector of the Standard Webhooks specification's reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_vector() -> None:
    headers = sign([VECTOR_SECRET], VECTOR_ID, datetime.fromtimestamp(VECTOR_TS, UTC), VECTOR_BODY)
    assert headers["webhook-signature"] == VECTOR_SIGNATURE
    verify(VECTOR_SECRET, headers, VECTOR_BODY, datetime.fromtimestamp(VECTOR_TS + 60, UTC))


def test_a_receiver_checks_with_the_standard_library_alone() -> None:
    secret = new_secret()
    body = b'{"event": "subprocessor.change"}'
    headers = sign([secret], "m-1", NOW, body)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert expected in headers["webhook-signature"].split()


def test_tampered_body_old_timestamp_and_wrong_secret_are_refused() -> None:
    secret = new_secret()
    headers = sign([secret], "m-1", NOW, b"{}")
    with pytest.raises(InvalidSignature):
        verify(secret, headers, b'{"x": 1}', NOW)
    with pytest.raises(InvalidSignature):
        verify(secret, headers, b"{}", NOW + timedelta(minutes=6))
    with pytest.raises(InvalidSignature):
        verify(new_secret(), headers, b"{}", NOW)
    with pytest.raises(InvalidSignature):
        verify(secret, {"webhook-id": "m-1"}, b"{}", NOW)


def test_rotation_signs_with_both_secrets() -> None:
    old, new = new_secret(), new_secret()
    headers = sign([new, old], "m-2", NOW, b"{}")
    verify(old, headers, b"{}", NOW)
    verify(new, headers, b"{}", NOW)


def test_transitions() -> None:
    assert transition(DeliveryState.QUEUED, DeliveryState.SENT) is DeliveryState.SENT
    assert transition(DeliveryState.SENT, DeliveryState.BOUNCED) is DeliveryState.BOUNCED
    assert transition(DeliveryState.RETRYING, DeliveryState.DELIVERED) is DeliveryState.DELIVERED
    for final in (DeliveryState.DELIVERED, DeliveryState.BOUNCED, DeliveryState.FAILED):
        with pytest.raises(IllegalTransition):
            transition(final, DeliveryState.SENT)


def test_backoff_grows_is_capped_and_ends() -> None:
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=30), cap=timedelta(minutes=4))
    rng = random.Random(7)
    waits = [(policy.next_attempt(n, NOW, rng) or NOW) - NOW for n in range(1, 5)]
    assert timedelta(seconds=15) <= waits[0] <= timedelta(seconds=30)
    assert timedelta(minutes=2) <= waits[3] <= timedelta(minutes=4)
    assert policy.next_attempt(5, NOW, rng) is None


def test_what_is_retried() -> None:
    assert smtp_is_transient(451) and not smtp_is_transient(550)
    assert http_is_transient(503) and http_is_transient(429) and http_is_transient(408)
    assert not http_is_transient(400) and not http_is_transient(404)
