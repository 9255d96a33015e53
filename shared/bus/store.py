"""privops services as data stores: answering DSAR tasks for the personal data they hold.

The consent, retention, breach and subprocessor services hold personal data too, so they
answer ``io.privops.dsar.task.requested`` like any product store. A service describes what it
can do with a subject's data (``StoreActions``); ``dsar_task_subscription`` turns that into a
consumer that acts in the handler's transaction, uploads access exports to the DSAR service
over HTTP (claim check — never through Kafka) and stages the result through the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.consumer import EventContext, Subscription
from shared.bus.tenant_store import TenantData, answer_contract_end
from shared.events.catalogue.contract_ends import ContractEndTaskRequested
from shared.events.catalogue.dsar import (
    KEPT_WHOLE,
    DsarTaskCompleted,
    DsarTaskRequested,
    TaskHold,
    holds_exemption,
    whole_holds,
)
from shared.runtime.http import http_client
from shared.runtime.tokens import service_tokens
from shared.runtime.uow import UnitOfWork

log = structlog.get_logger("privops.store")

TASK_SCOPE = "dsar:task"
Outcome = Literal["done", "no_data", "exempt"]


@dataclass(frozen=True)
class StoreResult:
    """What a store did for one task."""

    outcome: Outcome
    records_affected: int = 0
    exemption: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class TaskInput:
    """The task as a store sees it: the subject reference, and the claimed details when needed."""

    tenant_id: str
    subject_ref: str
    action: str
    request_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)
    subject_refs: tuple[str, ...] = ()
    holds: tuple[TaskHold, ...] = ()  # legal holds on part of an erasure (a category or a matter): keep what they cover

    @property
    def refs(self) -> list[str]:
        """The references of every identifier of the request (at least ``subject_ref``), for stores to act on each."""
        return list(dict.fromkeys((self.subject_ref, *self.subject_refs)))


class StoreActions(Protocol):
    """What a service does with one subject's data; each method runs in the handler's unit of work (its tenant)."""

    async def erase(self, uow: UnitOfWork[Any], task: TaskInput) -> StoreResult:
        """Delete or anonymise the subject's data (keeping what the law requires, reported as exempt)."""
        ...

    async def export(self, uow: UnitOfWork[Any], task: TaskInput) -> list[dict[str, Any]]:
        """Every record held about the subject, as JSON-ready dicts (access and portability)."""
        ...

    async def restrict(self, uow: UnitOfWork[Any], task: TaskInput, lift: bool) -> StoreResult:
        """Stop (or resume) processing the subject's data."""
        ...

    async def object(self, uow: UnitOfWork[Any], task: TaskInput) -> StoreResult:
        """Stop processing based on legitimate interest or for direct marketing."""
        ...

    async def rectify(self, uow: UnitOfWork[Any], task: TaskInput) -> StoreResult:
        """Correct the subject's data with ``task.details['corrections']``."""
        ...


def export_url(claim_url: str) -> str:
    """Where a store uploads an access export: the task's ``/export`` beside its ``/claim``."""
    return claim_url.removesuffix("/claim") + "/export"


async def service_token(ctx: EventContext, tenant_id: str) -> str:
    """A short-lived ``dsar:task`` token for calling the DSAR service on behalf of a tenant."""
    return await service_tokens(ctx.settings).token(tenant_id, [TASK_SCOPE])


async def claim_details(event: DsarTaskRequested, ctx: EventContext) -> dict[str, Any]:
    """Fetch the task's identifiers and details from its claim URL (only for actions that need them)."""
    async with http_client(timeout=10.0) as client:
        response = await client.get(
            event.claim_url, headers={"Authorization": f"Bearer {await service_token(ctx, ctx.tenant_id)}"}
        )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def upload_export(event: DsarTaskRequested, ctx: EventContext, records: list[dict[str, Any]]) -> None:
    """Upload an access export for the task over authenticated HTTP."""
    async with http_client(timeout=30.0) as client:
        response = await client.put(
            export_url(event.claim_url),
            json={"system": event.system, "format": "json", "records": records},
            headers={"Authorization": f"Bearer {await service_token(ctx, ctx.tenant_id)}"},
        )
    response.raise_for_status()


def dsar_task_subscription(system: str, actions: StoreActions, actor: str = "dsar-task") -> Subscription:
    """A consumer answering the DSAR tasks addressed to ``system`` with ``actions``, acting as ``actor``."""

    async def on_task(session: AsyncSession, event: DsarTaskRequested, ctx: EventContext) -> None:
        uow = ctx.unit_of_work(session, actor=actor)
        task = TaskInput(
            tenant_id=ctx.tenant_id,
            subject_ref=event.subject_ref,
            action=event.action,
            request_id=event.request_id,
            subject_refs=tuple(event.subject_refs),
            holds=tuple(event.holds),
        )
        if event.action in ("access", "portability"):
            records = await actions.export(uow, task)
            await upload_export(event, ctx, records)
            result = StoreResult("done" if records else "no_data", records_affected=len(records))
        elif event.action == "erase" and (whole := whole_holds(event.holds, event.system)):
            # A hold with no category or matter keeps everything: answered here, so no service can forget it.
            result = StoreResult("exempt", exemption=holds_exemption(whole), detail=KEPT_WHOLE)
        elif event.action == "erase":
            result = await actions.erase(uow, task)
        elif event.action in ("restrict", "lift_restriction"):
            result = await actions.restrict(uow, task, lift=event.action == "lift_restriction")
        elif event.action == "object":
            result = await actions.object(uow, task)
        else:  # rectify needs the corrections, which only the claim check carries
            details = await claim_details(event, ctx)
            result = await actions.rectify(uow, TaskInput(**{**task.__dict__, "details": details}))
        await uow.stage(
            DsarTaskCompleted(
                task_id=event.task_id,
                request_id=event.request_id,
                system=system,
                outcome=result.outcome,
                records_affected=result.records_affected,
                exemption=result.exemption,
                detail=result.detail,
                completed_at=uow.now(),
            ),
            event.subject_ref,
        )
        log.info("store.task_done", system=system, action=event.action, outcome=result.outcome)

    async def on_contract_end(session: AsyncSession, event: ContractEndTaskRequested, ctx: EventContext) -> None:
        # A service's tenant data is declared once (``tenant_data``); without it the task is answered unsupported.
        data: TenantData | None = getattr(actions, "tenant_data", None)
        await answer_contract_end(ctx.unit_of_work(session, actor=actor), ctx, event, data)

    return Subscription(
        name="dsar-tasks",
        handlers={DsarTaskRequested: on_task, ContractEndTaskRequested: on_contract_end},
        accepts=lambda event: (
            isinstance(event, DsarTaskRequested | ContractEndTaskRequested) and event.system == system
        ),
        # A burst of tasks (an erasure campaign) is answered in a few transactions, not one each. The only
        # calls out, an export's upload and a claim check, are idempotent: a poll applied again one event at
        # a time after a failure uploads the same export again.
        batched=True,
    )
