"""Webhook signatures and the retry schedule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.subprocessor.domain import (
    DomainError,
    MalformedSignatureHeader,
    NaiveDatetime,
    SignatureMismatch,
    StaleSignature,
    backoff_delay,
    compute_signature,
    parse_signature_header,
    retry_schedule,
    sign,
    verify,
)

SECRET = "whsec_test"
BODY = b'{"id":"chg-1"}'
NOW = datetime(2026, 11, 21, tzinfo=UTC)  # unix 1795219200
# Computed independently: printf '%s' '1795219200.{"id":"chg-1"}' | openssl dgst -sha256 -hmac whsec_test
EXPECTED = "56da8ceea0028edf4c61763daf8d6e3eaea66e765866a60875f626cd432023e3"


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    assert compute_signature(SECRET, 1795219200, BODY) == EXPECTED
    assert compute_signature(SECRET.encode(), 1795219200, BODY.decode()) == EXPECTED


def test_header_format() -> None:
    assert sign(SECRET, BODY, now=NOW) == f"t=1795219200,v1={EXPECTED}"


def test_sign_then_verify() -> None:
    header = sign(SECRET, BODY, now=NOW)
    assert verify(SECRET, BODY, header, now=NOW + timedelta(seconds=299)) == 1795219200


def test_tampered_body_fails() -> None:
    header = sign(SECRET, BODY, now=NOW)
    with pytest.raises(SignatureMismatch):
        verify(SECRET, b'{"id":"chg-2"}', header, now=NOW)


def test_wrong_secret_fails() -> None:
    header = sign(SECRET, BODY, now=NOW)
    with pytest.raises(SignatureMismatch):
        verify("whsec_other", BODY, header, now=NOW)


def test_stale_timestamp_fails() -> None:
    header = sign(SECRET, BODY, now=NOW)
    assert verify(SECRET, BODY, header, now=NOW + timedelta(seconds=300))
    with pytest.raises(StaleSignature, match="301 s old; tolerance is 300 s"):
        verify(SECRET, BODY, header, now=NOW + timedelta(seconds=301))


def test_timestamp_from_the_future_fails() -> None:
    header = sign(SECRET, BODY, now=NOW + timedelta(minutes=10))
    with pytest.raises(StaleSignature, match="in the future"):
        verify(SECRET, BODY, header, now=NOW)


def test_custom_tolerance() -> None:
    header = sign(SECRET, BODY, now=NOW)
    assert verify(SECRET, BODY, header, now=NOW + timedelta(minutes=9), tolerance_seconds=600)
    with pytest.raises(StaleSignature):
        verify(SECRET, BODY, header, now=NOW + timedelta(seconds=61), tolerance_seconds=60)


def test_changing_the_timestamp_invalidates_the_signature() -> None:
    forged = f"t=1795219260,v1={EXPECTED}"
    with pytest.raises(SignatureMismatch):
        verify(SECRET, BODY, forged, now=NOW)


def test_any_of_several_v1_signatures_may_match_during_secret_rotation() -> None:
    old = compute_signature("whsec_old", 1795219200, BODY)
    header = f"t=1795219200,v1={old},v1={EXPECTED},v0=ignored"
    assert parse_signature_header(header) == (1795219200, (old, EXPECTED))
    assert verify(SECRET, BODY, header, now=NOW) == 1795219200


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", "t=1795219200", "t=soon,v1=abc", "t=1795219200;v1=abc", "t=-5,v1=abc", "garbage"],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(MalformedSignatureHeader):
        verify(SECRET, BODY, header, now=NOW)


def test_empty_secret_and_naive_time_are_refused() -> None:
    with pytest.raises(DomainError, match="secret must not be empty"):
        sign("", BODY, now=NOW)
    with pytest.raises(NaiveDatetime):
        sign(SECRET, BODY, now=datetime(2026, 11, 21))


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    delays = [backoff_delay(attempt, base_seconds=10, cap_seconds=300, jitter=0) for attempt in range(1, 8)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert backoff_delay(10_000, cap_seconds=300, jitter=0) == 300


def test_seeded_schedule_is_repeatable_and_within_bounds() -> None:
    first = retry_schedule(8, rng=random.Random(42))
    assert first == retry_schedule(8, rng=random.Random(42))
    assert first[0] == pytest.approx(8.721146403084232)
    ceilings = [min(3600.0, 10.0 * 2 ** (attempt - 1)) for attempt in range(1, 9)]
    for delay, ceiling in zip(first, ceilings, strict=True):
        assert 0.8 * ceiling <= delay <= ceiling


def test_backoff_rejects_bad_arguments() -> None:
    with pytest.raises(DomainError, match="start at 1"):
        backoff_delay(0)
    with pytest.raises(DomainError, match="between 0 and 1"):
        backoff_delay(1, jitter=1.5)
