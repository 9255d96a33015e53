"""Carrying out one contract-end task for a store: export everything of the tenant, or destroy it.

``export_all`` uploads the store's ``export_tenant`` to the task's export URL; ``purge_tenant``
calls the store's ``purge_tenant``. A store that does not implement the action answers
``unsupported``: the DSAR service keeps the task open for a person, never counting it as done.
Art. 28(3)(g) GDPR, https://eur-lex.europa.eu/eli/reg/2016/679/oj.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from sdk.actions import TASK_SCOPE, _jsonable
from sdk.client import TokenSource
from sdk.config import WorkerConfig
from sdk.ledger import Answer
from sdk.store import Hold, Store, TenantScope
from shared.events.catalogue.contract_ends import (
    ContractEndTaskCompleted,
    ContractEndTaskFailed,
    ContractEndTaskRequested,
    Exemption,
    tenant_holds,
)
from shared.events.catalogue.dsar import holds_exemption

log = structlog.get_logger("privops.sdk.contract_end")
METHODS = {"export_all": "export_tenant", "purge_tenant": "purge_tenant"}


class ContractEndRunner:
    """Runs one contract-end task against the store, with retries; returns the answer event."""

    def __init__(self, store: Store, config: WorkerConfig, tokens: TokenSource, http: httpx.AsyncClient) -> None:
        self.store = store
        self.config = config
        self.tokens = tokens
        self.http = http

    @property
    def client(self) -> str:
        """The store's identity as the certificate names it: its OAuth client, else its token subject."""
        return self.config.client_id or f"system:{self.config.system}"

    def scope(self, tenant: str, event: ContractEndTaskRequested) -> TenantScope:
        """The task as the store sees it."""
        holds = tuple(
            Hold(str(h.hold_id), h.reason, h.subject_ref is not None, h.category, h.matter) for h in event.holds
        )
        return TenantScope(tenant, str(event.task_id), str(event.contract_end_id), holds)

    async def upload(self, tenant: str, event: ContractEndTaskRequested, datasets: dict[str, Any]) -> None:
        """Upload the tenant's export over HTTP (never through Kafka)."""
        token = await self.tokens.token(tenant, [TASK_SCOPE])
        response = await self.http.put(
            event.export_url,
            json={"system": self.config.system, "datasets": datasets},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()

    async def dispatch(self, tenant: str, event: ContractEndTaskRequested) -> dict[str, Any]:
        """The answer's values for the task's action."""
        if not self.store.overrides(METHODS[event.action]):
            detail = f"{self.config.system} does not implement {METHODS[event.action]!r}: close this task by hand"
            return {"outcome": "unsupported", "detail": detail}
        scope = self.scope(tenant, event)
        if event.action == "export_all":
            datasets = {
                name: [_jsonable(r) for r in rows] for name, rows in (await self.store.export_tenant(scope)).items()
            }
            await self.upload(tenant, event, datasets)
            records = sum(len(rows) for rows in datasets.values())
            return {"outcome": "done" if records else "no_data", "records_affected": records}
        if held := tenant_holds(event.holds, event.system):  # answered here, so no store can forget it
            kept = Exemption(what="all of this system's data of the tenant", ground=holds_exemption(held))
            return {"outcome": "exempt", "exemptions": [kept], "detail": "kept under legal hold; nothing deleted"}
        purged = await self.store.purge_tenant(scope)
        exemptions = [Exemption(what=e.what, records=e.records, ground=e.ground) for e in purged.exemptions]
        outcome = "done" if purged.records else ("exempt" if exemptions else "no_data")
        return {
            "outcome": outcome,
            "records_affected": purged.records,
            "exemptions": exemptions,
            "detail": purged.detail,
        }

    async def run(
        self, tenant: str, event: ContractEndTaskRequested
    ) -> ContractEndTaskCompleted | ContractEndTaskFailed:
        """Carry out the task; retry transient failures; the last one becomes ``contract_end.task.failed``."""
        started = datetime.now(UTC)
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                values = await self.dispatch(tenant, event)
                log.info("store.contract_end_done", system=self.config.system, action=event.action)
                return ContractEndTaskCompleted(
                    task_id=event.task_id,
                    contract_end_id=event.contract_end_id,
                    system=self.config.system,
                    action=event.action,
                    store_client=self.client,
                    started_at=started,
                    completed_at=datetime.now(UTC),
                    **values,
                )
            except Exception as exc:
                log.warning(
                    "store.contract_end_retry", system=self.config.system, attempt=attempt, error=str(exc)[:300]
                )
                if attempt == self.config.max_attempts:
                    return ContractEndTaskFailed(
                        task_id=event.task_id,
                        contract_end_id=event.contract_end_id,
                        system=self.config.system,
                        action=event.action,
                        error=f"{type(exc).__name__}: {exc}"[:2000],
                        failed_at=datetime.now(UTC),
                    )
                await asyncio.sleep(self.config.retry_backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def redo(known: Answer, attempt: int) -> bool:
    """True when a re-published task failed before: carry it out again rather than repeat the failure."""
    return known.event_type == ContractEndTaskFailed.event_type and attempt > known.attempt
