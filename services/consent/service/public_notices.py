"""A tenant's notices as anyone may read them: each purpose's text in force, every earlier version, the banner.

Privacy notices are public by nature (GDPR Art. 12(1) asks for them to be easily accessible, and
a change to be brought to the person's attention; https://eur-lex.europa.eu/eli/reg/2016/679/oj),
so these reads need no token: the path names the tenant. Only published versions of purposes with
a notice are shown; anything else, an unknown tenant included, is the same 404.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from services.consent.domain.notice_changes import PublishedChange, in_banner
from services.consent.models import NoticeVersion, Purpose
from services.consent.schemas.notices import (
    BannerItemOut,
    BannerOut,
    PublicHistoryOut,
    PublicNoticesOut,
    PublicPurposeOut,
    PublicTextOut,
    PublicVersionOut,
)
from services.consent.service import Uow
from shared.rules.errors import NotFound


def notices_link(uow: Uow, purpose: str | None = None) -> str:
    """The public address of the tenant's notices, or of one purpose's history."""
    path = f"/v1/public/tenants/{uow.tenant_id}/notices"
    return uow.url(path if purpose is None else f"{path}/{purpose}")


def version_link(uow: Uow, purpose: str, version: int) -> str:
    """The public address of one version's text."""
    return notices_link(uow, purpose) + f"/versions/{version}"


def public_version(uow: Uow, notice: NoticeVersion) -> PublicVersionOut:
    """A version as the public reads it, with its own link."""
    return PublicVersionOut(
        purpose=notice.purpose,
        version=notice.version,
        title=notice.title,
        summary=notice.summary,
        language=notice.language,
        material=notice.material,
        requires_renewal=notice.requires_renewal,
        published_at=notice.published_at,
        expires_at=notice.expires_at,
        text_hash=notice.text_hash,
        url=notice.url,
        link=version_link(uow, notice.purpose, notice.version),
    )


async def _published_purpose(uow: Uow, key: str) -> Purpose:
    purpose = await uow.session.get(Purpose, (uow.tenant_id, key))
    if purpose is None or purpose.current_notice_version is None:
        raise NotFound(f"No published notice for {key!r}.")
    return purpose


async def tenant_notices(uow: Uow) -> PublicNoticesOut:
    """Every purpose with a published notice and its version in force; 404 when there is none."""
    rows = await uow.session.exec(
        select(Purpose, NoticeVersion)
        .join(
            NoticeVersion,
            (col(NoticeVersion.tenant_id) == col(Purpose.tenant_id))
            & (col(NoticeVersion.purpose) == col(Purpose.key))
            & (col(NoticeVersion.version) == col(Purpose.current_notice_version)),
        )
        .where(Purpose.tenant_id == uow.tenant_id)
        .order_by(col(Purpose.key))
    )
    purposes = [
        PublicPurposeOut(
            purpose=purpose.key,
            name=purpose.name,
            description=purpose.description,
            lawful_basis=purpose.lawful_basis,
            current_version=notice.version,
            current=public_version(uow, notice),
            history=notices_link(uow, purpose.key),
        )
        for purpose, notice in rows.all()
    ]
    if not purposes:
        raise NotFound("No published notices.")
    return PublicNoticesOut(tenant=uow.tenant_id, purposes=purposes)


async def purpose_history(uow: Uow, key: str) -> PublicHistoryOut:
    """Every published version of one purpose's notice, newest first."""
    purpose = await _published_purpose(uow, key)
    rows = await uow.session.exec(
        select(NoticeVersion)
        .where(NoticeVersion.tenant_id == uow.tenant_id, NoticeVersion.purpose == key)
        .order_by(col(NoticeVersion.version).desc())
    )
    versions = [public_version(uow, notice) for notice in rows.all()]
    return PublicHistoryOut(tenant=uow.tenant_id, purpose=key, name=purpose.name, versions=versions)


async def version_text(uow: Uow, key: str, version: int) -> PublicTextOut:
    """One version with its text, and the link to the one before."""
    await _published_purpose(uow, key)
    notice = await uow.session.get(NoticeVersion, (uow.tenant_id, key, version))
    if notice is None:
        raise NotFound(f"No version {version} of the notice for {key!r}.")
    previous = version_link(uow, key, version - 1) if version > 1 else None
    return PublicTextOut(**public_version(uow, notice).model_dump(), text=notice.text, previous=previous)


async def banner(uow: Uow) -> BannerOut:
    """The newest material change of each purpose still within the display window, newest first."""
    now = uow.now()
    window = timedelta(days=uow.settings.notice_banner_days)
    rows = await uow.session.exec(
        select(NoticeVersion, Purpose.name)
        .join(
            Purpose,
            (col(Purpose.tenant_id) == col(NoticeVersion.tenant_id)) & (col(Purpose.key) == col(NoticeVersion.purpose)),
        )
        .where(
            NoticeVersion.tenant_id == uow.tenant_id,
            col(NoticeVersion.material).is_(True),
            col(NoticeVersion.published_at) >= now - window,
        )
    )
    found = {(notice.purpose, notice.version): (notice, name) for notice, name in rows.all()}
    shown = in_banner([PublishedChange(p, v, n.published_at) for (p, v), (n, _) in found.items()], now, window)
    changes = []
    for change in shown:
        notice, name = found[(change.purpose, change.version)]
        changes.append(
            BannerItemOut(
                purpose=notice.purpose,
                name=name,
                version=notice.version,
                title=notice.title,
                summary=notice.summary,
                published_at=notice.published_at,
                requires_renewal=notice.requires_renewal,
                link=version_link(uow, notice.purpose, notice.version),
                previous=version_link(uow, notice.purpose, notice.version - 1) if notice.version > 1 else None,
                until=notice.published_at + window,
            )
        )
    return BannerOut(tenant=uow.tenant_id, window_days=uow.settings.notice_banner_days, changes=changes)
