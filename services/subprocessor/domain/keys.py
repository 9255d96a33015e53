"""Keyed hashes of the subprocessor service: contact references, webhook secrets, notice tokens (no I/O).

``contact_subject_ref`` uses the platform's subject-reference scheme (``shared.rules.subjects``:
keyed per tenant) so a contact's reference equals the one the consent and DSAR services compute
for the same address in the same tenant. Webhook secrets and notice tokens
are derived from the signing key, so no secret is ever stored in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from shared.rules import subjects

from .errors import DomainError

MIN_KEY_BYTES = 16


class InvalidContactEmail(DomainError):
    """A contact's email address is not an address."""

    field = "email"


def _key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise DomainError(f"keys must be at least {MIN_KEY_BYTES} bytes")
    return bytes(key)


def normalise_email(value: str) -> str:
    """The normal form of a contact's address (the cross-service scheme of ``shared.rules.subjects``)."""
    try:
        return subjects.normalise_email(value)
    except subjects.InvalidIdentifier:
        # The message never repeats the address: it ends up in logs and problem responses.
        raise InvalidContactEmail("the contact email is not an address such as dpo@example.com") from None


def contact_subject_ref(key: bytes, email: str, *, tenant: str) -> str:
    """The contact's subject reference, the same one every privops service computes for that email in the tenant."""
    normalise_email(email)  # the contact-specific error for a malformed address
    return subjects.subject_ref(_key(key), subjects.IdentifierKind.EMAIL, email, tenant=tenant)


def webhook_secret(key: bytes, tenant_id: str, customer_id: uuid.UUID, version: int) -> str:
    """The customer's webhook signing secret: rotated by bumping ``version``, never stored."""
    message = f"webhook-secret:{tenant_id}:{customer_id}:{version}".encode()
    return "whsec_" + hmac.new(_key(key), message, hashlib.sha256).hexdigest()


def notice_token(key: bytes, tenant_id: str, notice_id: uuid.UUID) -> str:
    """The capability a notice carries so its customer can acknowledge it or object without an account."""
    message = f"notice:{tenant_id}:{notice_id}".encode()
    return hmac.new(_key(key), message, hashlib.sha256).hexdigest()


def check_notice_token(key: bytes, tenant_id: str, notice_id: uuid.UUID, presented: str) -> bool:
    """True when ``presented`` is the notice's token (constant-time comparison)."""
    return hmac.compare_digest(notice_token(key, tenant_id, notice_id), presented)
