"""Shapes of certificates of erasure and of their verification."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CertificateOut(BaseModel):
    """A signed certificate of erasure."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b9f3c1e-2d4a-4e8b-9c1f-5a6b7c8d9e0f",
                    "request_id": "5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f",
                    "issued_at": "2026-03-04T10:00:00Z",
                    "algorithm": "EdDSA",
                    "signature": "eyJhbGciOiJFZERTQSIsImtpZCI6Ijk0…",
                    "signed_at": "2026-03-04T10:00:01Z",
                    "jwks_url": "https://identity.example.com/.well-known/privops/tenants/acme/jwks.json",
                    "certificate": {
                        "request_type": "erasure",
                        "outcome": "partial",
                        "systems": [
                            {
                                "system": "crm",
                                "outcome": "exempt",
                                "records_affected": 0,
                                "exemption": "legal hold 7c9e6679-7425-40de-944b-e07fc1f90ae7: litigation case "
                                "2026-CV-0412 — Art. 17(3)(e) GDPR",
                                "holds": [
                                    {
                                        "hold_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                                        "reason": "litigation case 2026-CV-0412",
                                        "scope": {"subject_ref": "sr1_9f2c…"},
                                        "placed_at": "2026-02-12T09:00:00Z",
                                    }
                                ],
                            }
                        ],
                    },
                }
            ]
        }
    )

    id: uuid.UUID
    request_id: uuid.UUID
    issued_at: datetime
    algorithm: str = Field(description="EdDSA: a JWS of the tenant's key (HMAC-SHA256 for certificates from before)")
    signature: str | None = Field(
        description="The compact JWS (typ erasure-certificate+jwt) whose 'certificate' claim is the document; null for "
        "the few seconds until the identity service has signed it"
    )
    signed_at: datetime | None = None
    jwks_url: str | None = Field(
        default=None, description="The tenant's public keys: verify offline with any JWT library, no token needed"
    )
    certificate: dict[str, Any] = Field(
        description="The signed document: the request, and per system its outcome, records affected, exemption, "
        "recipients notified and the legal holds it was told of (hold_id, reason, scope: subject_ref, category, "
        "system, matter). A system that kept data under a hold answers exempt, or done with the kept part in "
        "exemption, naming the hold: GDPR Art. 17(3)(e), https://eur-lex.europa.eu/eli/reg/2016/679/oj. The "
        "signature covers every field; verify it offline with the tenant's JWKS (jwks_url), "
        "`privops verify`, or POST /v1/certificates/verify."
    )

    @classmethod
    def of(cls, cert: Any, jwks_url: str | None = None) -> CertificateOut:
        """The API shape of a stored certificate."""
        return cls(
            id=cert.id,
            request_id=cert.request_id,
            issued_at=cert.issued_at,
            algorithm=cert.algorithm,
            signature=cert.signature,
            signed_at=cert.signed_at,
            jwks_url=jwks_url,
            certificate=cert.document,
        )


class VerifyCertificateIn(BaseModel):
    """A certificate document and its signature, as issued."""

    certificate: dict[str, Any]
    signature: str = Field(
        min_length=1, max_length=16_384, description="The certificate's JWS (or the HMAC of a certificate from before)"
    )


class VerifyCertificateOut(BaseModel):
    """Whether the certificate is authentic and unchanged."""

    valid: bool
    certificate_id: str | None
    issued_at: str | None
