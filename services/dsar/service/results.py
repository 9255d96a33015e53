"""Store answers in bulk: a poll's task results closed with one lock, each request completed once.

The same effect as ``tasks.apply_result`` for each result in turn, with a few statements for the
whole set instead of a few for each: one statement locks every task and its request, one flush
writes the closes, one query counts what each request still has open, and a request whose last
task closed is completed once, with its certificate or package.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select

from services.dsar.domain import RequestState
from services.dsar.models import DsarRequest, DsarTask, Verification
from services.dsar.service import Uow
from services.dsar.service.completion import complete_request
from services.dsar.service.tasks import settle_task
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed

Result = DsarTaskCompleted | DsarTaskFailed


async def lock_tasks(uow: Uow, task_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[DsarRequest, DsarTask]]:
    """The tenant's tasks among ``task_ids`` with their requests, all locked (requests first, in id order)."""
    rows = await uow.session.exec(
        select(DsarRequest, DsarTask)
        .join(DsarTask, col(DsarTask.request_id) == col(DsarRequest.id))
        .where(
            col(DsarTask.id).in_(set(task_ids)),
            col(DsarTask.tenant_id) == uow.tenant_id,
            col(DsarRequest.tenant_id) == uow.tenant_id,
        )
        .order_by(col(DsarRequest.id), col(DsarTask.id))
        .with_for_update()
    )
    return {task.id: (request, task) for request, task in rows.all()}


async def apply_results(uow: Uow, results: Sequence[Result]) -> None:
    """Close the tasks of one tenant's results (in order), then complete each request left with no open task.

    Each result acts as its store (``system:<key>``), and a request is completed by the store whose
    answer closed its last task, as one by one. An unknown task raises ``ValueError``, as one by one.
    """
    locked = await lock_tasks(uow, [result.task_id for result in results])
    closed: dict[uuid.UUID, tuple[Uow, DsarRequest]] = {}
    for result in results:
        if result.task_id not in locked:
            raise ValueError(f"result for unknown task {result.task_id} (tenant {uow.tenant_id})")
        request, task = locked[result.task_id]
        store = uow.for_tenant(uow.tenant_id, f"system:{result.system}")
        if await settle_task(store, task, result):
            closed[request.id] = (store, request)
    if not closed:
        return
    await uow.session.flush()
    still_open = dict(
        (
            await uow.session.exec(
                select(DsarTask.request_id, func.count())
                .where(col(DsarTask.request_id).in_(closed), col(DsarTask.state) == "open")
                .group_by(col(DsarTask.request_id))
            )
        ).all()
    )
    done = [
        (store, request)
        for request_id, (store, request) in closed.items()
        if request.state == RequestState.IN_PROGRESS.value and not still_open.get(request_id)
    ]
    if not done:
        return
    ids = [request.id for _, request in done]
    # Read once for every request completing here: completion then finds them in the session.
    tasks: dict[uuid.UUID, list[DsarTask]] = {request_id: [] for request_id in ids}
    for task in (
        await uow.session.exec(
            select(DsarTask).where(col(DsarTask.request_id).in_(ids)).order_by(col(DsarTask.system_key))
        )
    ).all():
        tasks[task.request_id].append(task)
    (await uow.session.exec(select(Verification).where(col(Verification.request_id).in_(ids)))).all()
    for store, request in done:
        await complete_request(store, request, tasks[request.id])
