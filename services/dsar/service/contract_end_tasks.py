"""A contract end's tasks: one per system and action, published, answered (once), exported, re-published.

An answer is applied once: a task already closed ignores a repeat (a store's redelivered answer, or
its answer to a re-publication), so nothing is counted twice.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.domain.tasks import retry_delay
from services.dsar.models import ContractEnd, ContractEndTask, DataSystem
from services.dsar.service import Job, Uow
from services.dsar.service.crypto import seal
from services.dsar.service.holds import active_holds
from services.dsar.service.tasks import client_of, system_of
from shared.events.catalogue import Event
from shared.events.catalogue.contract_ends import (
    ContractEndTaskCompleted,
    ContractEndTaskFailed,
    ContractEndTaskNeedsPerson,
    ContractEndTaskRequested,
)
from shared.events.catalogue.dsar import TaskHold
from shared.rules.errors import Conflict, Forbidden, Gone
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.dsar.contract_end_tasks")
BATCH = 200


def _requested(uow: Uow, task: ContractEndTask) -> ContractEndTaskRequested:
    return ContractEndTaskRequested(
        task_id=task.id,
        contract_end_id=task.contract_end_id,
        action=task.action,
        system=task.system_key,
        export_url=uow.url(f"/v1/contract-end-tasks/{task.id}/export"),
        due_at=task.published_at + retry_delay(uow.settings.task_ack_timeout_s, uow.settings.task_max_attempts),
        attempt=task.attempt,
        holds=[TaskHold.model_validate(hold) for hold in task.holds],
    )


def _needs_person(task: ContractEndTask) -> ContractEndTaskNeedsPerson:
    """The privacy team's alert: a person must carry the task out and close it."""
    return ContractEndTaskNeedsPerson(
        task_id=task.id,
        contract_end_id=task.contract_end_id,
        system=task.system_key,
        action=task.action,
        reason="manual_system" if task.manual else "unsupported",
    )


def _tenant_holds(holds: list[Any], system: str, now: Any) -> list[dict[str, Any]]:
    """The active holds that stand on a system's data of the tenant (every person's, this system's or all)."""
    return [
        TaskHold(
            hold_id=h.id,
            reason=h.reason,
            subject_ref=h.subject_ref,
            category=h.category,
            system=h.system,
            matter=h.matter,
            placed_at=h.placed_at or now,
        ).model_dump(mode="json")
        for h in holds
        if h.system in (None, system)
    ]


async def fan_out(uow: Uow, end: ContractEnd, action: str) -> int:
    """One task per active system of the tenant; a manual system's task waits for a person. Returns how many."""
    systems = (
        await uow.session.exec(
            select(DataSystem)
            .where(col(DataSystem.tenant_id) == uow.tenant_id, col(DataSystem.active).is_(True))
            .order_by(col(DataSystem.key))
        )
    ).all()
    holds = await active_holds(uow) if action == "purge_tenant" else []
    now = uow.now()
    staged: list[tuple[Event, str | None]] = []
    for system in systems:
        task = ContractEndTask(
            tenant_id=uow.tenant_id,
            contract_end_id=end.id,
            system_key=system.key,
            system_name=system.name,
            action=action,
            manual=system.manual,
            published_at=now,
            next_retry_at=None if system.manual else now + retry_delay(uow.settings.task_ack_timeout_s, 1),
            holds=_tenant_holds(holds, system.key, now),
            created_at=now,
        )
        uow.session.add(task)
        staged.append((_requested(uow, task) if not system.manual else _needs_person(task), str(end.id)))
    await uow.session.flush()
    await uow.stage_many(staged)
    return len(systems)


async def open_tasks(uow: Uow, end_id: uuid.UUID, action: str) -> int:
    """How many of a contract end's tasks of ``action`` are still open."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(ContractEndTask)
        .where(
            col(ContractEndTask.contract_end_id) == end_id,
            col(ContractEndTask.action) == action,
            col(ContractEndTask.state) == "open",
        )
    )
    return int(count or 0)


async def tasks_of(uow: Uow, end_id: uuid.UUID, action: str | None = None) -> list[ContractEndTask]:
    """A contract end's tasks by action and system."""
    statement = select(ContractEndTask).where(
        col(ContractEndTask.tenant_id) == uow.tenant_id, col(ContractEndTask.contract_end_id) == end_id
    )
    if action is not None:
        statement = statement.where(col(ContractEndTask.action) == action)
    rows = await uow.session.exec(statement.order_by(col(ContractEndTask.action), col(ContractEndTask.system_key)))
    return list(rows.all())


async def apply_result(uow: Uow, event: ContractEndTaskCompleted | ContractEndTaskFailed) -> None:
    """Close the task with the store's answer (once); ``unsupported`` stays open for a person; a failure retries."""
    from services.dsar.service.contract_ends import advance  # advancing needs the tasks' state

    task = await get_or_404(uow, ContractEndTask, event.task_id, lock=True, label="contract-end task")
    if task.state != "open" or task.system_key != event.system:
        log.info("dsar.contract_end.answer_ignored", task_id=str(task.id), state=task.state)
        return
    if isinstance(event, ContractEndTaskFailed):
        task.error = event.error[:2000]
        uow.session.add(task)
        return
    # The client whose token uploaded the export (checked) wins over the one the answer names.
    task.store_client = task.store_client or event.store_client
    task.started_at, task.completed_at = event.started_at, event.completed_at
    task.records_affected, task.detail = event.records_affected, event.detail
    task.exemptions = [e.model_dump(mode="json") for e in event.exemptions]
    task.outcome, task.next_retry_at = event.outcome, None
    if event.action == "export_all" and event.outcome == "done" and task.export_enc is None:
        task.error = "the store answered done but no export arrived"
        task.outcome = "unsupported"
    if task.outcome != "unsupported":
        task.state = "closed"
    else:
        await uow.stage(_needs_person(task), str(task.contract_end_id))
    uow.session.add(task)
    uow.audit(
        "contract_end.task_answered",
        "contract_end",
        task.contract_end_id,
        {"system": task.system_key, "action": task.action, "outcome": task.outcome},
    )
    await uow.session.flush()
    end = await get_or_404(uow, ContractEnd, task.contract_end_id, lock=True, label="contract end")
    await advance(uow, end)


async def receive_export(uow: Uow, task_id: uuid.UUID, datasets: dict[str, list[dict[str, Any]]]) -> int:
    """Keep a store's export of the tenant (encrypted) until the package is built; return how many records."""
    task = await get_or_404(uow, ContractEndTask, task_id, lock=True, label="contract-end task")
    if uow.principal is None or system_of(uow.principal.subject) != task.system_key:
        raise Forbidden(f"Task {task_id} is addressed to another system.")
    if task.action != "export_all":
        raise Conflict("Only an export_all task takes an export.")
    if task.state != "open":
        raise Gone(f"Task {task_id} is closed; its export is no longer taken.")
    task.export_enc = seal(uow.settings, datasets)
    task.store_client = client_of(uow)
    uow.session.add(task)
    records = sum(len(rows) for rows in datasets.values())
    uow.audit("contract_end.export_received", "contract_end", task.contract_end_id, {"system": task.system_key})
    return records


async def republish_due(ctx: Job, session: AsyncSession) -> int:
    """Publish again the tasks no store answered in time (attempt + 1); a manual task is never published."""
    now = ctx.clock.now()
    due = await claim(
        session,
        select(ContractEndTask).where(
            col(ContractEndTask.state) == "open",
            col(ContractEndTask.next_retry_at) <= now,
            col(ContractEndTask.manual).is_(False),
        ),
        BATCH,
    )
    for task in due:
        uow = ctx.unit_of_work(session, task.tenant_id, "job:dsar.contract-ends")
        task.attempt += 1
        task.next_retry_at = now + retry_delay(ctx.settings.task_ack_timeout_s, task.attempt)
        session.add(task)
        await uow.stage(_requested(uow, task), str(task.contract_end_id))
    return len(due)
