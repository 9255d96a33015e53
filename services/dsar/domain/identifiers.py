"""Subject identifiers: kinds, normal forms and the keyed subject reference every service agrees on.

``subject_ref`` is ``HMAC-SHA256(key, "<kind>:<normalised value>")`` in lowercase hex, the same
scheme as the consent service's, so a person has one reference across privops. It is written
again here (services never import each other); a unit test checks both give the same references.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from enum import StrEnum

from .errors import InvalidIdentifier


class IdentifierKind(StrEnum):
    """The kinds of identifier a product may use to name a person."""

    USER_ID = "user_id"
    EMAIL = "email"
    PHONE = "phone"
    COOKIE_ID = "cookie_id"
    CUSTOMER_ID = "customer_id"
    DEVICE_ID = "device_id"


MAX_ID_LENGTH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL_PART = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PHONE_CHARS = re.compile(r"^\+?[0-9\s().\-/]+$", re.ASCII)


def parse_kind(kind: str) -> IdentifierKind:
    """The identifier kind named ``kind``; raise ``InvalidIdentifier`` for an unknown one."""
    try:
        return IdentifierKind(kind.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise InvalidIdentifier("kind", f"unknown identifier kind {kind!r}; use one of {known}") from None


def normalise_email(value: str) -> str:
    """Trim and lowercase an address, IDNA-encode its domain, and check its shape."""
    text = unicodedata.normalize("NFC", value.strip()).lower()
    if not text or any(ch.isspace() for ch in text) or _CONTROL.search(text):
        raise InvalidIdentifier("email", "is empty or contains spaces or control characters")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise InvalidIdentifier("email", "must have exactly one '@' with a local part and a domain")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise InvalidIdentifier("email", "local part (before '@') is malformed or longer than 64 characters")
    domain = domain.rstrip(".")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidIdentifier("email", "domain is not a valid internationalised host name") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise InvalidIdentifier("email", "domain must be a host name such as example.com")
    address = f"{local}@{domain}"
    if len(address) > 254:
        raise InvalidIdentifier("email", "is longer than 254 characters")
    return address


def normalise_phone(value: str) -> str:
    """An international number in E.164 (``+33612345678``)."""
    text = " ".join(value.split())
    international = text.startswith(("+", "00"))
    if international:
        text = text.replace("(0)", "", 1)
    if not text or not _PHONE_CHARS.fullmatch(text) or "+" in text[1:]:
        raise InvalidIdentifier("phone", "may contain only digits, one leading '+', spaces, dots, dashes and brackets")
    if not international:
        raise InvalidIdentifier("phone", "must be in international format with its country code (+33…, 0033…)")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not 7 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidIdentifier("phone", "must have 7 to 15 digits with a country code not starting with 0 (E.164)")
    return "+" + digits


def normalise(kind: str, value: str) -> str:
    """The normal form of an identifier of ``kind``."""
    parsed = parse_kind(kind)
    if parsed is IdentifierKind.EMAIL:
        return normalise_email(value)
    if parsed is IdentifierKind.PHONE:
        return normalise_phone(value)
    text = value.strip()
    if not text or len(text) > MAX_ID_LENGTH or _CONTROL.search(text):
        raise InvalidIdentifier(parsed.value, f"must be 1 to {MAX_ID_LENGTH} characters without control characters")
    return text


def subject_ref(key: bytes, kind: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``"<kind>:<normalised value>"`` with the tenant-wide subject key."""
    message = f"{parse_kind(kind).value}:{normalise(kind, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
