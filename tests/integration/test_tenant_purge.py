"""Every privops service at a contract's end: it exports, then deletes, one tenant's rows and keeps what it names.

Each service's ``tenant_data`` is run on the objects the hardening factories make for two tenants: the
ended tenant's deleted tables are empty afterwards (their foreign keys allow the order), the kept
ones are counted with their ground, the other tenant's rows are untouched, and a second run deletes
nothing more.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from shared.bus.tenant_store import TenantData, export_tenant, purge_tenant
from shared.runtime.uow import UnitOfWork
from tests.hardening.factories import FACTORIES
from tests.hardening.support import TENANT_A, TENANT_B, service
from tests.support.stack import Infra, RunningService

pytestmark = pytest.mark.integration


def tenant_data(name: str) -> TenantData:
    """The service's declaration, from its DSAR store."""
    module = importlib.import_module(f"services.{name}.service.store")
    (data,) = [v.tenant_data for v in vars(module).values() if isinstance(v, type) and hasattr(v, "tenant_data")]
    assert isinstance(data, TenantData)
    return data


async def counts(svc: RunningService, tables: list[type[SQLModel]], tenant: str) -> dict[str, int]:
    async with svc.runtime.database.session() as session:
        return {
            str(t.__tablename__): int(
                await session.scalar(select(func.count()).select_from(t).where(col(t.tenant_id) == tenant)) or 0  # type: ignore[attr-defined]
            )
            for t in tables
        }


async def run(svc: RunningService, data: TenantData, action: Any) -> Any:
    async with svc.runtime.database.session() as session:
        return await action(UnitOfWork(session, svc.settings, svc.clock, TENANT_A, "test"), data)


@pytest.mark.parametrize("name", sorted(FACTORIES))
async def test_a_service_deletes_an_ended_tenants_rows_and_names_what_it_keeps(
    infra: Infra, topic_prefix: str, tmp_path: Path, name: str
) -> None:
    data = tenant_data(name)
    async with service(infra, name, topic_prefix, tmp_path) as svc:
        await FACTORIES[name](svc, TENANT_A)
        await FACTORIES[name](svc, TENANT_B)
        before = await counts(svc, data.tables(), TENANT_A)
        others = await counts(svc, data.tables(), TENANT_B)
        assert sum(before.values()), f"{name}: the factory made nothing the declaration covers"

        exported = await run(svc, data, export_tenant)
        assert {table: len(rows) for table, rows in exported.items()} == before
        deleted, exemptions = await run(svc, data, purge_tenant)
        assert deleted == sum(before[str(t.__tablename__)] for t in data.deleted)
        after = await counts(svc, data.tables(), TENANT_A)
        assert all(after[str(t.__tablename__)] == 0 for t in data.deleted), after
        kept = {e.what: e.records for e in exemptions}
        for table, what, ground in data.kept:
            assert ground and after[str(table.__tablename__)] == kept.get(what, 0)
        assert "audit log entries" in kept  # every service audits: the chain stays
        assert await counts(svc, data.tables(), TENANT_B) == others

        again, _ = await run(svc, data, purge_tenant)
        assert again == 0
