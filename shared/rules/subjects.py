"""Subject identifiers: their kinds, their normal forms, and the keyed hash that stands in for them.

Every privops service names a person by a *subject reference*, never by a raw email or phone
number. Normalising first means the same person always gets the same reference whatever spacing
or case the product sent; keying the hash means a leaked table cannot be reversed by hashing a
list of known emails without also stealing the key.

A reference is computed in three steps (version 2; ``docs/subject-references.md`` has a worked
example with every intermediate value):

1. ``v1 = hex(HMAC-SHA256(master key, "<kind>:<normalised value>"))`` — the version 1 reference;
2. ``K_tenant = HKDF-SHA256(master key, salt=None, info=b"privops subject-ref v2 tenant:" + tenant id,
   length=32)`` (RFC 5869, https://www.rfc-editor.org/rfc/rfc5869);
3. ``subject_ref = hex(HMAC-SHA256(K_tenant, v1 as ASCII))``: 64 lowercase hex characters.

Version 1 used the master key alone, so the same email gave the same reference in every tenant and
references linked one person across customers. Keying each tenant apart removes that link (the
same person in two tenants gets unrelated references) — data protection by design, GDPR Art. 25
and Art. 4(5) (https://eur-lex.europa.eu/eli/reg/2016/679/oj).

Why v2 is a hash *of the v1 reference* rather than of the identifier: the services keep only
references, never the identifiers they came from, so a migration could not recompute a reference
from an identifier. Nesting lets it compute every v2 reference from the stored v1 reference and the
row's tenant (``rekey_v1``), and no link between a person's records is lost. The v1 reference is
only an intermediate value: nothing stores or publishes it any more.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from enum import StrEnum
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.rules.errors import RuleViolation


class IdentifierError(RuleViolation):
    """An identifier cannot be used; the message names the field, never the value (it is personal data)."""

    code: ClassVar[str] = "invalid-identifier"
    title: ClassVar[str] = "Malformed identifier"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class InvalidIdentifier(IdentifierError):
    """An identifier (email, phone, id) is malformed."""


class UnknownIdentifierKind(IdentifierError):
    """The identifier kind is not one privops knows."""

    code = "unknown-identifier-kind"
    title = "Unknown identifier kind"


class InvalidSubjectKey(IdentifierError):
    """The key used to hash subject references is missing or too short (a deployment fault)."""

    code = "invalid-subject-key"
    title = "Subject reference key is unusable"
    status = 500


class InvalidTenant(IdentifierError):
    """A subject reference was asked for without a usable tenant id (a programming fault)."""

    code = "invalid-tenant"
    title = "Subject reference needs a tenant"
    status = 500


class IdentifierKind(StrEnum):
    """The kinds of identifier a product may use to name a person."""

    USER_ID = "user_id"
    EMAIL = "email"
    PHONE = "phone"
    COOKIE_ID = "cookie_id"
    CUSTOMER_ID = "customer_id"
    DEVICE_ID = "device_id"


MAX_ID_LENGTH = 256
MIN_KEY_BYTES = 16  # 128 bits: below this the key could be guessed, and the references reversed.
SUBJECT_REF_LENGTH = 64
TENANT_KEY_INFO = b"privops subject-ref v2 tenant:"  # HKDF info prefix; the tenant id (UTF-8) follows
TENANT_KEY_BYTES = 32

_SUBJECT_REF = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")  # \s: what str.isspace() calls a space
# RFC 5322 dot-atom for the local part; non-ASCII letters allowed for internationalised addresses (RFC 6531).
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL_PART = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PHONE_CHARS = re.compile(r"^\+?[0-9\s().\-/]+$", re.ASCII)


_KINDS: dict[str, IdentifierKind] = {kind.value: kind for kind in IdentifierKind}


def parse_identifier_kind(kind: IdentifierKind | str) -> IdentifierKind:
    """Turn a kind name such as ``"email"`` into an ``IdentifierKind``; reject unknown kinds."""
    if isinstance(kind, IdentifierKind):
        return kind
    if isinstance(kind, str) and (usual := _KINDS.get(kind)) is not None:  # the usual spelling, no enum lookup
        return usual
    try:
        return IdentifierKind(kind.strip().lower() if isinstance(kind, str) else kind)
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise UnknownIdentifierKind("kind", f"unknown identifier kind {kind!r}; use one of {known}") from None


def normalise_email(value: str) -> str:
    """Trim and lowercase an email address, convert an internationalised domain to ASCII, and check its shape."""
    # Error messages never repeat the value: they end up in logs, and an email is personal data.
    text = unicodedata.normalize("NFC", _require_text(IdentifierKind.EMAIL, value).strip()).lower()
    if not text:
        raise InvalidIdentifier("email", "is empty")
    if _SPACE_OR_CONTROL.search(text):
        raise InvalidIdentifier("email", "must not contain spaces or control characters")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise InvalidIdentifier("email", "must have exactly one '@' with a local part and a domain")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise InvalidIdentifier("email", "local part (before '@') is malformed or longer than 64 characters")
    address = f"{local}@{_email_domain(domain.rstrip('.'))}"
    if len(address) > 254:
        raise InvalidIdentifier("email", "is longer than 254 characters")
    # Sub-addresses ("+tag") and Gmail dots are kept: stripping them would merge addresses that may
    # belong to different people on other providers.
    return address


def normalise_phone(value: str) -> str:
    """Turn an international phone number such as ``+33 6 12-34-56-78`` into E.164 (``+33612345678``)."""
    # Collapse any Unicode space (a non-breaking space is common in formatted numbers) to a plain one.
    text = " ".join(_require_text(IdentifierKind.PHONE, value).split())
    if not text:
        raise InvalidIdentifier("phone", "is empty")
    international = text.startswith(("+", "00"))
    # "+44 (0)20 …" is a common way to show the trunk prefix that callers from abroad must drop.
    if international:
        text = text.replace("(0)", "", 1)
    if not _PHONE_CHARS.fullmatch(text) or "+" in text[1:]:
        raise InvalidIdentifier("phone", "may contain only digits, one leading '+', spaces, dots, dashes and brackets")
    if not international:
        raise InvalidIdentifier("phone", "must be in international format with its country code (+33…, 0033…)")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not 7 <= len(digits) <= 15:
        raise InvalidIdentifier("phone", "must have between 7 and 15 digits including the country code (E.164)")
    if digits.startswith("0"):
        raise InvalidIdentifier("phone", "country code cannot start with 0")
    return "+" + digits


def normalise_identifier(kind: IdentifierKind | str, value: str) -> str:
    """Return the normal form of an identifier of the given kind, or raise ``InvalidIdentifier``."""
    kind = parse_identifier_kind(kind)
    if kind is IdentifierKind.EMAIL:
        return normalise_email(value)
    if kind is IdentifierKind.PHONE:
        return normalise_phone(value)
    # Opaque ids keep their case: products often issue case-sensitive tokens.
    text = _require_text(kind, value).strip()
    if not text:
        raise InvalidIdentifier(kind.value, "is empty")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidIdentifier(kind.value, f"is longer than {MAX_ID_LENGTH} characters")
    if _CONTROL.search(text):
        raise InvalidIdentifier(kind.value, "must not contain control characters")
    return text


def subject_ref(key: bytes, kind: IdentifierKind | str, value: str, *, tenant: str) -> str:
    """The tenant's subject reference of an identifier: ``rekey_v1(key, tenant, subject_ref_v1(key, kind, value))``."""
    return _rekey(_tenant_hmac(_check_key(key), _check_tenant(tenant)), subject_ref_v1(key, kind, value))


def subject_ref_v1(key: bytes, kind: IdentifierKind | str, value: str) -> str:
    """The version 1 reference: hex HMAC-SHA256 of ``"<kind>:<normalised value>"`` under the master key.

    The same in every tenant: an intermediate value of ``subject_ref``, never stored or published.
    """
    raw = _check_key(key)
    kind = parse_identifier_kind(kind)
    # The kind is part of the message so that a user id "42" and a customer id "42" never collide.
    message = f"{kind.value}:{normalise_identifier(kind, value)}".encode()
    digest = _keyed(raw).copy()  # the key's inner and outer pads are hashed once, not per subject
    digest.update(message)
    return digest.hexdigest()


def tenant_subject_key(key: bytes, tenant: str) -> bytes:
    """The tenant's 32-byte key: HKDF-SHA256 of the master key, no salt, info ``TENANT_KEY_INFO`` + tenant id."""
    return _derive(_check_key(key), _check_tenant(tenant))


def rekey_v1(key: bytes, tenant: str, v1_ref: str) -> str:
    """The version 2 reference of a stored version 1 reference: hex HMAC-SHA256(tenant key, v1 as ASCII)."""
    if not is_subject_ref(v1_ref):
        raise InvalidIdentifier("subject_ref", "must be a 64-character version 1 subject reference")
    return _rekey(_tenant_hmac(_check_key(key), _check_tenant(tenant)), v1_ref)


def _rekey(tenant_digest: hmac.HMAC, v1_ref: str) -> str:
    digest = tenant_digest.copy()
    digest.update(v1_ref.encode("ascii"))
    return digest.hexdigest()


def _check_key(key: object) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise InvalidSubjectKey("key", f"the subject-reference key must be at least {MIN_KEY_BYTES} random bytes")
    return bytes(key)


def _check_tenant(tenant: object) -> str:
    if not isinstance(tenant, str) or not tenant:
        raise InvalidTenant("tenant", "a subject reference is computed for one tenant: give its id")
    return tenant


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


@functools.lru_cache(maxsize=1024)
def _derive(key: bytes, tenant: str) -> bytes:
    """HKDF runs once per (key, tenant): references are computed on every consent write and check."""
    info = TENANT_KEY_INFO + tenant.encode()
    return HKDF(algorithm=hashes.SHA256(), length=TENANT_KEY_BYTES, salt=None, info=info).derive(key)


@functools.lru_cache(maxsize=1024)
def _tenant_hmac(key: bytes, tenant: str) -> hmac.HMAC:
    return hmac.new(_derive(key, tenant), digestmod=hashlib.sha256)


def is_subject_ref(value: object) -> bool:
    """True when the value has the shape of a subject reference (64 lowercase hex characters)."""
    return isinstance(value, str) and _SUBJECT_REF.fullmatch(value) is not None


def _require_text(kind: IdentifierKind, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind.value, f"must be a string, not {type(value).__name__}")
    return value


@functools.lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    """The ASCII form of an email domain, checked (cached: a few domains cover most addresses)."""
    domain = _ascii_domain(domain)
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise InvalidIdentifier("email", "domain must be a host name such as example.com")
    return domain


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        # IDNA turns "bücher.de" into "xn--bcher-kva.de", so both spellings give the same reference.
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentifier("email", "domain is not a valid internationalised host name") from None
