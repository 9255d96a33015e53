"""Who was told of a material notice change (``consent:read``), and the claim of each message (notify)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.consent.api.deps import ClaimUow, ReadUow
from services.consent.models import NoticeCampaign
from services.consent.schemas.notices import CampaignOut, NoticeClaimOut, RecipientPage
from services.consent.service import notice_changes
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["notices"], responses=PROBLEM_RESPONSES)
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="The notice version")]


@router.get(
    "/purposes/{key}/notices/{version}/campaign",
    response_model=CampaignOut,
    summary="Who was told of a material notice change",
)
async def get_campaign(key: str, version: Version, uow: ReadUow) -> NoticeCampaign:
    """The counts of the campaign a material version started: targeted, requested, delivered, failed, unreachable."""
    return await notice_changes.campaign_of(uow, key, version)


@router.get(
    "/purposes/{key}/notices/{version}/campaign/recipients",
    response_model=RecipientPage,
    summary="The people a notice change concerned, and their message's status",
)
async def list_recipients(
    key: str,
    version: Version,
    uow: ReadUow,
    after: Annotated[
        str, Query(max_length=128, pattern=r"^[0-9a-f]*$", description="Subject references after this one (next_after)")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RecipientPage:
    """A page of recipients by subject reference, with what notify reported of each message."""
    return await notice_changes.recipients(uow, key, version, after, limit)


@router.get(
    "/notice-messages/{message_id}/claim",
    response_model=NoticeClaimOut,
    summary="Claim a notice-change message (notify service)",
)
async def claim_message(message_id: uuid.UUID, uow: ClaimUow) -> NoticeClaimOut:
    """The address, template, language and values of one message (scope `notify:claim`); 410 once not deliverable."""
    return await notice_changes.claim_message(uow, message_id)
