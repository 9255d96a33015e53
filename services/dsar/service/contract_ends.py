"""Contract ends: asked for, confirmed by a second person, cancelled, and moved on by the job.

The customer is the tenant: a contract end fans out to every system registered for it (the privops
services and the product stores) and ends with a signed certificate of destruction (Art. 28(3)(g)
GDPR, https://eur-lex.europa.eu/eli/reg/2016/679/oj). Its rows in this service are never purged
with the tenant's other data: they are the evidence of the destruction.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy import or_
from sqlmodel import col, select

from services.dsar.domain.contract_ends import (
    ContractEndMode,
    ContractEndState,
    confirm,
    deletion_may_start,
    due_to_start,
    first_stage,
    transition,
)
from services.dsar.models import ContractEnd, ContractEndTask, ExportPackage
from services.dsar.schemas.contract_ends import ContractEndIn, TaskCloseByHandIn
from services.dsar.service import Job, Uow
from services.dsar.service.contract_end_results import build_return, complete, deliver_certificate
from services.dsar.service.contract_end_tasks import fan_out, open_tasks, republish_due
from services.dsar.service.crypto import seal
from shared.events.catalogue.contract_ends import ContractEndConfirmed, ContractEndStarted
from shared.rules.errors import Conflict, Unprocessable
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.dsar.contract_ends")
BATCH = 50


def _actor(uow: Uow) -> str:
    """The person (or client) acting: the token's subject."""
    return uow.principal.subject if uow.principal is not None else uow.actor


async def request_contract_end(uow: Uow, body: ContractEndIn) -> ContractEnd:
    """Record a contract end for the unit's tenant; it waits for a second person's confirmation."""
    if body.effective_at.tzinfo is None:
        raise Unprocessable("effective_at needs a timezone (an instant).")
    pending = await uow.session.exec(
        select(ContractEnd).where(
            col(ContractEnd.tenant_id) == uow.tenant_id,
            col(ContractEnd.state).not_in([ContractEndState.CANCELLED.value]),
        )
    )
    if pending.first() is not None:
        raise Conflict("This tenant's contract already has an end under way (cancel it first, if not started).")
    now = uow.now()
    end = ContractEnd(
        tenant_id=uow.tenant_id,
        mode=body.mode,
        state=ContractEndState.REQUESTED.value,
        effective_at=body.effective_at,
        reason=body.reason,
        contract_ref=body.contract_ref,
        # The four-eyes rule compares principals: the requester is the token's subject (the name given is audited).
        requested_by=_actor(uow),
        requested_by_name=body.requested_by,
        requested_at=now,
        notify_enc=seal(uow.settings, {"to": body.notify_to}),
        locale=body.locale,
        updated_at=now,
    )
    uow.session.add(end)
    uow.audit(
        "contract_end.requested",
        "contract_end",
        end.id,
        {"mode": body.mode, "effective_at": body.effective_at, "contract_ref": body.contract_ref},
    )
    return end


async def get_contract_end(uow: Uow, end_id: uuid.UUID, *, lock: bool = False) -> ContractEnd:
    """A contract end of the tenant: 404 when missing or another tenant's."""
    return await get_or_404(uow, ContractEnd, end_id, lock=lock, label="contract end")


async def list_contract_ends(uow: Uow) -> list[ContractEnd]:
    """The tenant's contract ends, newest first."""
    rows = await uow.session.exec(
        select(ContractEnd)
        .where(col(ContractEnd.tenant_id) == uow.tenant_id)
        .order_by(col(ContractEnd.requested_at).desc())
    )
    return list(rows.all())


async def confirm_contract_end(uow: Uow, end_id: uuid.UUID) -> ContractEnd:
    """A second person confirms (403 for the requester, 409 unless requested); it cannot be undone once started."""
    end = await get_contract_end(uow, end_id, lock=True)
    actor = _actor(uow)
    end.state = confirm(ContractEndState(end.state), end.requested_by, actor).value
    end.confirmed_by, end.confirmed_at = actor, uow.now()
    end.updated_at = uow.now()
    uow.session.add(end)
    await uow.stage(
        ContractEndConfirmed(
            contract_end_id=end.id, mode=end.mode, effective_at=end.effective_at, confirmed_at=end.confirmed_at
        ),
        str(end.id),
    )
    uow.audit("contract_end.confirmed", "contract_end", end.id, {"requested_by": end.requested_by})
    return end


async def cancel_contract_end(uow: Uow, end_id: uuid.UUID) -> ContractEnd:
    """Cancel before it starts (409 once its first tasks are out)."""
    end = await get_contract_end(uow, end_id, lock=True)
    end.state = transition(ContractEndState(end.state), ContractEndState.CANCELLED).value
    end.cancelled_by, end.cancelled_at, end.updated_at = _actor(uow), uow.now(), uow.now()
    end.notify_enc = None
    uow.session.add(end)
    uow.audit("contract_end.cancelled", "contract_end", end.id)
    return end


async def start(uow: Uow, end: ContractEnd) -> None:
    """The effective date has come: fan out the first stage (export, or deletion straight away)."""
    stage = first_stage(ContractEndMode(end.mode))
    end.state = transition(ContractEndState(end.state), stage).value
    end.started_at = uow.now()
    if stage is ContractEndState.DELETING:
        end.deletion_started_at = uow.now()
    systems = await fan_out(uow, end, "export_all" if stage is ContractEndState.RETURNING else "purge_tenant")
    await uow.stage(
        ContractEndStarted(
            contract_end_id=end.id,
            mode=end.mode,
            effective_at=end.effective_at,
            stage=stage.value,
            systems=systems,
            started_at=uow.now(),
        ),
        str(end.id),
    )
    uow.audit("contract_end.started", "contract_end", end.id, {"stage": stage.value, "systems": systems})


async def advance(uow: Uow, end: ContractEnd) -> None:
    """Move a running contract end on: build the return when exports are in, then delete, then complete."""
    state = ContractEndState(end.state)
    if due_to_start(state, end.effective_at, uow.now()):
        await start(uow, end)
        return
    if state is ContractEndState.RETURNING:
        exports_open = await open_tasks(uow, end.id, "export_all")
        if not exports_open and end.package_built_at is None:
            await build_return(uow, end)
        downloaded = None
        if end.package_id is not None:
            package = await uow.session.get(ExportPackage, end.package_id)
            downloaded = package.downloaded_at if package is not None else None
        window = timedelta(days=uow.settings.contract_end_return_days)
        if deletion_may_start(exports_open, end.package_built_at, downloaded, window, uow.now()):
            end.state = transition(state, ContractEndState.DELETING).value
            end.deletion_started_at = uow.now()
            systems = await fan_out(uow, end, "purge_tenant")
            uow.audit("contract_end.deletion_started", "contract_end", end.id, {"systems": systems})
    elif state is ContractEndState.DELETING and not await open_tasks(uow, end.id, "purge_tenant"):
        await complete(uow, end)
    elif state is ContractEndState.COMPLETED and end.notified_at is None:
        await deliver_certificate(uow, end)  # identity could not sign it at completion
    end.updated_at = uow.now()
    uow.session.add(end)


async def close_task_by_hand(uow: Uow, end_id: uuid.UUID, task_id: uuid.UUID, body: TaskCloseByHandIn) -> ContractEnd:
    """A person closes a system's task (a manual system, or a store that answered unsupported) with evidence."""
    end = await get_contract_end(uow, end_id, lock=True)
    task = await get_or_404(uow, ContractEndTask, task_id, lock=True, label="contract-end task")
    if task.contract_end_id != end.id:
        raise Conflict("This task belongs to another contract end.")
    if task.state != "open":
        raise Conflict(f"The task is already closed ({task.outcome}).")
    task.state, task.outcome = "closed", body.outcome
    task.closed_by, task.evidence, task.records_affected = _actor(uow), body.evidence, body.records
    task.completed_at, task.next_retry_at = uow.now(), None
    uow.session.add(task)
    uow.audit("contract_end.task_closed", "contract_end", end.id, {"system": task.system_key, "action": task.action})
    await uow.session.flush()
    await advance(uow, end)
    return end


async def run_contract_ends(ctx: Job) -> int:
    """Start confirmed contract ends whose date has come, move running ones on, re-publish unanswered tasks."""
    moved = 0
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        running = await claim(
            session,
            select(ContractEnd).where(
                or_(
                    col(ContractEnd.state).in_(["confirmed", "returning", "deleting"]),
                    (col(ContractEnd.state) == "completed") & col(ContractEnd.notified_at).is_(None),
                ),
                col(ContractEnd.effective_at) <= now,
            ),
            BATCH,
        )
        for end in running:
            uow = ctx.unit_of_work(session, end.tenant_id, "job:dsar.contract-ends")
            await advance(uow, end)
            moved += 1
        moved += await republish_due(ctx, session)
    return moved
