"""Portability to another controller: which endpoints are accepted, the retry schedule, the request details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.dsar.domain import InvalidRequestDetails, RequestDetails, validate_details
from services.dsar.domain import RequestType as T
from services.dsar.domain.portability import (
    InvalidEndpoint,
    check_endpoint,
    check_resolved,
    is_retryable,
    next_attempt_at,
    retry_delay,
)
from services.dsar.settings import DsarSettings


@pytest.mark.parametrize(
    "url",
    [
        "https://receiver.example.com/v1/portability",
        "https://receiver.example.com:8443/in?tenant=7",
        "https://93.184.216.34/in",
        "https://[2606:4700::1111]/in",
        "  https://bank.example/import  ",
    ],
)
def test_public_https_endpoints_are_accepted(url: str) -> None:
    assert check_endpoint(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://receiver.example.com/in", "https:// only"),
        ("ftp://receiver.example.com/in", "https:// URL"),
        ("receiver.example.com/in", "https:// URL"),
        ("https:///in", "https:// URL"),
        ("https://user:secret@receiver.example.com/in", "credentials"),
        ("https://receiver.example.com/in#frag", "fragment"),
        ("https://receiver.example.com:99999/in", "not a URL"),
        ("https://10.0.0.8/in", "not a public address"),
        ("https://172.16.4.1/in", "not a public address"),
        ("https://192.168.1.10/in", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),  # cloud metadata
        ("https://100.64.0.1/in", "not a public address"),  # carrier-grade NAT
        ("https://0.0.0.0/in", "not a public address"),
        ("https://[fd00::1]/in", "not a public address"),
        ("https://[fe80::1]/in", "not a public address"),
        ("https://[::ffff:10.0.0.1]/in", "not a public address"),
        ("https://224.0.0.1/in", "not a public address"),
        ("https://127.0.0.1/in", "this machine"),
        ("https://localhost/in", "this machine"),
        ("http://[::1]:8080/in", "this machine"),
        ("https://intranet/in", "private network"),
        ("https://printer.local/in", "private network"),
        ("https://db.internal/in", "private network"),
        ("https://" + "a" * 2000 + ".example/in", "at most"),
    ],
)
def test_endpoints_that_would_reach_a_private_network_are_refused(url: str, why: str) -> None:
    with pytest.raises(InvalidEndpoint, match=why) as raised:
        check_endpoint(url)
    assert raised.value.status == 422


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/in", "https://localhost/in", "http://[::1]:9/in"])
def test_loopback_over_http_only_when_the_development_setting_allows_it(url: str) -> None:
    assert check_endpoint(url, allow_loopback=True) == url
    with pytest.raises(InvalidEndpoint):
        check_endpoint(url)


def test_the_loopback_setting_opens_no_private_range() -> None:
    for url in ("http://10.0.0.8/in", "https://192.168.1.10/in", "http://receiver.example.com/in"):
        with pytest.raises(InvalidEndpoint):
            check_endpoint(url, allow_loopback=True)


def test_a_name_is_checked_again_once_resolved() -> None:
    check_resolved("receiver.example.com", ["93.184.216.34", "2606:4700::1111"])
    with pytest.raises(InvalidEndpoint, match=r"resolves to 10\.1\.2\.3"):
        check_resolved("rebound.example.com", ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(InvalidEndpoint, match="does not resolve"):
        check_resolved("gone.example.com", [])
    with pytest.raises(InvalidEndpoint):
        check_resolved("localhost", ["127.0.0.1"])
    check_resolved("localhost", ["127.0.0.1", "::1"], allow_loopback=True)


def test_retry_delay_doubles_from_the_base_up_to_the_cap() -> None:
    base, cap = timedelta(minutes=1), timedelta(hours=1)
    delays = [retry_delay(n, base=base, cap=cap) for n in range(1, 9)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert retry_delay(10_000, base=base, cap=cap) == cap
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0, base=base, cap=cap)


def test_no_next_attempt_once_the_cap_is_reached() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    schedule = {"max_attempts": 3, "base": timedelta(seconds=60), "cap": timedelta(hours=6)}
    assert next_attempt_at(1, now, **schedule) == now + timedelta(seconds=60)
    assert next_attempt_at(2, now, **schedule) == now + timedelta(seconds=120)
    assert next_attempt_at(3, now, **schedule) is None


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        *[(status, True) for status in (None, 500, 502, 503, 408, 429, 409)],
        *[(status, False) for status in (400, 401, 403, 404, 413, 422, 301)],
    ],
)
def test_only_busy_or_broken_answers_are_retried(status: int | None, retry: bool) -> None:
    assert is_retryable(status) is retry


def test_a_receiving_endpoint_needs_the_controller_and_a_portability_request() -> None:
    details = validate_details(
        T.PORTABILITY, RequestDetails(target_controller=" Bank SA ", target_endpoint=" https://bank.example/in ")
    )
    assert (details.target_controller, details.target_endpoint) == ("Bank SA", "https://bank.example/in")
    with pytest.raises(InvalidRequestDetails, match="name the controller"):
        validate_details(T.PORTABILITY, RequestDetails(target_endpoint="https://bank.example/in"))
    with pytest.raises(InvalidRequestDetails, match="only a portability"):
        validate_details(T.ACCESS, RequestDetails(target_endpoint="https://bank.example/in"))
    assert validate_details(T.PORTABILITY, RequestDetails(target_controller="Bank SA")).target_endpoint is None


def test_the_loopback_setting_is_refused_in_production() -> None:
    values = {
        "database_url": "postgresql+asyncpg://x@127.0.0.1/db",
        "kafka_bootstrap_servers": "127.0.0.1:9092",
        "subject_hash_key": "h" * 40,
        "signing_key": "s" * 40,
        "portability_loopback": True,
    }
    assert DsarSettings(**values, environment="test", jwt_secret="j" * 40).portability_loopback
    with pytest.raises(ValidationError, match="DSAR_PORTABILITY_LOOPBACK"):
        DsarSettings(
            **values,
            environment="production",
            identity_url="https://identity.example",
            client_id="dsar",
            client_secret="c" * 40,
        )
