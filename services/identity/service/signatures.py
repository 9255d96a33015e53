"""Signed documents: certificates of erasure, consent receipts, signed with the tenant's document key.

Anyone verifies one with nothing but the tenant's public JWKS
(``/.well-known/privops/tenants/<tenant>/jwks.json``) and a JOSE library: the issuer of a tenant's
documents is ``<public URL>/tenants/<tenant>``.
"""

from __future__ import annotations

from services.identity.domain import tokens as rules
from services.identity.schemas import SignatureIn, SignatureOut
from services.identity.service import Uow
from services.identity.service.crypto import sign
from services.identity.service.keys import document_signing_key


def tenant_issuer(uow: Uow, tenant: str) -> str:
    """The ``iss`` of a tenant's documents."""
    return f"{uow.settings.issuer}/tenants/{tenant}"


def tenant_jwks_uri(uow: Uow, tenant: str) -> str:
    """Where a tenant's document keys are published."""
    return f"{uow.settings.issuer}/.well-known/privops/tenants/{tenant}/jwks.json"


async def sign_document(uow: Uow, body: SignatureIn) -> SignatureOut:
    """The document signed with the unit's tenant's document key (made on its first signature)."""
    typ = rules.check_document_type(body.typ)
    claims = rules.document_claims(body.claims, tenant_issuer(uow, uow.tenant_id), uow.now())
    pair = await document_signing_key(uow)
    jws = sign(pair, typ, claims)
    uow.audit("document.signed", "signing_key", pair.kid, {"typ": typ})
    return SignatureOut(jws=jws, kid=pair.kid, jwks_uri=tenant_jwks_uri(uow, uow.tenant_id))
