"""A tenant's notice settings: whom notices name (Art. 33(3)(b)) and whom they go to, in which language."""

from __future__ import annotations

from typing import Any

from services.breach.domain.notices import ContactPoint
from services.breach.models import TenantSettings
from services.breach.schemas.settings import SettingsIn, SettingsOut
from services.breach.service import Uow
from shared.runtime.repository import find


async def current(uow: Uow) -> TenantSettings | None:
    """The tenant's settings row, if it ever set them."""
    return await find(uow, TenantSettings, uow.tenant_id)


async def view(uow: Uow) -> SettingsOut:
    """The tenant's settings as the API shows them (empty when never set)."""
    row = await current(uow)
    if row is None:
        return SettingsOut()
    return SettingsOut.model_validate(row.model_dump(exclude={"tenant_id"}))


async def replace(uow: Uow, body: SettingsIn) -> SettingsOut:
    """Replace the tenant's settings; the audit chain records which parts changed (not the addresses)."""
    row = await find(uow, TenantSettings, uow.tenant_id, lock=True)
    values: dict[str, Any] = body.model_dump(mode="json")
    before: dict[str, Any] = row.model_dump(include=set(values)) if row else {}
    if row is None:
        row = TenantSettings(tenant_id=uow.tenant_id, updated_at=uow.now(), updated_by=uow.actor)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = uow.now(), uow.actor
    uow.session.add(row)
    changed = sorted(name for name, value in values.items() if before.get(name) != value)
    uow.audit(
        "breach.settings.updated",
        "tenant_settings",
        uow.tenant_id,
        {
            "changed": changed,
            "jurisdictions": sorted(body.authorities),
            "customers": len(body.customers),
        },
    )
    await uow.session.flush()
    return await view(uow)


def contact_point(row: TenantSettings | None) -> ContactPoint | None:
    """The contact point notices name, from the tenant's settings (None until it is set)."""
    if row is None or not row.contact:
        return None
    contact = row.contact
    return ContactPoint(contact["name"], email=contact.get("email"), phone=contact.get("phone"), role=contact["role"])
