"""The two demo stores running in-process with the SDK worker, against a running DSAR service."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples.analytics.store import REGISTRATION as ANALYTICS_REGISTRATION
from examples.analytics.store import AnalyticsStore
from examples.crm.store import REGISTRATION as CRM_REGISTRATION
from examples.crm.store import CrmStore
from sdk import Store, SystemRegistration, TaskWorker, WorkerConfig
from tests.integration.dsar.support import READ, TENANT, WRITE, Dsar
from tests.support.stack import JWT_SECRET, Infra, eventually


@dataclass
class DemoStores:
    """The CRM (PostgreSQL), the analytics store (SQLite) and their workers."""

    crm: CrmStore
    analytics: AnalyticsStore
    workers: dict[str, TaskWorker]


def worker_config(infra: Infra, dsar: Dsar, system: str, tmp_path: Path, **extra: Any) -> WorkerConfig:
    """A worker configuration for tests: short group timeouts, a ledger file in the test folder."""
    values: dict[str, Any] = {
        "system": system,
        "bootstrap_servers": infra.broker.bootstrap,
        "dsar_url": dsar.url,
        "jwt_secret": JWT_SECRET,
        "tenants": (TENANT,),
        "topic_prefix": dsar.settings.topic_prefix,
        "ledger_path": str(tmp_path / f"{system}-ledger.sqlite3"),
        "session_timeout_ms": 2000,
        "retry_backoff_s": 0.05,
    }
    return WorkerConfig(**{**values, **extra})


@contextlib.asynccontextmanager
async def run_workers(
    pairs: list[tuple[Store, WorkerConfig, SystemRegistration]], timeout: float = 30.0
) -> AsyncIterator[dict[str, TaskWorker]]:
    """Run workers until the block ends; wait until each has registered and joined its group."""
    workers = {config.system: TaskWorker(store, config, registration) for store, config, registration in pairs}
    tasks = [asyncio.create_task(w.run()) for w in workers.values()]
    try:
        async with asyncio.timeout(timeout):
            for worker, task in zip(workers.values(), tasks, strict=True):
                while not worker.ready.is_set():
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.05)
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=20)


@contextlib.asynccontextmanager
async def demo_stores(infra: Infra, dsar: Dsar, tmp_path: Path) -> AsyncIterator[DemoStores]:
    """Seeded CRM and analytics stores, registered in DSAR and answering its tasks."""
    crm = await CrmStore.open(infra.postgres.url(f"crm_{uuid.uuid4().hex[:8]}", "postgresql"))
    analytics = AnalyticsStore(tmp_path / "analytics.sqlite3")
    analytics.seed()
    pairs: list[tuple[Store, WorkerConfig, SystemRegistration]] = [
        (crm, worker_config(infra, dsar, "crm", tmp_path), CRM_REGISTRATION),
        (analytics, worker_config(infra, dsar, "analytics", tmp_path), ANALYTICS_REGISTRATION),
    ]
    try:
        async with run_workers(pairs) as workers:
            yield DemoStores(crm, analytics, workers)
    finally:
        await crm.close()
        analytics.close()


async def verify_by_code(dsar: Dsar, request_id: str) -> dict[str, Any]:
    """Confirm the request with the code sent to the subject (claimed as the notify service claims it)."""
    code = await dsar.code_for(request_id)
    response = await dsar.client.post(
        f"/v1/requests/{request_id}/verification/confirm", json={"code": code}, headers=WRITE
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def until_state(dsar: Dsar, request_id: str, state: str = "completed", timeout: float = 30.0) -> dict[str, Any]:
    """Wait until the request reaches ``state``; return it."""

    async def reached() -> dict[str, Any] | None:
        body = await dsar.request(request_id)
        return body if body["state"] == state else None

    result: dict[str, Any] = await eventually(reached, timeout=timeout)
    return result


async def tasks_of(dsar: Dsar, request_id: str) -> dict[str, dict[str, Any]]:
    """The request's tasks by system."""
    response = await dsar.client.get(f"/v1/requests/{request_id}/tasks", headers=READ)
    assert response.status_code == 200, response.text
    return {t["system"]: t for t in response.json()}
