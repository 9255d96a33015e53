"""Tasks people handle: a manual system's tasks closed by hand, and a store's task an admin closes or retries.

A manual system (a paper archive, a tool without an API) has no store: its tasks are not published,
the privacy team is alerted (``DsarManualTaskOpened``), and the person who carried a task out
reads the identifiers, then closes it with the evidence. The close goes through ``apply_result``,
the path of a store's answer, so the request completes (package, certificate) exactly once.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.dsar.domain.tasks import TaskNeedsAdmin, check_close, check_retry, task_due_at
from services.dsar.models import DsarTask
from services.dsar.schemas import TaskCloseIn
from services.dsar.service import Uow
from services.dsar.service.crypto import seal
from services.dsar.service.tasks import apply_result, lock_task, republish, serve_claim
from shared.events.catalogue.dsar import DsarTaskCompleted
from shared.runtime.repository import get_or_404

ADMIN_SCOPE = "dsar:admin"


def _is_admin(uow: Uow) -> bool:
    return uow.principal is not None and uow.principal.has_scope(ADMIN_SCOPE)


async def get_task(uow: Uow, task_id: uuid.UUID) -> DsarTask:
    """A task of the tenant; 404 when missing or another tenant's."""
    return await get_or_404(uow, DsarTask, task_id, label="task")


async def identifiers_by_hand(uow: Uow, task_id: uuid.UUID) -> dict[str, Any]:
    """The claim of a task for the person carrying it out: any writer for a manual task, an admin for a store's."""
    task = await get_or_404(uow, DsarTask, task_id, lock=True, label="task")
    if not task.manual and not _is_admin(uow):
        raise TaskNeedsAdmin("The identifiers behind a store's task are read by that store (its claim) or an admin.")
    # Reading a store's task does not stop its re-publication: the store is still the one expected to act.
    return await serve_claim(uow, task, acknowledge=task.manual)


async def close_by_hand(uow: Uow, task_id: uuid.UUID, body: TaskCloseIn) -> DsarTask:
    """Close an open task with a person's answer and evidence, as a store's answer closes it."""
    _, task = await lock_task(uow, task_id)
    check_close(
        state=task.state,
        manual=task.manual,
        admin=_is_admin(uow),
        action=task.action,
        outcome=body.outcome,
        reason=body.reason,
        has_records=body.records is not None,
    )
    now = uow.now()
    if body.records is not None:
        task.export_enc = seal(uow.settings, body.records)
        task.exported_records, task.exported_at = len(body.records), now
    task.closed_by, task.evidence, task.close_reason = uow.actor, body.evidence, body.reason
    uow.session.add(task)
    uow.audit(
        "task.closed_by_hand",
        "dsar_task",
        task.id,
        {
            "system": task.system_key,
            "manual": task.manual,
            "outcome": body.outcome,
            "records_affected": body.records_affected,
            "exemption": body.exemption,
            "evidence": body.evidence,
            "reason": body.reason,
        },
    )
    await uow.session.flush()  # the task row now names who closed it, as apply_result expects of a manual task
    result = DsarTaskCompleted(
        task_id=task.id,
        request_id=task.request_id,
        system=task.system_key,
        outcome=body.outcome,
        records_affected=body.records_affected,
        exemption=body.exemption,
        completed_at=now,
    )
    await apply_result(uow, result)
    return task


async def retry(uow: Uow, task_id: uuid.UUID, reason: str) -> DsarTask:
    """Publish an open, escalated or failed store task again (attempt + 1), with the admin's reason audited."""
    request, task = await lock_task(uow, task_id)
    check_retry(
        state=task.state,
        outcome=task.outcome,
        manual=task.manual,
        request_in_progress=request.state == "in_progress",
    )
    uow.audit(
        "task.retried",
        "dsar_task",
        task.id,
        {
            "reason": reason,
            "state": task.state,
            "outcome": task.outcome,
            "escalated": task.escalated_at is not None,
            "attempt": task.attempt,
        },
    )
    # A fresh due time for the store (never past the request's legal one): the silent wait starts over.
    task.due_at = max(task.due_at, task_due_at(uow.now(), request.due_at, uow.settings.task_due_days))
    task.state, task.outcome, task.closed_at, task.confirmed_at, task.escalated_at = "open", None, None, None, None
    await republish(uow, task)
    return task
