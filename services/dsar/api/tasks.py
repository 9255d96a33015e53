"""Routes the data stores call: the claim check of a task and the upload of an access export."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.dsar.api.deps import TaskUow
from services.dsar.schemas import ClaimOut, ExportIn, TaskOut
from services.dsar.service.presenters import task_out
from services.dsar.service.tasks import claim_task, system_of, upload_export
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/tasks", tags=["tasks (stores)"], responses=PROBLEM_RESPONSES)


@router.get("/{task_id}/claim", response_model=ClaimOut, summary="Claim a task's identifiers (claim check)")
async def claim(task_id: uuid.UUID, uow: TaskUow) -> ClaimOut:
    """The subject's identifiers and the request's details, for the system the task is addressed to.

    Needs the scope `dsar:task` and a token whose subject names the system (`system:<key>`, or
    `service:<name>` for a privops service). 403 for another system's task, 410 once the task is closed.
    """
    return ClaimOut(**await claim_task(uow, task_id, system_of(uow.actor)))


@router.put("/{task_id}/export", response_model=TaskOut, summary="Upload an access or portability export")
async def export(task_id: uuid.UUID, body: ExportIn, uow: TaskUow) -> TaskOut:
    """Keep the system's records (encrypted) for the request's package; then publish the task's result."""
    task = await upload_export(uow, task_id, system_of(uow.actor), body.system, body.records)
    return task_out(task)
