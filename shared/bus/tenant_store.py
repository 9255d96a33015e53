"""privops services as data stores at the end of a contract: export or destroy everything of one tenant.

A service declares its tenant data once (``TenantData``): the tables deleted at a contract's end, in
an order that respects their foreign keys, and the tables kept with the law that requires them.
``on_contract_end_task`` exports (uploading to the DSAR service over HTTP, claim check) or deletes
in the handler's transaction and stages the answer through the outbox: the deletion and the answer
commit together, and the inbox drops a redelivered task, so nothing is deleted or counted twice.
Art. 28(3)(g) GDPR, https://eur-lex.europa.eu/eli/reg/2016/679/oj.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import delete, func, select
from sqlmodel import SQLModel, col

from shared.bus.consumer import EventContext
from shared.events.catalogue.contract_ends import (
    ContractEndTaskCompleted,
    ContractEndTaskRequested,
    Exemption,
    tenant_holds,
)
from shared.events.catalogue.dsar import holds_exemption
from shared.runtime.audit import AuditEntry
from shared.runtime.http import http_client
from shared.runtime.tokens import service_tokens
from shared.runtime.uow import UnitOfWork

log = structlog.get_logger("privops.store.tenant")
TASK_SCOPE = "dsar:task"
# The audit log is hash-chained: deleting a tenant's entries would break every later entry's proof.
AUDIT_KEPT = (
    "Art. 5(2) GDPR (accountability): the tamper-evident audit log (keyed references, no raw identifiers); "
    "deleting entries would break its hash chain"
)


@dataclass(frozen=True)
class TenantData:
    """The tables a service holds a tenant's data in: deleted at the contract's end, or kept with their ground."""

    deleted: Sequence[type[SQLModel]]  # children before parents (foreign keys)
    kept: Sequence[tuple[type[SQLModel], str, str]] = field(default_factory=tuple)  # (table, what, legal ground)
    keep_audit: bool = True

    def tables(self) -> list[type[SQLModel]]:
        """Every table exported at a contract's end (deleted and kept)."""
        return [*self.deleted, *(model for model, _, _ in self.kept)]


def _tenant_col(model: type[SQLModel]) -> Any:
    return col(model.tenant_id)  # type: ignore[attr-defined]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return None  # encrypted columns: never exported as ciphertext
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


async def export_tenant(uow: UnitOfWork[Any], data: TenantData) -> dict[str, list[dict[str, Any]]]:
    """Every row the service holds for the unit's tenant, by table (encrypted columns left out)."""
    datasets: dict[str, list[dict[str, Any]]] = {}
    for model in data.tables():
        rows = (await uow.session.exec(select(model).where(_tenant_col(model) == uow.tenant_id))).scalars().all()  # type: ignore[call-overload]
        name = str(model.__tablename__)
        datasets[name] = [
            {column: _jsonable(getattr(row, column)) for column in model.model_fields if not column.endswith("_enc")}
            for row in rows
        ]
    return datasets


async def purge_tenant(uow: UnitOfWork[Any], data: TenantData) -> tuple[int, list[Exemption]]:
    """Delete the unit's tenant's rows of every deleted table; count what is kept and say why."""
    deleted = 0
    for model in data.deleted:
        result = await uow.session.exec(delete(model).where(_tenant_col(model) == uow.tenant_id))  # type: ignore[call-overload]
        deleted += int(result.rowcount or 0)
    kept: list[tuple[type[SQLModel], str, str]] = [*data.kept]
    if data.keep_audit:
        kept.append((AuditEntry, "audit log entries", AUDIT_KEPT))
    exemptions = []
    for model, what, ground in kept:
        count = await uow.session.scalar(
            select(func.count()).select_from(model).where(_tenant_col(model) == uow.tenant_id)
        )
        if count:
            exemptions.append(Exemption(what=what, records=int(count), ground=ground))
    uow.audit("tenant.purged", "tenant", uow.tenant_id, {"deleted": deleted, "kept": [e.what for e in exemptions]})
    return deleted, exemptions


async def upload_tenant_export(
    ctx: EventContext, event: ContractEndTaskRequested, datasets: dict[str, list[dict[str, Any]]]
) -> None:
    """Upload a contract end's export over authenticated HTTP (never through Kafka)."""
    token = await service_tokens(ctx.settings).token(ctx.tenant_id, [TASK_SCOPE])
    async with http_client(timeout=60.0) as client:
        response = await client.put(
            event.export_url,
            json={"system": event.system, "datasets": datasets},
            headers={"Authorization": f"Bearer {token}"},
        )
    response.raise_for_status()


async def answer_contract_end(
    uow: UnitOfWork[Any], ctx: EventContext, event: ContractEndTaskRequested, data: TenantData | None
) -> ContractEndTaskCompleted:
    """Carry out a contract-end task for a service (``unsupported`` without a ``TenantData``); stage the answer."""
    started = uow.now()
    client = f"service:{ctx.settings.service_name}"
    values: dict[str, Any] = {"outcome": "unsupported", "detail": "this service declares no tenant data"}
    if data is not None and event.action == "export_all":
        datasets = await export_tenant(uow, data)
        await upload_tenant_export(ctx, event, datasets)
        records = sum(len(rows) for rows in datasets.values())
        values = {"outcome": "done" if records else "no_data", "records_affected": records}
    elif data is not None and (held := tenant_holds(event.holds, event.system)):
        kept = Exemption(what="all of this system's data of the tenant", ground=holds_exemption(held))
        values = {"outcome": "exempt", "exemptions": [kept], "detail": "kept under legal hold; nothing deleted"}
    elif data is not None:
        deleted, exemptions = await purge_tenant(uow, data)
        outcome = "done" if deleted else ("exempt" if exemptions else "no_data")
        values = {"outcome": outcome, "records_affected": deleted, "exemptions": exemptions}
    answer = ContractEndTaskCompleted(
        task_id=event.task_id,
        contract_end_id=event.contract_end_id,
        system=event.system,
        action=event.action,
        store_client=client,
        started_at=started,
        completed_at=uow.now(),
        **values,
    )
    await uow.stage(answer, str(event.contract_end_id))
    log.info("store.contract_end_done", system=event.system, action=event.action, outcome=answer.outcome)
    return answer
