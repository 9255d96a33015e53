"""The tenant's systems and the categories of data each holds (retention's own registry)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, delete, select, update

from services.retention.domain import parse_category
from services.retention.models import DataSystem, SubjectSchedule, SystemCategory
from services.retention.service import Uow


async def register_system(
    uow: Uow, key: str, categories: Sequence[str], description: str | None = None
) -> tuple[DataSystem, list[str]]:
    """Create or replace a system and the categories it holds; new categories are swept at the next run."""
    wanted = sorted({parse_category(category).value for category in categories})
    now = uow.now()
    tenant = uow.tenant_id
    session = uow.session
    system = await session.get(DataSystem, (tenant, key))
    if system is None:
        system = DataSystem(tenant_id=tenant, key=key, description=description, created_at=now, updated_at=now)
    else:
        system.description = description
        system.updated_at = now
    session.add(system)
    held = set(await categories_of(uow, key))
    await session.exec(
        delete(SystemCategory).where(
            col(SystemCategory.tenant_id) == tenant,
            col(SystemCategory.system) == key,
            col(SystemCategory.category).not_in(wanted),
        )
    )
    for category in wanted:
        if category not in held:
            session.add(SystemCategory(tenant_id=tenant, system=key, category=category, next_sweep_at=now))
    if wanted:
        # Schedules waiting for a system that holds their category can now be routed.
        await session.exec(
            update(SubjectSchedule)
            .where(
                col(SubjectSchedule.tenant_id) == tenant,
                col(SubjectSchedule.status) == "unrouted",
                col(SubjectSchedule.category).in_(wanted),
            )
            .values(status="pending")
        )
    uow.audit("system.registered", "data_system", key, {"categories": wanted})
    await session.flush()
    return system, wanted


async def categories_of(uow: Uow, system: str) -> list[str]:
    """The categories one system holds."""
    rows = await uow.session.exec(
        select(SystemCategory.category)
        .where(col(SystemCategory.tenant_id) == uow.tenant_id, col(SystemCategory.system) == system)
        .order_by(col(SystemCategory.category))
    )
    return list(rows.all())


async def system_categories(uow: Uow) -> list[SystemCategory]:
    """Every (system, category) pair of the tenant."""
    rows = await uow.session.exec(
        select(SystemCategory)
        .where(col(SystemCategory.tenant_id) == uow.tenant_id)
        .order_by(col(SystemCategory.system), col(SystemCategory.category))
    )
    return list(rows.all())


async def list_systems(uow: Uow) -> list[tuple[DataSystem, list[str]]]:
    """The tenant's systems with their categories."""
    systems = (
        await uow.session.exec(
            select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id).order_by(col(DataSystem.key))
        )
    ).all()
    pairs = await system_categories(uow)
    return [(system, [p.category for p in pairs if p.system == system.key]) for system in systems]
