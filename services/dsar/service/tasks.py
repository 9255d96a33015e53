"""Fan-out and store answers: one task per (system × action), claim check, exports, results, retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import insert, or_
from sqlmodel import col, select

from services.dsar.domain import RequestState, transition
from services.dsar.domain.tasks import (
    EXPORTING,
    NOTIFIES_RECIPIENTS,
    TaskAction,
    TaskOutcome,
    action_for,
    retry_delay,
    task_due_at,
)
from services.dsar.models import DataSystem, DsarRequest, DsarTask, SubjectRecipient
from services.dsar.service import Uow
from services.dsar.service.crypto import seal
from services.dsar.service.holds import active_holds, task_holds
from services.dsar.service.notifications import subject_data
from services.dsar.service.requests import get_request
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import (
    DsarManualTaskOpened,
    DsarTaskCompleted,
    DsarTaskEscalated,
    DsarTaskFailed,
    DsarTaskRequested,
    TaskHold,
)
from shared.rules.errors import Conflict, Forbidden, Gone, NotFound
from shared.runtime.db import new_ids
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.dsar.tasks")


def system_of(subject: str) -> str | None:
    """The data system a token acts for: ``system:<key>``, or ``service:<name>`` for privops services."""
    kind, _, name = subject.partition(":")
    if kind == "system" and name:
        return name
    if kind == "service" and name:
        return f"privops-{name}"
    return None


def client_of(uow: Uow) -> str:
    """Who is acting: the token's OAuth client (``client_id`` claim), else its subject."""
    claims = uow.principal.claims if uow.principal is not None else {}
    return str(claims.get("client_id") or uow.actor)


@dataclass(frozen=True, slots=True)
class NewTask:
    """What the events of a task just fanned out say of it (the row is inserted without an ORM object)."""

    id: uuid.UUID
    request_id: uuid.UUID
    action: str
    system_key: str
    subject_ref: str
    due_at: datetime
    attempt: int
    holds: list[dict[str, Any]]


def _requested(uow: Uow, task: DsarTask | NewTask, refs: list[str]) -> DsarTaskRequested:
    """The task's command: every identifier's reference travels with it, never the identifiers."""
    return DsarTaskRequested(
        task_id=task.id,
        request_id=task.request_id,
        action=task.action,
        system=task.system_key,
        subject_ref=task.subject_ref,
        subject_refs=refs,
        claim_url=uow.url(f"/v1/tasks/{task.id}/claim"),
        due_at=task.due_at,
        attempt=task.attempt,
        holds=[TaskHold.model_validate(hold) for hold in task.holds],
    )


def _manual_opened(task: DsarTask | NewTask, request: DsarRequest) -> DsarManualTaskOpened:
    """A manual system's task: the privacy team is alerted instead of a store."""
    return DsarManualTaskOpened(
        task_id=task.id,
        request_id=task.request_id,
        system=task.system_key,
        action=task.action,
        due_at=task.due_at,
        request_due_at=request.due_at,
    )


async def _publish(uow: Uow, task: DsarTask) -> None:
    request = await uow.session.get(DsarRequest, task.request_id)
    refs = list(request.subject_refs) if request is not None else [task.subject_ref]
    await uow.stage(_requested(uow, task, refs), subject=task.subject_ref)


async def start_fanout(uow: Uow, request: DsarRequest) -> int:
    """Publish one task per active system supporting the request's action; complete at once if none.

    A manual system's task is not published (no store consumes it): the privacy team is alerted instead.
    """
    from services.dsar.service.completion import complete_request  # completion needs tasks too

    action = action_for(request.request_type)
    systems = (
        await uow.session.exec(
            select(DataSystem)
            .where(col(DataSystem.tenant_id) == uow.tenant_id, col(DataSystem.active).is_(True))
            .order_by(col(DataSystem.key))
        )
    ).all()
    targets = [s for s in systems if action.value in s.actions]
    recipients: dict[str, list[str]] = {}
    if action in NOTIFIES_RECIPIENTS:
        rows = await uow.session.exec(
            select(SubjectRecipient).where(
                col(SubjectRecipient.tenant_id) == uow.tenant_id,
                col(SubjectRecipient.subject_ref).in_(request.subject_refs),
            )
        )
        for found in rows.all():
            recipients.setdefault(found.system_key, []).append(found.recipient)
    # Art. 17(3)(e): what a legal hold covers is not erased; each erase task carries the holds on its store.
    holds = await active_holds(uow) if action is TaskAction.ERASE else []
    now = uow.now()
    staged: list[tuple[Event, str | None]] = []
    inserted: list[dict[str, Any]] = []
    for system, task_id in zip(targets, new_ids(len(targets)), strict=True):
        row: dict[str, Any] = {
            "id": task_id,
            "tenant_id": uow.tenant_id,
            "request_id": request.id,
            "system_key": system.key,
            "action": action.value,
            "subject_ref": request.subject_ref,
            "state": "open",
            "attempt": 1,
            "due_at": task_due_at(now, request.due_at, uow.settings.task_due_days),
            "published_at": now,
            "next_retry_at": None if system.manual else now + retry_delay(uow.settings.task_ack_timeout_s, 1),
            "records_affected": 0,
            "recipients": sorted(set(recipients.get(system.key, []))),
            "manual": system.manual,
            "holds": [h.model_dump(mode="json") for h in task_holds(holds, request.subject_refs, system.key, now)],
            "created_at": now,
        }
        inserted.append(row)
        task = NewTask(**{name: row[name] for name in NewTask.__dataclass_fields__})
        if system.manual:
            staged.append((_manual_opened(task, request), task.subject_ref))
            continue
        staged.append((_requested(uow, task, list(request.subject_refs)), task.subject_ref))
    if inserted:
        # One statement for the tasks, without an ORM object each (building those cost more than the insert).
        await uow.session.flush()
        # executemany on the session's connection: a statement compiled once, not one of many VALUES each time
        await (await uow.session.connection()).execute(insert(DsarTask), inserted)
    # One COPY for the fan-out's events (same rows as ``stage``, in the same order), not one ORM insert each.
    await uow.stage_many(staged)
    request.state = transition(RequestState(request.state), RequestState.IN_PROGRESS).value
    uow.session.add(request)
    await uow.session.flush()
    if not targets:
        await complete_request(uow, request)
    return len(targets)


async def task_for(uow: Uow, task_id: uuid.UUID, system: str | None, *, lock: bool = False) -> DsarTask:
    """A task of the tenant addressed to ``system``: 404 when missing, 403 when another system's."""
    task = await get_or_404(uow, DsarTask, task_id, lock=lock, label="task")
    if system is None:
        raise Forbidden("This token names no data system (subject system:<key> or service:<name>).")
    if task.system_key != system:
        raise Forbidden(f"Task {task_id} is addressed to another system; {system} cannot act on it.")
    return task


async def claim_task(uow: Uow, task_id: uuid.UUID, system: str | None) -> dict[str, Any]:
    """The identifiers and details behind a task (claim check); 410 once the task is closed."""
    return await serve_claim(uow, await task_for(uow, task_id, system, lock=True))


async def serve_claim(uow: Uow, task: DsarTask, *, acknowledge: bool = True) -> dict[str, Any]:
    """What a task's claim answers (the task locked): the identifiers while it is open; audited.

    ``acknowledge``: the reader is the one acting on the task, so it is no longer re-published.
    """
    task_id = task.id
    if task.state != "open":
        raise Gone(f"Task {task_id} is closed ({task.outcome or task.state}); its identifiers are no longer served.")
    request = await get_request(uow, task.request_id)
    data = subject_data(uow, request)
    if not data:
        raise Gone(f"Task {task_id}: the request's identifiers were purged.")
    if acknowledge:
        task.acknowledged_at = task.acknowledged_at or uow.now()
        task.next_retry_at = None
        if uow.principal is not None and "dsar:task" in uow.principal.scopes:  # a store's client, not a person
            task.claimed_by = client_of(uow)
        uow.session.add(task)
    uow.audit("task.claimed", "dsar_task", task.id, {"system": task.system_key, "action": task.action})
    return {
        "task_id": task.id,
        "request_id": task.request_id,
        "action": task.action,
        "system": task.system_key,
        "request_type": request.request_type,
        "jurisdiction": request.regime_id,
        "subject_ref": task.subject_ref,
        "identifiers": data["identifiers"],
        "details": data.get("details", {}),
        "recipients": task.recipients,
        "due_at": task.due_at,
        "attempt": task.attempt,
    }


async def upload_export(
    uow: Uow, task_id: uuid.UUID, system: str | None, body_system: str, records: list[dict[str, Any]]
) -> DsarTask:
    """Keep a store's export (encrypted) for the request's package."""
    task = await task_for(uow, task_id, system, lock=True)
    if body_system != task.system_key:
        raise Forbidden(f"The export names system {body_system!r}, but the task belongs to {task.system_key!r}.")
    if TaskAction(task.action) not in EXPORTING:
        raise Conflict(f"Task {task_id} is a {task.action} task; only access and portability tasks take exports.")
    if task.state != "open":
        raise Gone(f"Task {task_id} is closed; exports are no longer accepted.")
    now = uow.now()
    task.export_enc = seal(uow.settings, records)
    task.exported_records = len(records)
    task.exported_at = now
    task.acknowledged_at = task.acknowledged_at or now
    task.next_retry_at = None
    uow.session.add(task)
    uow.audit("task.export_uploaded", "dsar_task", task.id, {"system": task.system_key, "records": len(records)})
    return task


async def apply_result(uow: Uow, event: DsarTaskCompleted | DsarTaskFailed) -> None:
    """Close a task with a store's answer (or re-publish a retryable failure); complete the request when done."""
    from services.dsar.service.completion import maybe_complete

    try:
        request, task = await lock_task(uow, event.task_id)
    except NotFound:
        raise ValueError(f"result for unknown task {event.task_id} (tenant {uow.tenant_id})") from None
    if await settle_task(uow, task, event):
        await uow.session.flush()
        await maybe_complete(uow, task.request_id, locked=request)


async def settle_task(uow: Uow, task: DsarTask, event: DsarTaskCompleted | DsarTaskFailed) -> bool:
    """Apply a store's answer to its task (locked): True when it closed the task, False when the task stays open.

    A result that names another system or request, or that comes from a store for a manual system's task,
    raises ``ValueError`` (the event is dead-lettered); a late result for a closed task changes nothing.
    """
    if task.system_key != event.system or task.request_id != event.request_id:
        raise ValueError(
            f"result for task {event.task_id} names system {event.system} and request {event.request_id}, "
            f"but the task belongs to {task.system_key} and request {task.request_id}"
        )
    if task.manual and task.closed_by is None:  # the person closing it by hand sets closed_by first
        raise ValueError(f"result for task {event.task_id} of manual system {task.system_key}: closed by hand only")
    if task.state != "open":
        log.info("dsar.task.late_result", task_id=str(task.id), state=task.state)
        return False
    now = uow.now()
    task.acknowledged_at = task.acknowledged_at or now
    if isinstance(event, DsarTaskFailed):
        task.error = event.error[:4000]
        if event.retryable and task.attempt < uow.settings.task_max_attempts:
            await republish(uow, task)
            return False
        task.outcome = TaskOutcome.FAILED.value
    else:
        task.outcome, task.records_affected = event.outcome, event.records_affected
        task.exemption, task.detail, task.confirmed_at = event.exemption, event.detail, event.completed_at
        if TaskAction(task.action) in EXPORTING and event.outcome == "done" and task.export_enc is None:
            task.outcome, task.error = TaskOutcome.FAILED.value, "reported done without uploading an export"
    task.state, task.closed_at, task.next_retry_at = "closed", now, None
    uow.session.add(task)
    uow.audit("task.closed", "dsar_task", task.id, {"system": task.system_key, "outcome": task.outcome})
    return True


async def lock_task(uow: Uow, task_id: uuid.UUID) -> tuple[DsarRequest, DsarTask]:
    """The tenant's task and its request, both locked (request first, the order every path takes); 404 otherwise.

    One statement takes both locks: completing the request needs its lock anyway, and it saves a round
    trip per result.
    """
    row = (
        await uow.session.exec(
            select(DsarRequest, DsarTask)
            .join(DsarTask, col(DsarTask.request_id) == col(DsarRequest.id))
            .where(
                col(DsarTask.id) == task_id,
                col(DsarTask.tenant_id) == uow.tenant_id,
                col(DsarRequest.tenant_id) == uow.tenant_id,
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(f"No task {task_id} for this tenant.")
    return row[0], row[1]


async def republish(uow: Uow, task: DsarTask) -> None:
    """Publish the task again (attempt + 1), waiting longer before the next try."""
    now = uow.now()
    task.attempt += 1
    task.published_at, task.acknowledged_at = now, None
    task.next_retry_at = now + retry_delay(uow.settings.task_ack_timeout_s, task.attempt)
    uow.session.add(task)
    await _publish(uow, task)
    uow.audit("task.republished", "dsar_task", task.id, {"attempt": task.attempt})
    log.info("dsar.task.republished", task_id=str(task.id), system=task.system_key, attempt=task.attempt)


async def escalate(uow: Uow, task: DsarTask, reason: str) -> None:
    """Tell people a store is not answering (or a manual task is not closed by its due time): once per task."""
    task.escalated_at, task.next_retry_at = uow.now(), None
    uow.session.add(task)
    await uow.stage(
        DsarTaskEscalated(
            task_id=task.id,
            request_id=task.request_id,
            system=task.system_key,
            action=task.action,
            attempts=task.attempt,
            due_at=task.due_at,
            reason=reason,
            manual=task.manual,
        ),
        subject=task.subject_ref,
    )
    uow.audit("task.escalated", "dsar_task", task.id, {"reason": reason})
    log.warning("dsar.task.escalated", task_id=str(task.id), system=task.system_key, reason=reason)


async def cancel_open_tasks(uow: Uow, request_id: uuid.UUID) -> int:
    """Close the request's open tasks as cancelled (their claim URLs answer 410 from now on)."""
    rows = await uow.session.exec(
        select(DsarTask).where(col(DsarTask.request_id) == request_id, col(DsarTask.state) == "open")
    )
    count = 0
    for task in rows.all():
        task.state, task.closed_at, task.next_retry_at = "cancelled", uow.now(), None
        uow.session.add(task)
        count += 1
    return count


async def tasks_needing_attention(uow: Uow, limit: int) -> list[DsarTask]:
    """The tenant's tasks of open requests whose store went silent or that failed, the oldest due first."""
    rows = await uow.session.exec(
        select(DsarTask)
        .join(DsarRequest, col(DsarRequest.id) == col(DsarTask.request_id))
        .where(
            col(DsarTask.tenant_id) == uow.tenant_id,
            or_(col(DsarTask.escalated_at).is_not(None), col(DsarTask.outcome) == "failed"),  # models.ATTENTION
            col(DsarRequest.closed_at).is_(None),
        )
        .order_by(col(DsarTask.due_at), col(DsarTask.id))
        .limit(limit)
    )
    return list(rows.all())


async def list_tasks(uow: Uow, request_id: uuid.UUID) -> list[DsarTask]:
    """The tasks of one request of the tenant."""
    await get_request(uow, request_id)
    rows = await uow.session.exec(
        select(DsarTask).where(col(DsarTask.request_id) == request_id).order_by(col(DsarTask.system_key))
    )
    return list(rows.all())
