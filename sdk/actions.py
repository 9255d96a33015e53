"""Carrying out one DSAR task for a store: claim check, the store's method, export upload, the answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from sdk.client import TokenSource
from sdk.config import WorkerConfig
from sdk.store import Hold, Identifier, Identifiers, Outcome, Store
from shared.events.catalogue.dsar import (
    KEPT_WHOLE,
    DsarTaskCompleted,
    DsarTaskFailed,
    DsarTaskRequested,
    holds_exemption,
    whole_holds,
)

log = structlog.get_logger("privops.sdk.task")
TASK_SCOPE = "dsar:task"


class TaskClosed(Exception):
    """The DSAR service no longer serves the task (410): nothing to do."""


class Rejected(Exception):
    """The task cannot be carried out by this store at all (no retry)."""


def export_url(claim_url: str) -> str:
    """Where an access export goes: the task's ``/export`` beside its ``/claim``."""
    return claim_url.removesuffix("/claim") + "/export"


class TaskRunner:
    """Runs one task against the store, with retries; returns the answer event (None when closed)."""

    def __init__(self, store: Store, config: WorkerConfig, tokens: TokenSource, http: httpx.AsyncClient) -> None:
        self.store = store
        self.config = config
        self.tokens = tokens
        self.http = http

    async def _auth(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.tokens.token(tenant, [TASK_SCOPE])}"}

    async def claim(self, tenant: str, event: DsarTaskRequested) -> Identifiers:
        """Fetch the subject's identifiers and the request's details from the claim URL."""
        response = await self.http.get(event.claim_url, headers=await self._auth(tenant))
        if response.status_code == 410:
            raise TaskClosed(response.json().get("detail", "closed"))
        if response.status_code in (401, 403, 404):
            raise Rejected(f"claim refused ({response.status_code}): {response.text[:300]}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return Identifiers(
            items=tuple(Identifier(i["kind"], i["value"]) for i in body["identifiers"]),
            task_id=str(event.task_id),
            request_id=str(event.request_id),
            tenant_id=tenant,
            subject_ref=event.subject_ref,
            details=body.get("details") or {},
            recipients=tuple(body.get("recipients") or ()),
            holds=tuple(
                Hold(str(h.hold_id), h.reason, h.subject_ref is not None, h.category, h.matter) for h in event.holds
            ),
        )

    async def upload(self, tenant: str, event: DsarTaskRequested, records: list[dict[str, Any]]) -> None:
        """Upload an access export over HTTP (never through Kafka)."""
        response = await self.http.put(
            export_url(event.claim_url),
            json={"system": self.config.system, "format": "json", "records": records},
            headers=await self._auth(tenant),
        )
        if response.status_code == 410:
            raise TaskClosed("the task closed before the export arrived")
        if response.status_code in (401, 403, 404, 409, 422):
            raise Rejected(f"export refused ({response.status_code}): {response.text[:300]}")
        response.raise_for_status()

    async def dispatch(self, tenant: str, event: DsarTaskRequested, ids: Identifiers) -> Outcome:
        """Call the store's method for the task's action."""
        store, action = self.store, event.action
        method = {"access": "export", "portability": "export"}.get(action, action)
        if not store.overrides(method):
            raise Rejected(f"{self.config.system} does not implement {method!r} ({action} tasks)")
        if action in ("access", "portability"):
            records = [_jsonable(r) for r in await store.export(ids)]
            await self.upload(tenant, event, records)
            return Outcome.done(len(records)) if records else Outcome.no_data()
        if action == "erase":
            if whole := whole_holds(event.holds, event.system):
                # A hold with no category or matter keeps everything: answered here, so no store can forget it.
                return Outcome.exempt(holds_exemption(whole), detail=KEPT_WHOLE)
            return await store.erase(ids)
        if action == "rectify":
            corrections = {c["field"]: c["new_value"] for c in ids.details.get("corrections", [])}
            return await store.rectify(ids, corrections)
        if action == "restrict":
            return await store.restrict(ids)
        if action == "lift_restriction":
            return await store.lift_restriction(ids)
        return await store.object(ids, list(ids.details.get("purposes", [])))

    async def run(self, tenant: str, event: DsarTaskRequested) -> DsarTaskCompleted | DsarTaskFailed | None:
        """Carry out the task; retry transient failures; a final failure becomes ``task.failed``."""
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                ids = await self.claim(tenant, event)
                outcome = await self.dispatch(tenant, event, ids)
                log.info("store.task_done", system=self.config.system, action=event.action, outcome=outcome.kind)
                return DsarTaskCompleted(
                    task_id=event.task_id,
                    request_id=event.request_id,
                    system=self.config.system,
                    outcome=outcome.kind,
                    records_affected=outcome.records_affected,
                    exemption=outcome.exemption,
                    detail=outcome.detail,
                    completed_at=datetime.now(UTC),
                )
            except TaskClosed:
                log.info("store.task_closed", system=self.config.system, task_id=str(event.task_id))
                return None
            except Rejected as exc:
                return self._failed(event, str(exc), retryable=False)
            except Exception as exc:
                log.warning("store.task_retry", system=self.config.system, attempt=attempt, error=str(exc)[:300])
                if attempt == attempts:
                    return self._failed(event, f"{type(exc).__name__}: {exc}", retryable=True)
                await asyncio.sleep(self.config.retry_backoff_s * 2 ** (attempt - 1))
        return None

    def _failed(self, event: DsarTaskRequested, error: str, *, retryable: bool) -> DsarTaskFailed:
        log.error("store.task_failed", system=self.config.system, task_id=str(event.task_id), error=error[:300])
        return DsarTaskFailed(
            task_id=event.task_id,
            request_id=event.request_id,
            system=self.config.system,
            error=error[:2000],
            retryable=retryable,
            failed_at=datetime.now(UTC),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
