"""Templates as a tenant sees them: the built-in ones with its overrides and brand on top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from services.notify.domain import Message, TemplateCatalogue
from services.notify.models import TemplateOverride, TenantProfile
from services.notify.schemas import OverrideOut, TemplateOut
from services.notify.service import Uow
from services.notify.service.profile import profile_or_default
from shared.runtime.repository import get_or_404_by

CATALOGUE = TemplateCatalogue()


async def overrides_of(uow: Uow) -> dict[str, str]:
    """The tenant's overridden files, keyed ``<locale>/<file>`` as the catalogue looks them up."""
    rows = await uow.session.exec(select(TemplateOverride).where(col(TemplateOverride.tenant_id) == uow.tenant_id))
    return {f"{o.locale}/{o.file}": o.source for o in rows.all()}


def brand_of(profile: TenantProfile) -> dict[str, Any]:
    """What ``layout.html`` shows of the tenant: its name and colour, where it set them."""
    brand: dict[str, Any] = {}
    if profile.brand_name:
        brand["name"] = profile.brand_name
    if profile.brand_colour:
        brand["colour"] = profile.brand_colour
    return brand


async def render(uow: Uow, key: str, locale: str | None, context: Mapping[str, Any]) -> Message:
    """``key`` rendered for the tenant in the best locale for ``locale`` (``UnknownTemplate`` → 422)."""
    profile = await profile_or_default(uow)
    return CATALOGUE.render(
        key, locale or profile.default_locale, context, overrides=await overrides_of(uow), brand=brand_of(profile)
    )


async def list_templates(uow: Uow) -> list[TemplateOut]:
    """Every built-in key with its locales and the tenant's overridden files."""
    overridden = sorted(await overrides_of(uow))
    return [
        TemplateOut(
            key=key,
            locales=CATALOGUE.locales(key),
            overrides=[name for name in overridden if name.split("/", 1)[1].rsplit(".", 1)[0] == key],
        )
        for key in sorted(CATALOGUE.keys())
    ]


async def put_override(uow: Uow, locale: str, file: str, source: str) -> OverrideOut:
    """Store the tenant's version of one file, once it renders (``InvalidTemplate`` → 422 otherwise)."""
    CATALOGUE.check_override(locale, file, source)
    row = (
        await uow.session.exec(
            select(TemplateOverride)
            .where(
                col(TemplateOverride.tenant_id) == uow.tenant_id,
                col(TemplateOverride.locale) == locale,
                col(TemplateOverride.file) == file,
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        row = TemplateOverride(tenant_id=uow.tenant_id, locale=locale, file=file, source=source, updated_at=uow.now())
    row.source, row.updated_at = source, uow.now()
    uow.session.add(row)
    uow.audit("template.overridden", "template_override", f"{locale}/{file}", {"length": len(source)})
    await uow.session.flush()
    return OverrideOut.model_validate(row, from_attributes=True)


async def delete_override(uow: Uow, locale: str, file: str) -> None:
    """Drop the tenant's version of one file: the built-in one applies again (404 when none)."""
    row = await get_or_404_by(uow, TemplateOverride, label="template override", locale=locale, file=file)
    await uow.session.delete(row)
    uow.audit("template.override_removed", "template_override", f"{locale}/{file}", {})
    await uow.session.flush()
