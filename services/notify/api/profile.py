"""Routes of the tenant profile: sender, brand, locale, the privacy team's alert targets."""

from __future__ import annotations

from fastapi import APIRouter

from services.notify.api.deps import AdminUow, ReadUow
from services.notify.models import TenantProfile
from services.notify.schemas import ProfileIn, ProfileOut
from services.notify.service import profile as service
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/profile", tags=["profile"], responses=PROBLEM_RESPONSES)


def _out(profile: TenantProfile, secret: str | None = None) -> ProfileOut:
    return ProfileOut.model_validate(
        {**profile.model_dump(), "webhook_secrets_active": len(profile.webhook_secrets), "webhook_secret": secret}
    )


@router.get("", response_model=ProfileOut, summary="Read the profile")
async def get_profile(uow: ReadUow) -> ProfileOut:
    """The tenant's profile (the defaults until one is set); webhook secrets are never shown here."""
    return _out(await service.profile_or_default(uow))


@router.put("", response_model=ProfileOut, summary="Set the profile")
async def put_profile(body: ProfileIn, uow: AdminUow) -> ProfileOut:
    """Replace the profile; an alert webhook set for the first time gets a signing secret, shown this once."""
    profile, secret = await service.put_profile(uow, body)
    return _out(profile, secret)


@router.post("/webhook-secret/rotate", response_model=ProfileOut, summary="Rotate the webhook secret")
async def rotate_secret(uow: AdminUow) -> ProfileOut:
    """A new secret, shown once; webhooks are signed with it and the previous one until the next rotation."""
    profile, secret = await service.rotate_secret(uow)
    return _out(profile, secret)
