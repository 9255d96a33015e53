"""The subprocessor service's evidence: the register, changes with their notices to customers, objections.

A processor engages another processor only with the controller's authorisation, informs it of any
intended change and gives it the opportunity to object (GDPR Art. 28(2) and 28(4),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Customers are named by their reference only (a
customer may be a sole trader, whose name is personal data); their contacts and the free text of an
objection stay in the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from services.subprocessor.models import ChangeNotice, Customer, Objection, Subprocessor, SubprocessorChange
from services.subprocessor.service import Uow
from services.subprocessor.service.demands import demands_evidence
from shared.runtime.evidence import within


async def register_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The register as it stands: each subprocessor, what it does, where (transfer mechanism) and its DPA."""
    rows = (
        await uow.session.exec(
            select(Subprocessor).where(col(Subprocessor.tenant_id) == uow.tenant_id).order_by(col(Subprocessor.name))
        )
    ).all()
    return {
        "subprocessors": [
            {
                "subprocessor_id": str(s.id),
                "name": s.name,
                "legal_entity": s.legal_entity,
                "service": s.service,
                "purposes": s.purposes,
                "data_categories": s.data_categories,
                "locations": s.locations,
                "dpf_certified": s.dpf_certified,
                "dpa_signed_on": s.dpa_signed_on,
                "status": s.status,
                "version": s.version,
                "updated_at": s.updated_at,
            }
            for s in rows
        ]
    }


async def changes_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Changes proposed or closed in the period; each one's notices to customers and objections, and how settled."""
    mine = uow.tenant_id
    changes = (
        await uow.session.exec(
            select(SubprocessorChange, Subprocessor.name)
            .join(Subprocessor, col(Subprocessor.id) == col(SubprocessorChange.subprocessor_id))
            .where(
                col(SubprocessorChange.tenant_id) == mine,
                or_(
                    within(SubprocessorChange.proposed_at, since, until),
                    within(SubprocessorChange.closed_at, since, until),
                    within(SubprocessorChange.effective_at, since, until),
                ),
            )
            .order_by(col(SubprocessorChange.proposed_at))
        )
    ).all()
    ids = [change.id for change, _ in changes]
    customers = {
        c.id: c for c in (await uow.session.exec(select(Customer).where(col(Customer.tenant_id) == mine))).all()
    }
    notices = (
        await uow.session.exec(
            select(ChangeNotice).where(col(ChangeNotice.change_id).in_(ids)).order_by(col(ChangeNotice.created_at))
        )
    ).all()
    objections = (
        await uow.session.exec(
            select(Objection).where(col(Objection.change_id).in_(ids)).order_by(col(Objection.raised_at))
        )
    ).all()

    def customer(customer_id: Any) -> str | None:
        found = customers.get(customer_id)
        return found.reference if found else None

    return {
        "changes": [
            {
                "change_id": str(change.id),
                "kind": change.kind,
                "subprocessor": name,
                "summary": change.summary,
                "state": change.state,
                "proposed_at": change.proposed_at,
                "effective_at": change.effective_at,
                "closed_at": change.closed_at,
                "close_reason": change.close_reason,
                "notices": [
                    {
                        "notice_id": str(n.id),
                        "customer": customer(n.customer_id),
                        "notice_period_days": n.notice_period_days,
                        "created_at": n.created_at,
                        "delivered_at": n.delivered_at,
                        "delivered_via": n.delivered_via,
                        "objection_deadline": n.objection_deadline,
                        "acknowledged_at": n.acknowledged_at,
                        "webhook_status": n.webhook_status,
                    }
                    for n in notices
                    if n.change_id == change.id
                ],
                "objections": [
                    {
                        "objection_id": str(o.id),
                        "customer": customer(o.customer_id),
                        "raised_at": o.raised_at,
                        "raised_via": o.raised_via,
                        "resolution": o.resolution,
                        "resolved_at": o.resolved_at,
                        "resolution_note": o.resolution_note,
                    }
                    for o in objections
                    if o.change_id == change.id
                ],
            }
            for change, name in changes
        ]
    }


EVIDENCE = [register_evidence, changes_evidence, demands_evidence]
