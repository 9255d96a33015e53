"""The tenant profile: sender, brand, default locale, and where the privacy team's alerts go."""

from __future__ import annotations

from typing import Any

from services.notify.domain import new_secret
from services.notify.models import TenantProfile
from services.notify.schemas import ProfileIn
from services.notify.service import Uow
from shared.rules.errors import Conflict
from shared.runtime.repository import find

SECRET_ROTATIONS_KEPT = 2


async def find_profile(uow: Uow) -> TenantProfile | None:
    """The tenant's profile, if it set one (a read-only unit reads it on the direct pool)."""
    return await find(uow, TenantProfile, uow.tenant_id)


async def profile_or_default(uow: Uow) -> TenantProfile:
    """The tenant's profile, or the defaults a tenant without one gets (not stored)."""
    return await find_profile(uow) or TenantProfile(tenant_id=uow.tenant_id, updated_at=uow.now())


async def put_profile(uow: Uow, body: ProfileIn) -> tuple[TenantProfile, str | None]:
    """Replace the profile; a webhook URL set for the first time gets a secret, returned once."""
    profile = await uow.session.get(TenantProfile, uow.tenant_id, with_for_update=True)
    if profile is None:
        profile = TenantProfile(tenant_id=uow.tenant_id, updated_at=uow.now())
    for name, value in body.model_dump(mode="json").items():
        setattr(profile, name, value)
    shown: str | None = None
    if not profile.alert_webhook_url:
        profile.webhook_secrets = []
    elif not profile.webhook_secrets:
        shown = new_secret()
        profile.webhook_secrets = [shown]
    profile.updated_at = uow.now()
    uow.session.add(profile)
    uow.audit("profile.updated", "tenant_profile", uow.tenant_id, _audited(body))
    await uow.session.flush()
    return profile, shown


async def rotate_secret(uow: Uow) -> tuple[TenantProfile, str]:
    """A new webhook secret, signing beside the previous one until the next rotation; returned once."""
    profile = await uow.session.get(TenantProfile, uow.tenant_id, with_for_update=True)
    if profile is None or not profile.alert_webhook_url:
        raise Conflict("Set an alert webhook URL in the profile before rotating its secret.")
    secret = new_secret()
    profile.webhook_secrets = [secret, *profile.webhook_secrets][:SECRET_ROTATIONS_KEPT]
    profile.updated_at = uow.now()
    uow.session.add(profile)
    uow.audit(
        "profile.webhook_secret_rotated", "tenant_profile", uow.tenant_id, {"active": len(profile.webhook_secrets)}
    )
    await uow.session.flush()
    return profile, secret


def _audited(body: ProfileIn) -> dict[str, Any]:
    """What the audit log keeps of a profile change: which fields, and counts instead of addresses."""
    return {
        "alert_emails": len(body.alert_emails),
        "alert_webhook": body.alert_webhook_url is not None,
        "default_locale": body.default_locale,
    }
