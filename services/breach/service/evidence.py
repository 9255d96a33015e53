"""The breach service's evidence: the breach register and every notice with its delivery, no personal data.

The register documents each breach, its effects and the remedial action taken (GDPR Art. 33(5),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Left out: the free-text description, the reporter,
the affected people and each notice's addressee (only an authority, by name); a notice is shown by
its SHA-256, its text stays in the breach service.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select

from services.breach.models import AffectedSubject, Delivery, Incident, Notice
from services.breach.service import Uow
from shared.runtime.evidence import within


async def breach_register_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The incidents open at some time in the period: facts, effects, measures, risk and the notification decision."""
    incidents = (
        await uow.session.exec(
            select(Incident)
            .where(
                col(Incident.tenant_id) == uow.tenant_id,
                col(Incident.aware_at) < until,
                or_(col(Incident.closed_at).is_(None), col(Incident.closed_at) >= since),
            )
            .order_by(col(Incident.aware_at), col(Incident.reference))
        )
    ).all()
    affected = dict(
        (
            await uow.session.exec(
                select(AffectedSubject.incident_id, func.count())
                .where(col(AffectedSubject.incident_id).in_([i.id for i in incidents]))
                .group_by(col(AffectedSubject.incident_id))
            )
        ).all()
    )
    return {
        "incidents": [
            {
                "incident_id": str(i.id),
                "reference": i.reference,
                "title": i.title,
                "detected_at": i.detected_at,
                "aware_at": i.aware_at,
                "nature": i.nature,
                "systems": i.systems,
                "data_categories": i.data_categories,
                "data_subject_categories": i.data_subject_categories,
                "approximate_subjects": i.approximate_subjects,
                "approximate_records": i.approximate_records,
                "identified_subjects": int(affected.get(i.id, 0)),
                "jurisdictions": i.jurisdictions,
                "role": i.role,
                "customers": i.customers,
                "subprocessor": i.subprocessor_id,
                "measures_taken": i.measures_taken,
                "measures_proposed": i.measures_proposed,
                "risk": i.risk,
                "notify_authority": i.notify_authority,
                "notify_individuals": i.notify_individuals,
                "status": i.status,
                "closed_at": i.closed_at,
            }
            for i in incidents
        ]
    }


async def breach_notices_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The notices drafted or sent in the period: to whom (kind), when, late or not, and how their delivery went."""
    rows = (
        await uow.session.exec(
            select(Notice, Incident.reference)
            .join(Incident, col(Incident.id) == col(Notice.incident_id))
            .where(
                col(Notice.tenant_id) == uow.tenant_id,
                or_(within(Notice.created_at, since, until), within(Notice.sent_at, since, until)),
            )
            .order_by(col(Notice.created_at))
        )
    ).all()
    deliveries: dict[Any, Counter[str]] = defaultdict(Counter)
    for notice_id, status in (
        await uow.session.exec(
            select(Delivery.notice_id, Delivery.status).where(col(Delivery.notice_id).in_([n.id for n, _ in rows]))
        )
    ).all():
        deliveries[notice_id][status] += 1
    return {
        "notices": [
            {
                "notice_id": str(n.id),
                "incident": reference,
                "kind": n.kind,
                "stage": n.stage,
                "jurisdiction": n.jurisdiction,
                "authority": n.recipient if n.kind == "authority" else None,
                "customer_id": n.customer_id,
                "status": n.status,
                "late": n.late,
                "delay_reasons": n.delay_reasons,
                "created_at": n.created_at,
                "sent_at": n.sent_at,
                "body_sha256": hashlib.sha256(n.body.encode()).hexdigest(),
                "deliveries": dict(sorted(deliveries[n.id].items())),
            }
            for n, reference in rows
        ]
    }


EVIDENCE = [breach_register_evidence, breach_notices_evidence]
