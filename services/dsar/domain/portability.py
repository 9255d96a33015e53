"""Portability to another controller: which receiving endpoints are acceptable, and when to try again.

A portability request may name the controller the data goes to and its endpoint, so the data is
"transmitted directly from one controller to another, where technically feasible" (GDPR Art. 20(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). The endpoint is chosen by whoever files the request,
so it must never point the service at its own network (server-side request forgery): only HTTPS to a
public address; plain HTTP and loopback only in an explicit development mode.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .errors import DomainError

MAX_ENDPOINT_LENGTH = 2000
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# Names that only mean something inside a private network (RFC 6762, RFC 8375, common conventions).
PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain", ".corp")
# Answers worth trying again: the receiver was busy or failed, not that it refused the package.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


class InvalidEndpoint(DomainError):
    """The receiving controller's endpoint is not an HTTPS URL of a public address (or is otherwise unusable)."""

    code = "invalid-transfer-endpoint"
    title = "Invalid receiving endpoint"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    address = _address(host)
    return address.is_loopback if address is not None else host.lower().rstrip(".") in LOOPBACK_NAMES


def is_public_address(host: str) -> bool:
    """True for an internet-routable address: not private, loopback, link-local, shared, reserved or multicast."""
    address = _address(host)
    return address is not None and address.is_global and not address.is_multicast


def check_endpoint(url: str, *, allow_loopback: bool = False) -> str:
    """The endpoint, trimmed, when the service may send a package to it; ``InvalidEndpoint`` otherwise.

    ``allow_loopback`` (development and tests only) admits ``http://`` and ``https://`` to 127.0.0.1,
    ::1 and localhost. A host name is checked again once resolved (``check_resolved``), before each send.
    """
    url = url.strip()
    field = "details.target_endpoint"
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise InvalidEndpoint(f"{field}: at most {MAX_ENDPOINT_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidEndpoint(f"{field}: not a URL ({exc})") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidEndpoint(f"{field}: give the receiving controller's https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidEndpoint(f"{field}: credentials in the URL are not accepted; the package is signed instead")
    if parts.fragment:
        raise InvalidEndpoint(f"{field}: a URL fragment is never sent; leave it out")
    if port == 0:
        raise InvalidEndpoint(f"{field}: port 0 is not a port")
    if is_loopback_host(host):
        if not allow_loopback:
            raise InvalidEndpoint(f"{field}: {host} is this machine; give the receiving controller's public URL")
        return url
    if parts.scheme != "https":
        raise InvalidEndpoint(f"{field}: the package holds personal data and travels over https:// only")
    if _address(host) is not None:
        if not is_public_address(host):
            raise InvalidEndpoint(f"{field}: {host} is not a public address")
        return url
    if "." not in host.rstrip(".") or host.rstrip(".").endswith(PRIVATE_SUFFIXES):
        raise InvalidEndpoint(f"{field}: {host} is a name of a private network; give a public host name")
    return url


def check_resolved(host: str, addresses: Iterable[str], *, allow_loopback: bool = False) -> None:
    """Refuse a host whose name resolves to any non-public address (``InvalidEndpoint``), or to none."""
    found = list(addresses)
    if not found:
        raise InvalidEndpoint(f"{host} does not resolve to any address")
    for address in found:
        if is_public_address(address) or (allow_loopback and is_loopback_host(address)):
            continue
        raise InvalidEndpoint(f"{host} resolves to {address}, which is not a public address")


def is_retryable(status: int | None) -> bool:
    """True when a failed send may succeed later: no answer, a 5xx, or a busy/conflict answer (408, 409, 425, 429).

    Any other 4xx means the receiver refused this package (a bad signature, a format it does not
    take): sending the same bytes again would be refused again.
    """
    return status is None or status >= 500 or status in RETRYABLE_STATUSES


def retry_delay(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """How long to wait after failed ``attempt`` (1 for the first): ``base`` doubled each time, at most ``cap``."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # Capping the exponent first keeps the multiplication small after many attempts.
    delay: timedelta = base * 2 ** min(attempt - 1, 32)
    return min(delay, cap)


def next_attempt_at(
    attempts: int, now: datetime, *, max_attempts: int, base: timedelta, cap: timedelta
) -> datetime | None:
    """When to try again after ``attempts`` failed sends, or None once ``max_attempts`` were made."""
    if attempts >= max_attempts:
        return None
    return now + retry_delay(attempts, base=base, cap=cap)
