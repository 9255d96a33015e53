"""Shapes of certificates of erasure and of their verification."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CertificateOut(BaseModel):
    """A signed certificate of erasure."""

    id: uuid.UUID
    request_id: uuid.UUID
    issued_at: datetime
    algorithm: str
    signature: str
    certificate: dict[str, Any]

    @classmethod
    def of(cls, cert: Any) -> CertificateOut:
        """The API shape of a stored certificate."""
        return cls(
            id=cert.id,
            request_id=cert.request_id,
            issued_at=cert.issued_at,
            algorithm=cert.algorithm,
            signature=cert.signature,
            certificate=cert.document,
        )


class VerifyCertificateIn(BaseModel):
    """A certificate document and its signature, as issued."""

    certificate: dict[str, Any]
    signature: str = Field(min_length=1, max_length=256)


class VerifyCertificateOut(BaseModel):
    """Whether the certificate is authentic and unchanged."""

    valid: bool
    certificate_id: str | None
    issued_at: str | None
