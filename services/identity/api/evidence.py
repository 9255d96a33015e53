"""Route of evidence packs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.identity.api.deps import EvidenceUow
from services.identity.schemas import EvidencePackIn
from services.identity.service import evidence_packs
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES, tags=["evidence"])
ZIP = "application/zip"


@router.post(
    "/evidence-packs",
    summary="Build a signed evidence pack",
    response_class=Response,
    responses={200: {"content": {ZIP: {}}, "description": "The pack (docs/evidence-pack.md)"}},
)
async def build_evidence_pack(body: EvidencePackIn, uow: EvidenceUow) -> Response:
    """Every service's evidence for the tenant and period in one ZIP, its manifest signed with the tenant's key."""
    built = await evidence_packs.build_pack(uow, body.tenant, body.since, body.until)
    name = f"evidence-{built.tenant}-{body.since.isoformat()}-{body.until.isoformat()}.zip"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Evidence-Pack-Id": built.pack_id,
        "X-Evidence-Pack-Complete": str(built.complete).lower(),
    }
    return Response(built.content, media_type=ZIP, headers=headers)
