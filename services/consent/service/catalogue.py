"""The purpose catalogue, notice versions and the controller profile of a tenant."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.consent.domain import InvalidPurposeRules
from services.consent.domain.notice_changes import renewal_required
from services.consent.domain.notices import text_hash
from services.consent.models import ControllerProfile, NoticeVersion, Purpose, PurposeRulesVersion
from services.consent.schemas.purposes import ControllerIn, NoticeIn, PurposeIn, PurposePatch
from services.consent.service import Uow, notice_changes
from services.consent.service.common import rules_of
from shared.rules.errors import NotFound, Unprocessable
from shared.runtime.repository import exists_or_conflict, find


def bump_revision(purpose: Purpose) -> None:
    """Move the purpose's revision in the UPDATE itself (concurrent changes each get their own number).

    Cached copies of the rules and notices (``hot/cache.py``) stop being used from then on.
    """
    purpose.revision = col(Purpose.revision) + 1  # type: ignore[assignment]


async def record_rules(uow: Uow, purpose: Purpose) -> None:
    """Keep the purpose's rules as they stand from now on, so a check as of a later instant applies them."""
    values = {
        "lawful_basis": purpose.lawful_basis,
        "validity": purpose.validity,
        "gpc_covered": purpose.gpc_covered,
        "direct_marketing": purpose.direct_marketing,
        "renewal_required_since": purpose.renewal_required_since,
    }
    statement = insert(PurposeRulesVersion).values(
        tenant_id=uow.tenant_id, key=purpose.key, valid_from=uow.now(), **values
    )
    # Two changes at the same instant: the later one is what stood from then on.
    await uow.session.exec(
        statement.on_conflict_do_update(index_elements=["tenant_id", "key", "valid_from"], set_=values)
    )


async def get_purpose(uow: Uow, key: str) -> Purpose:
    """One purpose of the tenant, or 404."""
    purpose = await find(uow, Purpose, (uow.tenant_id, key))
    if purpose is None:  # the key names the purpose within the tenant: said as the client wrote it
        raise NotFound(f"No purpose {key!r}.")
    return purpose


async def create_purpose(uow: Uow, body: PurposeIn) -> Purpose:
    """Add a purpose to the tenant's catalogue (409 when the key exists)."""
    await exists_or_conflict(uow, Purpose, f"Purpose {body.key!r} already exists.", key=body.key)
    now = uow.now()
    purpose = Purpose(tenant_id=uow.tenant_id, created_at=now, updated_at=now, **body.model_dump())
    rules_of(purpose)  # refuse a validity the rules cannot use before anything is stored
    uow.session.add(purpose)
    uow.audit("purpose.created", "purpose", body.key, body.model_dump())
    await uow.session.flush()
    await record_rules(uow, purpose)
    return purpose


async def update_purpose(uow: Uow, key: str, body: PurposePatch) -> Purpose:
    """Change the mutable fields of a purpose."""
    purpose = await get_purpose(uow, key)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in ("name", "description", "data_categories", "gpc_covered", "direct_marketing"):
            raise InvalidPurposeRules(name, "cannot be null")
        setattr(purpose, name, value)
    rules_of(purpose)
    purpose.updated_at = uow.now()
    bump_revision(purpose)
    uow.session.add(purpose)
    uow.audit("purpose.updated", "purpose", key, changes)
    await uow.session.flush()
    await uow.session.refresh(purpose, ["revision"])
    await record_rules(uow, purpose)
    return purpose


def notice_hash(body: NoticeIn) -> str:
    """The text hash a version is published under: the given one, or the text's; 422 when both disagree."""
    if body.text is None and body.text_hash is None:
        raise Unprocessable("Give the text, its text_hash, or both.", errors=[{"field": "text"}])
    if body.text is None:
        assert body.text_hash is not None
        return body.text_hash
    computed = text_hash(body.text)
    if body.text_hash is not None and body.text_hash != computed:
        raise Unprocessable(
            "text_hash is not the SHA-256 of the text (line endings as \\n).", errors=[{"field": "text_hash"}]
        )
    return computed


async def publish_notice(uow: Uow, key: str, body: NoticeIn) -> NoticeVersion:
    """Publish the next notice version of a purpose; a material one is told to the people whose grant is in force.

    When it asks for fresh consent (``requires_renewal``), grants under earlier versions need renewal.
    """
    digest = notice_hash(body)
    purpose = await get_purpose(uow, key)
    now = uow.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise Unprocessable("expires_at is in the past.", errors=[{"field": "expires_at"}])
    renewal = renewal_required(
        material=body.material, requires_renewal=body.requires_renewal, lawful_basis=purpose.lawful_basis
    )
    latest = await uow.session.scalar(
        select(func.max(NoticeVersion.version)).where(
            NoticeVersion.tenant_id == uow.tenant_id, NoticeVersion.purpose == key
        )
    )
    version = (latest or 0) + 1
    notice = NoticeVersion(
        tenant_id=uow.tenant_id,
        purpose=key,
        version=version,
        title=body.title,
        text=body.text.replace("\r\n", "\n") if body.text is not None else None,
        summary=body.summary,
        text_hash=digest,
        url=body.url,
        language=body.language,
        material=body.material,
        requires_renewal=renewal and version > 1,
        published_at=now,
        expires_at=body.expires_at,
    )
    uow.session.add(notice)
    purpose.current_notice_version = version
    if notice.requires_renewal:
        purpose.renewal_required_since = version
    purpose.updated_at = now
    bump_revision(purpose)
    uow.session.add(purpose)
    detail = {"text_hash": notice.text_hash, "material": body.material, "requires_renewal": notice.requires_renewal}
    uow.audit("notice.published", "notice_version", f"{key}/v{version}", detail)
    await uow.session.flush()
    await uow.session.refresh(purpose, ["revision"])
    await record_rules(uow, purpose)
    if notice.material and version > 1:
        await notice_changes.start_campaign(uow, purpose, notice)
    return notice


async def list_notices(uow: Uow, key: str) -> list[NoticeVersion]:
    """Every published version of a purpose's notice, oldest first."""
    await get_purpose(uow, key)
    rows = await uow.session.exec(
        select(NoticeVersion)
        .where(NoticeVersion.tenant_id == uow.tenant_id, NoticeVersion.purpose == key)
        .order_by(col(NoticeVersion.version))
    )
    return list(rows.all())


async def set_controller(uow: Uow, body: ControllerIn) -> ControllerProfile:
    """Create or replace the tenant's controller profile."""
    profile = await find(uow, ControllerProfile, uow.tenant_id)
    values = body.model_dump()
    if profile is None:
        profile = ControllerProfile(tenant_id=uow.tenant_id, updated_at=uow.now(), **values)
    else:
        for name, value in values.items():
            setattr(profile, name, value)
        profile.updated_at = uow.now()
    uow.session.add(profile)
    uow.audit("controller.updated", "controller_profile", uow.tenant_id)
    await uow.session.flush()
    return profile


async def get_controller(uow: Uow) -> ControllerProfile:
    """The tenant's controller profile, or 404 saying how to set it."""
    profile = await find(uow, ControllerProfile, uow.tenant_id)
    if profile is None:
        raise NotFound("No controller profile: PUT /v1/controller first.")
    return profile
