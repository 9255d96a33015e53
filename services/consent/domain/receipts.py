"""The Kantara Consent Receipt v1.1 shape of a receipt, kept for tools that read only that format.

Field names follow the Kantara Initiative Consent Receipt Specification v1.1
(https://kantarainitiative.org/file-downloads/consent-receipt-specification-v1-1-0/). privops'
receipts are built, signed and kept in the fields of ISO/IEC TS 27560:2023 (``iso_receipts``); this
builder gives the Kantara view of one. ``piiPrincipalId`` is always the keyed subject reference,
never a raw email or phone number: receipts are copied, mailed and archived.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from services.consent.domain.decisions import require_aware
from services.consent.domain.errors import InvalidReceipt, InvalidTimestamp
from services.consent.domain.identifiers import is_subject_ref

RECEIPT_VERSION = "KI-CR-v1.1.0"
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


class ConsentType(StrEnum):
    """How consent was expressed."""

    EXPLICIT = "EXPLICIT"
    IMPLICIT = "IMPLICIT"


@dataclass(frozen=True, slots=True)
class ReceiptController:
    """A PII controller named on the receipt, with the contact point the person can reach."""

    name: str
    contact: str
    address: Mapping[str, str] | str
    email: str
    phone: str
    url: str | None = None
    on_behalf: bool = False


@dataclass(frozen=True, slots=True)
class ReceiptPurpose:
    """One purpose the person consented to, with the data it uses and how the consent ends."""

    purpose: str
    purpose_category: Sequence[str]
    pii_category: Sequence[str]
    termination: str
    consent_type: ConsentType | str = ConsentType.EXPLICIT
    primary_purpose: bool = False
    third_party_disclosure: bool = False
    third_party_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptService:
    """A service of the controller and the purposes consented to for it."""

    service: str
    purposes: Sequence[ReceiptPurpose]


def build_receipt(
    *,
    receipt_id: str | uuid.UUID,
    consent_timestamp: datetime,
    jurisdiction: str,
    collection_method: str,
    language: str,
    subject_ref: str,
    controllers: Sequence[ReceiptController],
    policy_url: str,
    services: Sequence[ReceiptService],
    sensitive: bool = False,
    sensitive_categories: Sequence[str] = (),
    public_key: str | None = None,
) -> dict[str, Any]:
    """Build a Kantara v1.1 consent receipt as a JSON-ready dict; raise ``InvalidReceipt`` on bad input."""
    try:
        timestamp = require_aware(consent_timestamp, "consent_timestamp")
    except InvalidTimestamp as error:
        raise InvalidReceipt(error.field or "consent_timestamp", error.detail or str(error)) from None
    if not is_subject_ref(subject_ref):
        raise InvalidReceipt(
            "subject_ref", "must be the 64-character subject reference, never a raw identifier such as an email"
        )
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        raise InvalidReceipt("language", "must be a language tag such as en or fr-FR")
    if sensitive != bool(sensitive_categories):
        raise InvalidReceipt(
            "sensitive_categories", "list the sensitive categories when, and only when, sensitive is true"
        )
    receipt: dict[str, Any] = {
        "version": RECEIPT_VERSION,
        "jurisdiction": checked_text(jurisdiction, "jurisdiction"),
        # Kantara v1.1 writes the time as NumericDate: whole seconds since the Unix epoch.
        "consentTimestamp": int(timestamp.timestamp()),
        "collectionMethod": checked_text(collection_method, "collection_method"),
        "consentReceiptID": _receipt_id(receipt_id),
    }
    if public_key is not None:
        receipt["publicKey"] = checked_text(public_key, "public_key")
    receipt.update(
        {
            "language": language,
            "piiPrincipalId": subject_ref,
            "piiControllers": [
                _controller(c, f"controllers[{i}]") for i, c in enumerate(_items(controllers, "controllers"))
            ],
            "policyUrl": checked_url(policy_url, "policy_url"),
            "services": [_service(s, f"services[{i}]") for i, s in enumerate(_items(services, "services"))],
            "sensitive": bool(sensitive),
            "spiCat": _categories(sensitive_categories, "sensitive_categories", allow_empty=True),
        }
    )
    return receipt


def _controller(controller: ReceiptController, field: str) -> dict[str, Any]:
    address: Any
    if isinstance(controller.address, str):
        address = checked_text(controller.address, f"{field}.address")
    else:
        address = {key: checked_text(value, f"{field}.address.{key}") for key, value in controller.address.items()}
        if not address:
            raise InvalidReceipt(f"{field}.address", "is empty")
    entry: dict[str, Any] = {
        "piiController": checked_text(controller.name, f"{field}.name"),
        "onBehalf": bool(controller.on_behalf),
        "contact": checked_text(controller.contact, f"{field}.contact"),
        "address": address,
        "email": checked_text(controller.email, f"{field}.email"),
        "phone": checked_text(controller.phone, f"{field}.phone"),
    }
    if controller.url is not None:
        entry["piiControllerUrl"] = checked_url(controller.url, f"{field}.url")
    return entry


def _service(service: ReceiptService, field: str) -> dict[str, Any]:
    purposes = _items(service.purposes, f"{field}.purposes")
    return {
        "service": checked_text(service.service, f"{field}.service"),
        "purposes": [_purpose(p, f"{field}.purposes[{i}]") for i, p in enumerate(purposes)],
    }


def _purpose(purpose: ReceiptPurpose, field: str) -> dict[str, Any]:
    try:
        consent_type = ConsentType(purpose.consent_type)
    except ValueError:
        raise InvalidReceipt(f"{field}.consent_type", "must be EXPLICIT or IMPLICIT") from None
    entry: dict[str, Any] = {
        "purpose": checked_text(purpose.purpose, f"{field}.purpose"),
        "purposeCategory": _categories(purpose.purpose_category, f"{field}.purpose_category"),
        "consentType": consent_type.value,
        "piiCategory": _categories(purpose.pii_category, f"{field}.pii_category"),
        "primaryPurpose": bool(purpose.primary_purpose),
        "termination": checked_text(purpose.termination, f"{field}.termination"),
        "thirdPartyDisclosure": bool(purpose.third_party_disclosure),
    }
    if purpose.third_party_disclosure:
        entry["thirdPartyName"] = checked_text(purpose.third_party_name, f"{field}.third_party_name")
    elif purpose.third_party_name is not None:
        raise InvalidReceipt(f"{field}.third_party_name", "is set but third_party_disclosure is false")
    return entry


def _receipt_id(value: str | uuid.UUID) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidReceipt("receipt_id", "must be a UUID") from None


def checked_text(value: object, field: str) -> str:
    """``value`` stripped, or ``InvalidReceipt`` naming ``field`` when it is not non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidReceipt(field, "is required and must be non-empty text")
    return value.strip()


def checked_url(value: object, field: str) -> str:
    """``value`` when it is an absolute http(s) URL, else ``InvalidReceipt`` naming ``field``."""
    text = checked_text(value, field)
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        raise InvalidReceipt(field, "must be an absolute http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidReceipt(field, "must be an absolute http(s) URL")
    return text


def _items(values: Sequence[Any], field: str) -> Sequence[Any]:
    if isinstance(values, str) or not values:
        raise InvalidReceipt(field, "must list at least one entry")
    return values


def _categories(values: Sequence[str], field: str, *, allow_empty: bool = False) -> list[str]:
    if isinstance(values, str):
        raise InvalidReceipt(field, "must be a list of categories, not a single string")
    if not values and not allow_empty:
        raise InvalidReceipt(field, "must list at least one category")
    return [checked_text(value, f"{field}[{i}]") for i, value in enumerate(values)]
