"""The demo CRM restarted after its tenant's purge keeps only the invoices: it seeds nothing again."""

from __future__ import annotations

import uuid

from examples.crm.store import CrmStore
from sdk import TenantScope
from tests.support.stack import Infra


async def test_the_crm_seeds_nothing_after_its_tenant_was_purged(infra: Infra) -> None:
    url = infra.postgres.url(f"crm_{uuid.uuid4().hex[:8]}", "postgresql")
    crm = await CrmStore.open(url)
    try:
        invoices = await crm.count("invoices")
        await crm.purge_tenant(TenantScope(tenant_id="ended", task_id="t-1", contract_end_id="c-1"))
    finally:
        await crm.close()
    restarted = await CrmStore.open(url)  # the process killed after the purge and started again
    try:
        assert (await restarted.count("contacts"), await restarted.count("invoices")) == (0, invoices)
    finally:
        await restarted.close()
