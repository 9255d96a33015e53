"""Routes of contract ends: ask, confirm (a second person), cancel, follow, close a task by hand; store exports."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.dsar.api.deps import AdminReadUow, AdminUow, TaskUow
from services.dsar.models import ContractEnd
from services.dsar.schemas.contract_ends import (
    ContractEndIn,
    ContractEndOut,
    ContractEndTaskOut,
    DestructionCertificateOut,
    TaskCloseByHandIn,
    TenantExportIn,
    TenantExportOut,
)
from services.dsar.service import Uow
from services.dsar.service import contract_ends as ends
from services.dsar.service.contract_end_tasks import receive_export, tasks_of
from shared.rules.errors import NotFound
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.signing import document_signer

router = APIRouter(prefix="/v1/contract-ends", tags=["contract ends"], responses=PROBLEM_RESPONSES)
stores = APIRouter(prefix="/v1/contract-end-tasks", tags=["tasks (stores)"], responses=PROBLEM_RESPONSES)


async def _out(uow: Uow, end: ContractEnd) -> ContractEndOut:
    await uow.session.flush()
    tasks = [
        ContractEndTaskOut(system=t.system_key, name=t.system_name, **t.model_dump(exclude={"export_enc"}))
        for t in await tasks_of(uow, end.id)
    ]
    return ContractEndOut(**end.model_dump(exclude={"notify_enc", "certificate", "signature"}), tasks=tasks)


@router.post("", response_model=ContractEndOut, status_code=status.HTTP_201_CREATED, summary="Ask for a contract end")
async def create(body: ContractEndIn, uow: AdminUow) -> ContractEndOut:
    """Record the end of this tenant's contract (GDPR Art. 28(3)(g)): every system returns (`return_then_delete`)
    and destroys everything it holds for the tenant, from `effective_at`. A different person must confirm it.
    409 while another contract end of the tenant is not cancelled."""
    return await _out(uow, await ends.request_contract_end(uow, body))


@router.get("", response_model=list[ContractEndOut], summary="List the tenant's contract ends")
async def list_all(uow: AdminReadUow) -> list[ContractEndOut]:
    """Newest first, with each system's tasks."""
    return [await _out(uow, end) for end in await ends.list_contract_ends(uow)]


@router.get("/{end_id}", response_model=ContractEndOut, summary="Read a contract end")
async def read(end_id: uuid.UUID, uow: AdminReadUow) -> ContractEndOut:
    """Its stage, and per system what was exported and deleted, kept and why, and by which store client."""
    return await _out(uow, await ends.get_contract_end(uow, end_id))


@router.post("/{end_id}/confirm", response_model=ContractEndOut, summary="Confirm a contract end (a second person)")
async def confirm(end_id: uuid.UUID, uow: AdminUow) -> ContractEndOut:
    """Four eyes: 403 when the person who asked confirms; 409 unless it is waiting for confirmation.
    Once its effective date comes it runs and cannot be undone."""
    return await _out(uow, await ends.confirm_contract_end(uow, end_id))


@router.post("/{end_id}/cancel", response_model=ContractEndOut, summary="Cancel a contract end before it starts")
async def cancel(end_id: uuid.UUID, uow: AdminUow) -> ContractEndOut:
    """409 once it has started."""
    return await _out(uow, await ends.cancel_contract_end(uow, end_id))


@router.post("/{end_id}/tasks/{task_id}/close", response_model=ContractEndOut, summary="Close a system's task by hand")
async def close_task(end_id: uuid.UUID, task_id: uuid.UUID, body: TaskCloseByHandIn, uow: AdminUow) -> ContractEndOut:
    """For a manual system, or a store that answered `unsupported`: never closed silently; the certificate names
    the person and the evidence. 409 when the task is closed."""
    return await _out(uow, await ends.close_task_by_hand(uow, end_id, task_id, body))


@router.get("/{end_id}/certificate", response_model=DestructionCertificateOut, summary="The certificate of destruction")
async def certificate(end_id: uuid.UUID, uow: AdminReadUow) -> DestructionCertificateOut:
    """The signed certificate (verify it offline with `privops verify` and the tenant's JWKS); 404 until issued."""
    end = await ends.get_contract_end(uow, end_id)
    if end.certificate is None or end.certificate_id is None:
        raise NotFound("This contract end has no certificate yet.")
    return DestructionCertificateOut(
        id=end.certificate_id,
        contract_end_id=end.id,
        certificate=end.certificate,
        jws=end.signature,
        signed_at=end.signed_at,
        jwks_url=document_signer(uow.settings).jwks_url(end.tenant_id),
    )


@stores.put("/{task_id}/export", response_model=TenantExportOut, summary="Upload a store's export of the tenant")
async def upload(task_id: uuid.UUID, body: TenantExportIn, uow: TaskUow) -> TenantExportOut:
    """Everything the store holds for the tenant, by dataset (scope `dsar:task`, the task's own system);
    403 for another system's task, 410 once it is closed."""
    return TenantExportOut(task_id=task_id, records=await receive_export(uow, task_id, body.datasets))
