"""The breach service as a data store: what it does with one subject's references for DSAR tasks.

It holds keyed subject references of people affected by breaches, and, while a notice to them is
under way, their sealed addresses. Erasure removes the reference and the address (the incident
keeps its approximate counts, which the register must keep under Art. 33(5)); access lists the
incidents that affected the subject.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, delete, func, select, update

from services.breach import models as tenant_tables
from services.breach.models import AffectedContact, AffectedSubject, Delivery, Incident
from services.breach.service import Uow
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

REGISTER_DUTY = "GDPR Art. 33(5): the breach register is a legal obligation; no individual processing to stop"
ERASED = "erased"


def _affected(task: TaskInput) -> Any:
    """The tenant's affected-subject rows recorded under any identifier of the request."""
    return (col(AffectedSubject.tenant_id) == task.tenant_id, col(AffectedSubject.subject_ref).in_(task.refs))


class BreachStore:
    """DSAR actions on the breach register's subject references."""

    # At a contract's end (Art. 28(3)(g) GDPR): The people affected (keyed references) and the contacts go; the
    # register stays (Art. 33(5)).
    tenant_data = TenantData(
        deleted=(
            tenant_tables.AffectedContact,
            tenant_tables.AffectedSubject,
            tenant_tables.TenantSettings,
        ),
        kept=(
            (
                tenant_tables.Incident,
                "breach register entries",
                "GDPR Art. 33(5): the breach register (facts, effects, remedial action) is kept to let the "
                "supervisory authority verify compliance",
            ),
            (
                tenant_tables.TimelineEntry,
                "breach timeline entries",
                "GDPR Art. 33(5): part of the breach register",
            ),
            (
                tenant_tables.Assessment,
                "breach assessments",
                "GDPR Art. 33(5): part of the breach register",
            ),
            (
                tenant_tables.Deadline,
                "breach deadlines",
                "GDPR Art. 33(5): part of the breach register",
            ),
            (
                tenant_tables.DeadlineAlert,
                "breach deadline alerts",
                "GDPR Art. 33(5): part of the breach register",
            ),
            (
                tenant_tables.Notice,
                "breach notices",
                "GDPR Art. 33(5) and 34: the notices sent are part of the register",
            ),
            (
                tenant_tables.Delivery,
                "breach notice deliveries",
                "GDPR Art. 33(5) and 34: proof the notices were delivered",
            ),
            (
                tenant_tables.NoticeApproval,
                "customers' approvals of notices to people",
                "GDPR Art. 28(3)(f) and 34: the controller's decision on telling the people affected, with the notice",
            ),
            (
                tenant_tables.IncidentSequence,
                "breach register numbering",
                "GDPR Art. 33(5): part of the breach register",
            ),
        ),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Remove the subject and their kept address from every incident, and from notice deliveries (counts stay)."""
        removed = await uow.session.exec(delete(AffectedSubject).where(*_affected(task)))
        count = int(getattr(removed, "rowcount", 0) or 0)
        await uow.session.exec(
            delete(AffectedContact).where(
                col(AffectedContact.tenant_id) == task.tenant_id, col(AffectedContact.subject_ref).in_(task.refs)
            )
        )
        await uow.session.exec(
            update(Delivery)
            .where(col(Delivery.tenant_id) == task.tenant_id, col(Delivery.recipient_ref).in_(task.refs))
            .values(recipient_ref=ERASED)
        )
        return StoreResult("done" if count else "no_data", records_affected=count)

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """The incidents that affected the subject, as the register describes them."""
        rows = await uow.session.exec(
            # One line per incident, even when it recorded the person under several of their identifiers.
            select(Incident, func.min(AffectedSubject.added_at))
            .join(AffectedSubject, col(AffectedSubject.incident_id) == col(Incident.id))
            .where(*_affected(task))
            .group_by(col(Incident.id))
            .order_by(col(Incident.aware_at))
        )
        return [
            {
                "incident": incident.reference,
                "title": incident.title,
                "aware_at": incident.aware_at.isoformat(),
                "nature": incident.nature,
                "data_categories": incident.data_categories,
                "measures_taken": incident.measures_taken,
                "status": incident.status,
                "attached_at": added_at.isoformat(),
            }
            for incident, added_at in rows.all()
        ]

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Nothing to restrict: the reference is kept only to document the breach and notify the person."""
        return StoreResult("exempt", exemption=REGISTER_DUTY)

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Objection does not apply to processing required by law."""
        return StoreResult("exempt", exemption=REGISTER_DUTY)

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Only keyed references are held: there is nothing to correct."""
        return StoreResult("no_data", detail="the breach register holds only keyed subject references")
