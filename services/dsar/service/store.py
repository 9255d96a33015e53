"""The DSAR service as a data store (``privops-dsar``): what it holds about a subject is their requests."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from services.dsar import models as tenant_tables
from services.dsar.models import DsarRequest
from services.dsar.service import Uow
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

# Records of rights requests are the controller's evidence of compliance; their identifiers are
# purged when each request closes, so only the keyed reference and dates remain.
KEPT_AS_EVIDENCE = "Art. 17(3)(b) and (e), Art. 5(2) GDPR: records of rights requests are kept as evidence"


class DsarOwnData:
    """Answers the tasks addressed to ``privops-dsar``."""

    # At a contract's end (Art. 28(3)(g) GDPR): Requests' records and certificates stay as evidence; contract ends and
    # their certificates are never purged.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.Notification,
            tenant_tables.Verification,
            tenant_tables.IdempotencyKey,
            tenant_tables.SubjectRecipient,
            tenant_tables.SubjectDisclosure,
            tenant_tables.PortabilityTransfer,
            tenant_tables.DsarTask,
            tenant_tables.LegalHold,
            tenant_tables.ExportPackage,
            tenant_tables.DataSystem,
            tenant_tables.DsarTenantSettings,
        ),
        kept=(
            (
                tenant_tables.DsarRequest,
                "rights-request records (keyed references and dates)",
                "GDPR Art. 5(2) and 12: records of rights requests are evidence of how they were answered",
            ),
            (
                tenant_tables.ErasureCertificate,
                "certificates of erasure",
                "GDPR Art. 5(2) and 17(3)(e): signed proof of each erasure, kept for legal claims",
            ),
        ),
    )

    async def _requests(self, uow: Uow, task: TaskInput) -> list[DsarRequest]:
        rows = await uow.session.exec(
            select(DsarRequest).where(
                col(DsarRequest.tenant_id) == task.tenant_id, col(DsarRequest.subject_refs).contains([task.subject_ref])
            )
        )
        return list(rows.all())

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """The subject's rights requests (type, state, dates)."""
        return [
            {
                "request_id": str(r.id),
                "type": r.request_type,
                "state": r.state,
                "jurisdiction": r.regime_id,
                "received_at": r.received_at.isoformat(),
                "closed_at": r.closed_at.isoformat() if r.closed_at else None,
            }
            for r in await self._requests(uow, task)
        ]

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Nothing is deleted: identifiers go when each request closes; earlier requests' records are evidence."""
        # The erasure request being answered is not "data kept": it is the record of this very answer.
        earlier = [r for r in await self._requests(uow, task) if r.id != task.request_id]
        if not earlier:
            return StoreResult("no_data", detail="only this request's own record, kept as evidence of the answer")
        return StoreResult("exempt", records_affected=0, exemption=KEPT_AS_EVIDENCE)

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Request records are only used to answer requests: nothing to restrict."""
        return StoreResult("no_data", detail="request records are processed only to answer requests")

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Request records are kept on a legal obligation, not a legitimate interest."""
        return StoreResult("no_data", detail="no processing based on legitimate interest")

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Requests hold no correctable profile data."""
        return StoreResult("no_data")
