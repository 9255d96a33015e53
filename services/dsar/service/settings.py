"""A tenant's DSAR settings: the public-holiday calendar each regime's clocks use."""

from __future__ import annotations

from services.dsar.domain import REGIMES, calendar_code, calendar_rule, check_calendar_choice, working_calendar
from services.dsar.models import DsarTenantSettings
from services.dsar.schemas.settings import CalendarInUse, SettingsIn, SettingsOut
from services.dsar.service import Uow
from shared.runtime.repository import find


async def chosen_calendars(uow: Uow) -> dict[str, str]:
    """The calendars the tenant chose, by regime id (empty until it sets any)."""
    row = await find(uow, DsarTenantSettings, uow.tenant_id)
    return dict(row.calendars) if row else {}


async def view(uow: Uow) -> SettingsOut:
    """The tenant's settings as the API shows them, with the calendar every concerned regime uses now."""
    row = await find(uow, DsarTenantSettings, uow.tenant_id)
    chosen = dict(row.calendars) if row else {}
    in_use = {}
    for regime in REGIMES.values():
        if not regime.counts_working_days():
            continue
        code = calendar_code(regime, chosen)
        in_use[regime.id] = CalendarInUse(
            code=code,
            description=working_calendar(code).description,
            chosen="setting" if regime.id in chosen else "default",
            source=calendar_rule(regime).source or regime.computation.rule,
        )
    return SettingsOut(
        calendars=chosen,
        calendars_in_use=in_use,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


async def replace(uow: Uow, body: SettingsIn) -> SettingsOut:
    """Replace the tenant's settings; refuse a calendar that cannot apply to its regime (nothing changes)."""
    calendars = {regime: check_calendar_choice(regime, code) for regime, code in sorted(body.calendars.items())}
    row = await find(uow, DsarTenantSettings, uow.tenant_id, lock=True)
    before = dict(row.calendars) if row else {}
    if row is None:
        row = DsarTenantSettings(tenant_id=uow.tenant_id, updated_at=uow.now(), updated_by=uow.actor)
    row.calendars = calendars
    row.updated_at, row.updated_by = uow.now(), uow.actor
    uow.session.add(row)
    changed = sorted(r for r in set(before) | set(calendars) if before.get(r) != calendars.get(r))
    detail = {"calendars": calendars, "changed": changed}
    uow.audit("dsar.settings.updated", "dsar_tenant_settings", uow.tenant_id, detail)
    await uow.session.flush()
    return await view(uow)
