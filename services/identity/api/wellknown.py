"""Public documents: the token keys, the tenants' document keys, OpenID Provider metadata."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.identity.api.deps import Public
from services.identity.schemas import JwksOut
from services.identity.schemas.common import TENANT
from services.identity.service import discovery
from services.identity.service import keys as key_service
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["discovery"], responses={404: PROBLEM_RESPONSES[404], 422: PROBLEM_RESPONSES[422]})
JWKS_CACHE = "public, max-age=60"  # verifiers refetch on an unknown kid anyway
TenantPath = Annotated[str, Path(pattern=TENANT, description="The tenant whose documents to verify")]


@router.get("/.well-known/jwks.json", response_model=JwksOut, summary="Token-signing public keys")
async def jwks(public: Public, response: Response) -> dict[str, Any]:
    """The keys that verify this issuer's tokens: the active one and retired ones whose tokens may still be valid."""
    response.headers["Cache-Control"] = JWKS_CACHE
    return await key_service.token_jwks(public)


@router.get(
    "/.well-known/privops/tenants/{tenant}/jwks.json",
    response_model=JwksOut,
    summary="A tenant's document-signing public keys",
)
async def tenant_jwks(tenant: TenantPath, public: Public, response: Response) -> dict[str, Any]:
    """Every key the tenant's certificates and receipts were ever signed with (they verify for ever)."""
    response.headers["Cache-Control"] = JWKS_CACHE
    return await key_service.document_jwks(public.for_tenant(tenant))


@router.get("/.well-known/openid-configuration", summary="Authorization server metadata")
async def openid_configuration(public: Public) -> dict[str, Any]:
    """OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414)."""
    return discovery.metadata(public.settings)
