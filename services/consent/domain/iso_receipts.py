"""Consent receipts in the fields of ISO/IEC TS 27560:2023, and their Kantara Consent Receipt v1.1 view.

ISO/IEC TS 27560:2023 "Privacy technologies — Consent record information structure"
(https://www.iso.org/standard/80392.html) names the information of a consent record and says a
receipt, the copy handed to the person, carries the same fields under its own identifier. The
names below are the standard's, as the W3C Data Privacy Vocabularies and Controls Community Group
maps them in "Consent Records and Receipts as per ISO/IEC TS 27560:2023 using DPV"
(https://w3id.org/dpv/guides/consent-27560, sections 7.2, 8 and 9):

- header: ``schema_version``, ``record_id`` (here ``receipt_id``, the receipt's own identifier, and
  ``record_id``, the consent record it copies: the guide's "associated consent record", 9.1.3),
  ``created`` (the guide's creation timestamp, 9.1.4), ``pii_principal_id``;
- processing (6.3.4): ``privacy_notice`` (the notice shown: its URL, version and SHA-256 text
  hash), ``language``, ``purposes`` each with ``purpose``, ``lawful_basis``, ``pii_information``
  (``pii_type`` per category), ``pii_controllers`` (party ids), ``collection_method``,
  ``jurisdiction`` and ``withdrawal_method``;
- parties (6.3.6): ``party_id``, ``party_name``, ``party_role``, ``party_contact``,
  ``party_address``, ``party_email``, ``party_phone``, ``party_url``;
- events (6.3.7): ``event_time`` (ISO 8601, UTC), ``event_type`` (``expressed`` or ``implied``,
  DPV's ExpressedConsent and ImpliedConsent), ``event_state`` (``given``, ``refused`` or
  ``withdrawn``: DPV's ConsentGiven, ConsentRefused, ConsentWithdrawn), ``entity_id`` and, for a
  consent given for a limited time, ``validity_duration`` (an ISO 8601 duration).

The consent service does not hold storage locations, retention periods or recipients (the
retention and subprocessor services do, and the notice at ``privacy_notice.url`` states them), so
those optional-here fields are left out rather than guessed. What privops adds as evidence (the
purpose's key, the source, the hashed proof, a TCF string, a guardian's consent) sits under
``privops``. ``pii_principal_id`` is always the keyed subject reference, never a raw identifier.

Demonstrating consent is the controller's duty under GDPR Art. 7(1)
(https://eur-lex.europa.eu/eli/reg/2016/679/oj); a receipt the person keeps is that proof in
their hands.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.consent.domain.decisions import require_aware
from services.consent.domain.errors import InvalidReceipt, InvalidTimestamp
from services.consent.domain.identifiers import is_subject_ref
from services.consent.domain.receipts import (
    LANGUAGE,
    ConsentType,
    ReceiptController,
    ReceiptPurpose,
    ReceiptService,
    build_receipt,
    checked_text,
    checked_url,
)

ISO_SCHEMA_VERSION = "ISO/IEC TS 27560:2023 privops/1"
CONTROLLER_PARTY = "controller"
# The decision recorded, as the consent state of the event (DPV consent statuses).
EVENT_STATES = {"granted": "given", "denied": "refused", "withdrawn": "withdrawn"}


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What a receipt states about one recorded decision, gathered from the stored rows."""

    receipt_id: str | uuid.UUID
    record_id: str | uuid.UUID
    created_at: datetime
    subject_ref: str
    purpose_key: str
    purpose_name: str
    lawful_basis: str
    pii_categories: Sequence[str]
    decision: str
    occurred_at: datetime
    collection_method: str
    language: str
    jurisdiction: str
    controller: ReceiptController
    notice_url: str
    notice_version: int | None = None
    notice_text_hash: str | None = None
    validity: str | None = None
    implied: bool = False
    evidence: Mapping[str, Any] = field(default_factory=dict)


def build_iso_receipt(facts: ReceiptFacts) -> dict[str, Any]:
    """The receipt of one decision in ISO/IEC TS 27560 fields; ``InvalidReceipt`` naming the field on bad input."""
    if not is_subject_ref(facts.subject_ref):
        raise InvalidReceipt(
            "subject_ref", "must be the 64-character subject reference, never a raw identifier such as an email"
        )
    state = EVENT_STATES.get(facts.decision)
    if state is None:
        raise InvalidReceipt("decision", f"must be one of {', '.join(EVENT_STATES)}")
    if not isinstance(facts.language, str) or not LANGUAGE.fullmatch(facts.language):
        raise InvalidReceipt("language", "must be a language tag such as en or fr-FR")
    notice_url = checked_url(facts.notice_url, "notice_url")
    controller = _party(facts.controller)
    jurisdiction = checked_text(facts.jurisdiction, "jurisdiction")
    event: dict[str, Any] = {
        "event_time": _instant(facts.occurred_at, "occurred_at"),
        "event_type": "implied" if facts.implied else "expressed",
        "event_state": state,
        "entity_id": facts.subject_ref,
    }
    if state == "given" and facts.validity:
        event["validity_duration"] = facts.validity
    return {
        "schema_version": ISO_SCHEMA_VERSION,
        "receipt_id": _uuid(facts.receipt_id, "receipt_id"),
        "record_id": _uuid(facts.record_id, "record_id"),
        "created": _instant(facts.created_at, "created_at"),
        "pii_principal_id": facts.subject_ref,
        "language": facts.language,
        "privacy_notice": {
            "url": notice_url,
            "version": facts.notice_version,
            "text_hash": facts.notice_text_hash,
        },
        "jurisdiction": jurisdiction,
        "parties": [controller],
        "purposes": [
            {
                "purpose": checked_text(facts.purpose_name, "purpose_name"),
                "lawful_basis": checked_text(facts.lawful_basis, "lawful_basis"),
                "pii_information": [
                    {"pii_type": checked_text(c, f"pii_categories[{i}]")} for i, c in enumerate(facts.pii_categories)
                ],
                "pii_controllers": [CONTROLLER_PARTY],
                "collection_method": checked_text(facts.collection_method, "collection_method"),
                "jurisdiction": jurisdiction,
                # GDPR Art. 7(3): withdrawing must be as easy as giving; the controller's address and the notice.
                "withdrawal_method": [f"mailto:{controller['party_email']}", notice_url],
            }
        ],
        "events": [event],
        "privops": {"purpose": checked_text(facts.purpose_key, "purpose_key"), **facts.evidence},
    }


def kantara_view(receipt: Mapping[str, Any]) -> dict[str, Any]:
    """The same receipt in Kantara Consent Receipt v1.1 names (``build_receipt``), for tools that read only those."""
    purpose, event = receipt["purposes"][0], receipt["events"][0]
    parties = {p["party_id"]: p for p in receipt["parties"]}
    controllers = [
        ReceiptController(
            name=party["party_name"],
            contact=party["party_contact"],
            address=party["party_address"],
            email=party["party_email"],
            phone=party["party_phone"],
            url=party.get("party_url"),
        )
        for party in (parties[key] for key in purpose["pii_controllers"])
    ]
    validity = event.get("validity_duration")
    body = build_receipt(
        receipt_id=receipt["receipt_id"],
        consent_timestamp=datetime.fromisoformat(event["event_time"]),
        jurisdiction=receipt["jurisdiction"],
        collection_method=purpose["collection_method"],
        language=receipt["language"],
        subject_ref=receipt["pii_principal_id"],
        controllers=controllers,
        policy_url=receipt["privacy_notice"]["url"],
        services=[
            ReceiptService(
                service=controllers[0].name,
                purposes=[
                    ReceiptPurpose(
                        purpose=purpose["purpose"],
                        purpose_category=[receipt["privops"]["purpose"]],
                        pii_category=[p["pii_type"] for p in purpose["pii_information"]] or ["unspecified"],
                        termination=f"withdraw at any time; lapses after {validity}"
                        if validity
                        else "withdraw at any time",
                        consent_type=ConsentType.IMPLICIT if event["event_type"] == "implied" else ConsentType.EXPLICIT,
                    )
                ],
            )
        ],
    )
    body["privops"] = receipt["privops"]
    return body


def _party(controller: ReceiptController) -> dict[str, Any]:
    where = "controller"
    if not isinstance(controller.address, str):
        raise InvalidReceipt(f"{where}.address", "must be the postal address as one text")
    party: dict[str, Any] = {
        "party_id": CONTROLLER_PARTY,
        "party_name": checked_text(controller.name, f"{where}.name"),
        "party_role": "controller",
        "party_contact": checked_text(controller.contact, f"{where}.contact"),
        "party_address": checked_text(controller.address, f"{where}.address"),
        "party_email": checked_text(controller.email, f"{where}.email"),
        "party_phone": checked_text(controller.phone, f"{where}.phone"),
    }
    if controller.url is not None:
        party["party_url"] = checked_url(controller.url, f"{where}.url")
    return party


def _instant(value: datetime, field_name: str) -> str:
    try:
        aware = require_aware(value, field_name)
    except InvalidTimestamp as error:
        raise InvalidReceipt(error.field or field_name, error.detail or str(error)) from None
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _uuid(value: str | uuid.UUID, field_name: str) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidReceipt(field_name, "must be a UUID") from None
