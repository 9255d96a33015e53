"""Completion: when every task is closed the request completes, with its package or certificate."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import func
from sqlmodel import col, select

from services.dsar.domain import RequestState, RequestType, transition
from services.dsar.domain.tasks import request_outcome
from services.dsar.models import DsarRequest, DsarTask, Verification
from services.dsar.service import Uow
from services.dsar.service.certificates import issue_certificate
from services.dsar.service.notifications import notify_subject
from services.dsar.service.requests import get_request
from services.dsar.service.transfers import package_answer
from shared.events.catalogue.dsar import DsarRequestCompleted

log = structlog.get_logger("privops.dsar.completion")


async def maybe_complete(uow: Uow, request_id: uuid.UUID, *, locked: DsarRequest | None = None) -> bool:
    """Complete the request if it is in progress and none of its tasks is open.

    ``locked``: the request, already read ``FOR UPDATE`` in this transaction (not read again). The open
    tasks are counted after the lock, so of two results closing a request's last tasks concurrently the
    second one sees the first's close.
    """
    request = locked if locked is not None and locked.id == request_id else None
    if request is None:
        request = await get_request(uow, request_id, for_update=True)
    if request.state != RequestState.IN_PROGRESS.value:
        return False
    open_tasks = await uow.session.scalar(
        select(func.count())
        .select_from(DsarTask)
        .where(col(DsarTask.request_id) == request_id, col(DsarTask.state) == "open")
    )
    if open_tasks:
        return False
    await complete_request(uow, request)
    return True


async def complete_request(uow: Uow, request: DsarRequest, tasks: list[DsarTask] | None = None) -> None:
    """Close the request: package or certificate, the subject told, identifiers purged, event staged.

    ``tasks``: every task of the request, by system key, when the caller read them already.
    A portability request that names a receiving controller stays open while its package is sent there.
    """
    if tasks is None:
        tasks = list(
            (
                await uow.session.exec(
                    select(DsarTask).where(col(DsarTask.request_id) == request.id).order_by(col(DsarTask.system_key))
                )
            ).all()
        )
    outcome = request_outcome((t.outcome, t.exemption) for t in tasks if t.outcome)
    certificate_id = package_id = None
    request_type = RequestType(request.request_type)
    if request_type in (RequestType.ACCESS, RequestType.PORTABILITY):
        answer = await package_answer(uow, request, tasks)
        if answer is None:
            return  # on its way to the receiving controller: the transfer's end completes the request
        package_id = answer.package_id
        await notify_subject(uow, request, answer.template, answer.context)
    else:
        if request_type is RequestType.ERASURE:
            certificate_id = (await issue_certificate(uow, request, tasks, outcome)).id
        await notify_subject(uow, request, "dsar.completed", {"systems": len(tasks), "certificate_id": certificate_id})
    now = uow.now()
    request.state = transition(RequestState(request.state), RequestState.COMPLETED).value
    request.outcome = outcome
    request.closed_at = request.updated_at = now
    await purge_request(uow, request, tasks)
    await uow.stage(
        DsarRequestCompleted(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            completed_at=now,
            outcome=outcome,
            certificate_id=certificate_id,
            package_id=package_id,
        ),
        subject=request.subject_ref,
    )
    uow.audit("request.completed", "dsar_request", request.id, {"outcome": outcome, "tasks": len(tasks)})
    log.info("dsar.request.completed", request_id=str(request.id), outcome=outcome, tasks=len(tasks))


async def purge_request(uow: Uow, request: DsarRequest, tasks: list[DsarTask] | None = None) -> None:
    """Erase what a closed request no longer needs: identifiers, details, codes and uploaded exports."""
    request.subject_enc = None
    request.purged_at = uow.now()
    uow.session.add(request)
    verification = await uow.session.get(Verification, request.id)
    if verification is not None:
        verification.code_hash = None
        uow.session.add(verification)
    if tasks is None:
        tasks = list((await uow.session.exec(select(DsarTask).where(col(DsarTask.request_id) == request.id))).all())
    for task in tasks:
        if task.export_enc is not None:
            task.export_enc = None
            uow.session.add(task)
    uow.audit("request.purged", "dsar_request", request.id)
