"""The purpose catalogue, notice versions and the controller profile of a tenant."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import InvalidPurposeRules
from services.consent.domain.notices import text_hash
from services.consent.models import ControllerProfile, NoticeVersion, Purpose
from services.consent.schemas.purposes import ControllerIn, NoticeIn, PurposeIn, PurposePatch
from services.consent.service.common import rules_of
from shared.rules.clock import Clock
from shared.rules.errors import Conflict, NotFound, Unprocessable
from shared.runtime import audit
from shared.runtime.auth import Principal


def bump_revision(purpose: Purpose) -> None:
    """Move the purpose's revision in the UPDATE itself (concurrent changes each get their own number).

    Cached copies of the rules and notices (``purpose_cache.py``) stop being used from then on.
    """
    purpose.revision = col(Purpose.revision) + 1  # type: ignore[assignment]


async def get_purpose(session: AsyncSession, tenant_id: str, key: str) -> Purpose:
    """One purpose of the tenant, or 404."""
    purpose = await session.get(Purpose, (tenant_id, key))
    if purpose is None:
        raise NotFound(f"No purpose {key!r}.")
    return purpose


async def create_purpose(session: AsyncSession, principal: Principal, body: PurposeIn, clock: Clock) -> Purpose:
    """Add a purpose to the tenant's catalogue (409 when the key exists)."""
    if await session.get(Purpose, (principal.tenant_id, body.key)) is not None:
        raise Conflict(f"Purpose {body.key!r} already exists.")
    now = clock.now()
    purpose = Purpose(tenant_id=principal.tenant_id, created_at=now, updated_at=now, **body.model_dump())
    rules_of(purpose)  # refuse a validity the rules cannot use before anything is stored
    session.add(purpose)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="purpose.created",
        entity_type="purpose",
        entity_id=body.key,
        clock=clock,
        detail=body.model_dump(),
    )
    await session.flush()
    return purpose


async def update_purpose(
    session: AsyncSession, principal: Principal, key: str, body: PurposePatch, clock: Clock
) -> Purpose:
    """Change the mutable fields of a purpose."""
    purpose = await get_purpose(session, principal.tenant_id, key)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in ("name", "description", "data_categories", "gpc_covered", "direct_marketing"):
            raise InvalidPurposeRules(name, "cannot be null")
        setattr(purpose, name, value)
    rules_of(purpose)
    purpose.updated_at = clock.now()
    bump_revision(purpose)
    session.add(purpose)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="purpose.updated",
        entity_type="purpose",
        entity_id=key,
        clock=clock,
        detail=changes,
    )
    await session.flush()
    await session.refresh(purpose, ["revision"])
    return purpose


async def publish_notice(
    session: AsyncSession, principal: Principal, key: str, body: NoticeIn, clock: Clock
) -> NoticeVersion:
    """Publish the next notice version of a purpose; a material one makes earlier grants need renewal."""
    if (body.text is None) == (body.text_hash is None):
        raise Unprocessable("Give exactly one of text or text_hash.", errors=[{"field": "text"}])
    purpose = await get_purpose(session, principal.tenant_id, key)
    now = clock.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise Unprocessable("expires_at is in the past.", errors=[{"field": "expires_at"}])
    latest = await session.scalar(
        select(func.max(NoticeVersion.version)).where(
            NoticeVersion.tenant_id == principal.tenant_id, NoticeVersion.purpose == key
        )
    )
    version = (latest or 0) + 1
    notice = NoticeVersion(
        tenant_id=principal.tenant_id,
        purpose=key,
        version=version,
        text_hash=body.text_hash or text_hash(body.text or ""),
        url=body.url,
        language=body.language,
        material=body.material,
        published_at=now,
        expires_at=body.expires_at,
    )
    session.add(notice)
    purpose.current_notice_version = version
    if body.material and version > 1:
        purpose.renewal_required_since = version
    purpose.updated_at = now
    bump_revision(purpose)
    session.add(purpose)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="notice.published",
        entity_type="notice_version",
        entity_id=f"{key}/v{version}",
        clock=clock,
        detail={"text_hash": notice.text_hash, "material": body.material},
    )
    await session.flush()
    await session.refresh(purpose, ["revision"])
    return notice


async def list_notices(session: AsyncSession, tenant_id: str, key: str) -> list[NoticeVersion]:
    """Every published version of a purpose's notice, oldest first."""
    await get_purpose(session, tenant_id, key)
    rows = await session.exec(
        select(NoticeVersion)
        .where(NoticeVersion.tenant_id == tenant_id, NoticeVersion.purpose == key)
        .order_by(col(NoticeVersion.version))
    )
    return list(rows.all())


async def set_controller(
    session: AsyncSession, principal: Principal, body: ControllerIn, clock: Clock
) -> ControllerProfile:
    """Create or replace the tenant's controller profile."""
    profile = await session.get(ControllerProfile, principal.tenant_id)
    values = body.model_dump()
    if profile is None:
        profile = ControllerProfile(tenant_id=principal.tenant_id, updated_at=clock.now(), **values)
    else:
        for name, value in values.items():
            setattr(profile, name, value)
        profile.updated_at = clock.now()
    session.add(profile)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="controller.updated",
        entity_type="controller_profile",
        entity_id=principal.tenant_id,
        clock=clock,
    )
    await session.flush()
    return profile


async def get_controller(session: AsyncSession, tenant_id: str) -> ControllerProfile:
    """The tenant's controller profile, or 404."""
    profile = await session.get(ControllerProfile, tenant_id)
    if profile is None:
        raise NotFound("No controller profile: PUT /v1/controller first.")
    return profile
