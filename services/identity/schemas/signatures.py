"""Request and response shapes of document signatures."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.identity.schemas.common import examples


class SignatureIn(BaseModel):
    """A document to sign with the tenant's document key."""

    model_config = examples(
        {
            "typ": "erasure-certificate+jwt",
            "claims": {"sub": "request:4f7c0a1e", "request_id": "4f7c0a1e-7d6b-4b1e-9a51-0d2a4f1b2c3d"},
        }
    )

    typ: str = Field(min_length=5, max_length=68, description="The document's type, e.g. consent-receipt+jwt")
    claims: dict[str, Any] = Field(description="The document; 'iss' is set to the tenant's issuer, 'iat' if absent")


class SignatureOut(BaseModel):
    """The signed document as a compact JWS (header alg EdDSA, kid, typ)."""

    jws: str
    kid: str = Field(description="The tenant document key that signed it, published at the tenant's JWKS URL")
    jwks_uri: str = Field(description="Where anyone finds the public key to verify it")
