"""The subprocessor service as a data store: customer contacts are personal data, answered by subject reference."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from services.subprocessor import models as tenant_tables
from services.subprocessor.models import CustomerContact
from services.subprocessor.service import Uow
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

SYSTEM = "privops-subprocessor"


def _mine(task: TaskInput) -> Any:
    """The tenant's contacts recorded under any identifier of the request."""
    return (col(CustomerContact.tenant_id) == task.tenant_id, col(CustomerContact.subject_ref).in_(task.refs))


class ContactStore:
    """DSAR actions on customer contacts (notices themselves name no person and are kept as proof)."""

    # At a contract's end (Art. 28(3)(g) GDPR): The register, its customers, contacts and notices are returned, then
    # deleted.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.DemandLogEntry,
            tenant_tables.DemandDisclosure,
            tenant_tables.DemandDeferral,
            tenant_tables.DemandSubject,
            tenant_tables.AuthorityDemand,
            tenant_tables.Objection,
            tenant_tables.NoticeLogEntry,
            tenant_tables.ChangeNotice,
            tenant_tables.CustomerSubprocessor,
            tenant_tables.CustomerContact,
            tenant_tables.Customer,
            tenant_tables.SubprocessorChange,
            tenant_tables.SubprocessorVersion,
            tenant_tables.Subprocessor,
        ),
        kept=(),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Delete the contact entries; emails already requested can no longer be claimed."""
        result = await uow.session.exec(delete(CustomerContact).where(*_mine(task)))
        count = int(result.rowcount or 0)
        return StoreResult("done" if count else "no_data", records_affected=count)

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """Every contact entry held for the subject."""
        rows = await uow.session.exec(select(CustomerContact).where(*_mine(task)))
        return [
            {
                "type": "customer_contact",
                **c.model_dump(mode="json", include={"id", "customer_id", "email", "role", "created_at"}),
            }
            for c in rows.all()
        ]

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Stop (or resume) emailing notices to the subject."""
        return await self._set_restricted(uow, task, not lift)

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """An objection stops notice emails to the subject, as a restriction does."""
        return await self._set_restricted(uow, task, True)

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Contacts are corrected by the customer through the API; nothing to rectify from a task."""
        return StoreResult("exempt", exemption="contacts are maintained by the customer", detail="rectify via the API")

    async def _set_restricted(self, uow: Uow, task: TaskInput, restricted: bool) -> StoreResult:
        result = await uow.session.exec(update(CustomerContact).where(*_mine(task)).values(restricted=restricted))
        count = int(result.rowcount or 0)
        return StoreResult("done" if count else "no_data", records_affected=count)
