"""Routes for people handling tasks: read one, read a manual task's identifiers, close by hand, retry."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.dsar.api.deps import AdminUow, ReadUow, WriteUow
from services.dsar.models import DsarTask
from services.dsar.schemas import ClaimOut, TaskCloseIn, TaskOut, TaskRetryIn
from services.dsar.service import Uow, manual
from services.dsar.service.presenters import tasks_out
from services.dsar.service.tasks import tasks_needing_attention
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/tasks", tags=["tasks (by hand)"], responses=PROBLEM_RESPONSES)


async def _out(uow: Uow, task: DsarTask) -> TaskOut:
    (out,) = await tasks_out(uow, [task])
    return out


@router.get("", response_model=list[TaskOut], summary="Tasks that need a person")
async def needing_attention(uow: ReadUow, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[TaskOut]:
    """The tenant's tasks of open requests whose store went silent (escalated) or that failed, the oldest due first:
    what a person retries, closes by hand or marks as a silent system (a request's own tasks:
    ``GET /v1/requests/{id}/tasks``)."""
    return await tasks_out(uow, await tasks_needing_attention(uow, limit))


@router.get("/{task_id}", response_model=TaskOut, summary="Read one task")
async def read(task_id: uuid.UUID, uow: ReadUow) -> TaskOut:
    """A task with its state and outcome, who closed it by hand and with what evidence; a manual
    system's task also says how to carry it out and whom to ask."""
    return await _out(uow, await manual.get_task(uow, task_id))


@router.get("/{task_id}/identifiers", response_model=ClaimOut, summary="The identifiers behind a task, for a person")
async def identifiers(task_id: uuid.UUID, uow: WriteUow) -> ClaimOut:
    """The subject's identifiers and the request's details, for the person carrying the task out (audited).

    `dsar:write` for a manual system's task; `dsar:admin` for a store's task (its re-publication goes on).
    410 once the task is closed or the identifiers purged.
    """
    return ClaimOut(**await manual.identifiers_by_hand(uow, task_id))


@router.post("/{task_id}/close", response_model=TaskOut, summary="Close a task by hand, with the evidence")
async def close(task_id: uuid.UUID, body: TaskCloseIn, uow: WriteUow) -> TaskOut:
    """Answer in the system's place: the task closes as a store's answer would (the request completes when it was
    the last one; the certificate of erasure names the person and keeps the evidence).

    `dsar:write` closes a manual system's task; `dsar:admin` any open task, with a `reason`. An access or
    portability task closed as `done` carries the `records` found. 409 once the task is closed.
    """
    return await _out(uow, await manual.close_by_hand(uow, task_id, body))


@router.post("/{task_id}/retry", response_model=TaskOut, summary="Publish a store's task again")
async def retry(task_id: uuid.UUID, body: TaskRetryIn, uow: AdminUow) -> TaskOut:
    """Re-publish an open, escalated or failed task (attempt + 1) once its store is fixed; the reason is audited.

    409 for a manual task (closed by hand), an answered or cancelled task, or a failed one whose request is over.
    """
    return await _out(uow, await manual.retry(uow, task_id, body.reason))
