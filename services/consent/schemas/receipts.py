"""Shapes of consent receipts: the signed receipt, the notify service's claim, the published keys."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECEIPT_EXAMPLE: dict[str, Any] = {
    "schema_version": "ISO/IEC TS 27560:2023 privops/1",
    "receipt_id": "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20",
    "record_id": "0193a0c4-6b1f-7a55-8f0e-9d2c4b6a7e11",
    "created": "2026-03-02T09:00:05Z",
    "pii_principal_id": "4f" * 32,
    "language": "fr",
    "privacy_notice": {"url": "https://example.com/privacy/newsletter", "version": 2, "text_hash": "ab" * 32},
    "jurisdiction": "FR",
    "parties": [
        {
            "party_id": "controller",
            "party_name": "Example SAS",
            "party_role": "controller",
            "party_contact": "Data Protection Officer",
            "party_address": "1 rue de la Paix, 75002 Paris, France",
            "party_email": "dpo@example.com",
            "party_phone": "+33 1 23 45 67 89",
            "party_url": "https://example.com",
        }
    ],
    "purposes": [
        {
            "purpose": "Newsletter",
            "lawful_basis": "consent",
            "pii_information": [{"pii_type": "contact.email"}],
            "pii_controllers": ["controller"],
            "collection_method": "web",
            "jurisdiction": "FR",
            "withdrawal_method": ["mailto:dpo@example.com", "https://example.com/privacy/newsletter"],
        }
    ],
    "events": [
        {
            "event_time": "2026-03-02T09:00:00Z",
            "event_type": "expressed",
            "event_state": "given",
            "entity_id": "4f" * 32,
            "validity_duration": "P3Y",
        }
    ],
    "privops": {"purpose": "newsletter", "decision": "granted", "source": "api", "proof": {"form_id": "signup-v3"}},
    "iss": "https://consent.example.com/tenants/acme",
    "iat": 1772442005,
}


class ReceiptOut(BaseModel):
    """A consent receipt in ISO/IEC TS 27560 fields, the compact JWS that signs it, and where its keys are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "receipt": RECEIPT_EXAMPLE,
                    "jws": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImNvbnNlbnQtcmVjZWlwdCtqd3QifQ.eyJ9.c2ln",
                    "jwks_url": "https://consent.example.com/.well-known/privops/tenants/acme/jwks.json",
                }
            ]
        }
    )

    receipt: dict[str, Any] = Field(description="The signed claims: the ISO/IEC TS 27560 fields, plus iss and iat")
    jws: str = Field(description="Compact JWS (RFC 7515), alg EdDSA, typ consent-receipt+jwt; the same bytes forever")
    jwks_url: str = Field(description="The tenant's public document keys: pick the key by the JWS header's kid")


class ReceiptClaimOut(BaseModel):
    """A receipt's mail, claimed by the notify service (the contract every privops service answers)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "notification_id": "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a21",
                    "channel": "email",
                    "template": "consent.receipt",
                    "locale": "fr",
                    "to": "ada@example.com",
                    "to_name": None,
                    "webhook_url": None,
                    "context": {
                        "receipt_id": "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20",
                        "url": "https://consent.example.com/v1/public/acme/receipts/0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20"
                        "?key=Zm9vYmFy",
                        "purpose": "Newsletter",
                        "controller": "Example SAS",
                        "decision": "granted",
                        "decided_at": "2026-03-02T09:00:00Z",
                    },
                }
            ]
        }
    )

    notification_id: uuid.UUID
    channel: Literal["email"]
    template: str
    locale: str | None = Field(description="The language the decision was collected in, when it was given")
    to: str = Field(description="The address the receipt goes to, given with the decision (receipt_to)")
    to_name: str | None = None
    webhook_url: str | None = None
    context: dict[str, Any] = Field(description="The template's values; the link is absolute and needs no token")
