"""Routes of key rotation and document signatures."""

from __future__ import annotations

from fastapi import APIRouter

from services.identity.api.deps import AdminUow, PlatformUow, SignUow
from services.identity.schemas import RotationOut, SignatureIn, SignatureOut
from services.identity.service import keys as key_service
from services.identity.service import signatures as signature_service
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.post("/keys/rotate", response_model=RotationOut, tags=["keys"], summary="Rotate the token-signing key")
async def rotate_token_key(uow: PlatformUow) -> RotationOut:
    """A new key signs from now on; the retired one stays in the JWKS until its last token has expired."""
    row, retired = await key_service.rotate_token_key(uow)
    return RotationOut(kid=row.kid, retired=retired)


@router.post(
    "/keys/documents/rotate", response_model=RotationOut, tags=["keys"], summary="Rotate the tenant's document key"
)
async def rotate_document_key(uow: AdminUow) -> RotationOut:
    """A new document key signs the tenant's documents from now on; every earlier one stays published."""
    row, retired = await key_service.rotate_document_key(uow)
    return RotationOut(kid=row.kid, retired=retired)


@router.post("/signatures", response_model=SignatureOut, tags=["signatures"], summary="Sign a document")
async def sign_document(body: SignatureIn, uow: SignUow) -> SignatureOut:
    """The claims signed as a compact JWS with the token's tenant's document key (a privops service asks)."""
    return await signature_service.sign_document(uow, body)
