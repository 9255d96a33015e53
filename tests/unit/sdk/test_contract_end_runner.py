"""The SDK's contract-end tasks: a store that cannot purge says so; a hold on everything keeps everything."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from sdk import Exemption, Purged, StaticToken, Store, TenantScope, WorkerConfig
from sdk.tenant_actions import ContractEndRunner
from shared.events.catalogue.contract_ends import ContractEndTaskRequested
from shared.events.catalogue.dsar import TaskHold

CONFIG = WorkerConfig(system="billing", bootstrap_servers="unused:9092", token="t", tenants=("acme",))


def task(**extra: object) -> ContractEndTaskRequested:
    return ContractEndTaskRequested(
        task_id=uuid.uuid4(),
        contract_end_id=uuid.uuid4(),
        action="purge_tenant",
        system="billing",
        export_url="http://dsar.test/v1/contract-end-tasks/x/export",
        due_at=datetime.now(UTC),
        **extra,  # type: ignore[arg-type]
    )


class Billing(Store):
    def __init__(self) -> None:
        self.purged: list[TenantScope] = []

    async def purge_tenant(self, scope: TenantScope) -> Purged:
        self.purged.append(scope)
        return Purged(12, (Exemption("invoices", 3, "Code de commerce art. L123-22"),))


async def answer(store: Store, event: ContractEndTaskRequested) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        result = await ContractEndRunner(store, CONFIG, StaticToken("t"), http).run("acme", event)
    return result.model_dump()


async def test_a_store_without_purge_tenant_answers_unsupported_not_done() -> None:
    result = await answer(Store(), task())
    assert result["outcome"] == "unsupported"
    assert result["records_affected"] == 0


async def test_a_purge_reports_counts_exemptions_and_the_store_client() -> None:
    store = Billing()
    result = await answer(store, task())
    assert (result["outcome"], result["records_affected"]) == ("done", 12)
    assert result["exemptions"] == [{"what": "invoices", "records": 3, "ground": "Code de commerce art. L123-22"}]
    assert result["store_client"] == "system:billing"
    assert store.purged[0].tenant_id == "acme"


async def test_a_hold_on_the_whole_system_keeps_everything_without_calling_the_store() -> None:
    store = Billing()
    hold = TaskHold(hold_id=uuid.uuid4(), reason="case 12", placed_at=datetime.now(UTC))
    result = await answer(store, task(holds=[hold]))
    assert result["outcome"] == "exempt" and store.purged == []
    assert "Art. 17(3)(e)" in str(result["exemptions"])
