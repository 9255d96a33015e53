"""The register of demands from public authorities: receipt, review by a second person, disclosures, closing.

A processor discloses a customer's data to an authority only when the law requires it, tells the customer
first unless that law forbids it (GDPR Art. 28(3)(a); Art. 48 for third-country orders,
https://eur-lex.europa.eu/eli/reg/2016/679/oj), and records what it handed over about whom.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from services.subprocessor.domain import normalise_location
from services.subprocessor.domain.demands import (
    DemandStatus,
    decide,
    evidence_summary,
    outside_eea,
    transition,
    validate_disclosure,
    validate_past,
)
from services.subprocessor.models import (
    AuthorityDemand,
    Customer,
    DemandDeferral,
    DemandDisclosure,
    DemandLogEntry,
    DemandSubject,
)
from services.subprocessor.schemas import CloseIn, DemandIn, DemandOut, DisclosureIn, ReviewIn
from services.subprocessor.schemas.demands import SubjectIn
from services.subprocessor.service import Uow
from services.subprocessor.service.demand_notices import defer, log_step, notify_customer, publish_disclosures
from shared.events.catalogue.subprocessor import AuthorityDemandDecided, AuthorityDemandReceived
from shared.rules.subjects import parse_identifier_kind, subject_ref
from shared.runtime.repository import get_or_404


def _ref(uow: Uow, subject: SubjectIn) -> str:
    key = uow.settings.subject_hash_key.get_secret_value().encode()
    return subject_ref(key, subject.kind, subject.value, tenant=uow.tenant_id)


async def record_demand(uow: Uow, body: DemandIn) -> AuthorityDemand:
    """Record a demand; its customer's contacts are emailed at once unless a legal reason defers it."""
    now = uow.now()
    received_at = validate_past(body.received_at, now)
    country = normalise_location(body.authority.country)
    subjects = {_ref(uow, s): parse_identifier_kind(s.kind).value for s in body.subjects}
    customer = await get_or_404(uow, Customer, body.customer_id)
    demand = AuthorityDemand(
        tenant_id=uow.tenant_id,
        customer_id=customer.id,
        authority_name=body.authority.name.strip(),
        authority_country=country,
        legal_basis=body.legal_basis.text,
        legal_reference=body.legal_basis.reference,
        authority_reference=body.authority_reference,
        received_at=received_at,
        data_categories=sorted(set(body.data_categories)),
        recorded_by=uow.actor,
        recorded_at=now,
    )
    uow.session.add(demand)
    await uow.session.flush()
    for ref, kind in subjects.items():
        uow.session.add(DemandSubject(tenant_id=uow.tenant_id, demand_id=demand.id, subject_ref=ref, kind=kind))
    log_step(uow, demand, "status", DemandStatus.RECEIVED.value, detail={"subjects": len(subjects)})
    if body.deferral is not None:
        await defer(uow, demand, body.deferral)
    else:
        await notify_customer(uow, demand)
    event = AuthorityDemandReceived(
        demand_id=demand.id,
        customer_id=customer.reference,
        authority_country=country,
        received_at=received_at,
        subjects=len(subjects),
        customer_notification=demand.notification,
    )
    await uow.stage(event, subject=str(demand.id))
    uow.audit("demand.recorded", "authority_demand", demand.id, {"subjects": len(subjects), "country": country})
    await uow.session.flush()
    return demand


def _move(uow: Uow, demand: AuthorityDemand, target: DemandStatus, **detail: Any) -> None:
    demand.status = transition(demand.status, target).value
    uow.session.add(demand)
    log_step(uow, demand, "status", target.value, detail=detail)


async def start_review(uow: Uow, demand: AuthorityDemand) -> AuthorityDemand:
    """A person takes up the demand's review."""
    _move(uow, demand, DemandStatus.UNDER_REVIEW)
    uow.audit("demand.review_started", "authority_demand", demand.id)
    await uow.session.flush()
    return demand


async def review(uow: Uow, demand: AuthorityDemand, body: ReviewIn) -> AuthorityDemand:
    """Record the decision and its reasons; the reviewer is the caller, and may not be who recorded the demand."""
    target = decide(demand.status, body.decision, reviewer=uow.actor, recorded_by=demand.recorded_by)
    now = uow.now()
    demand.status = target.value
    demand.reviewer, demand.reviewed_at = uow.actor, now
    demand.decision, demand.reasoning = body.decision.value, body.reasoning
    uow.session.add(demand)
    log_step(uow, demand, "review", body.decision.value)
    await uow.stage(
        AuthorityDemandDecided(demand_id=demand.id, decision=body.decision.value, decided_at=now),
        subject=str(demand.id),
    )
    uow.audit("demand.reviewed", "authority_demand", demand.id, {"decision": body.decision.value})
    await uow.session.flush()
    return demand


async def disclose(uow: Uow, demand: AuthorityDemand, body: DisclosureIn) -> DemandDisclosure:
    """Record what was handed over about one person; the DSAR service learns of it unless the customer may not."""
    ref = _ref(uow, body.subject) if body.subject is not None else str(body.subject_ref)
    categories = validate_disclosure(
        demand.status,
        subject_ref=ref,
        subjects=await _subject_refs(uow, demand.id),
        categories=body.categories,
        requested=demand.data_categories,
        records_count=body.records_count,
    )
    disclosed_at = validate_past(body.disclosed_at, uow.now(), "disclosed_at")
    disclosure = DemandDisclosure(
        tenant_id=uow.tenant_id,
        demand_id=demand.id,
        subject_ref=ref,
        categories=categories,
        records_count=body.records_count,
        channel=body.channel,
        disclosed_at=disclosed_at,
        recorded_by=uow.actor,
    )
    uow.session.add(disclosure)
    await uow.session.flush()
    detail = {"subject_ref": ref, "categories": categories, "records": body.records_count, "channel": body.channel}
    log_step(uow, demand, "disclosure", "recorded", detail=detail)
    await publish_disclosures(uow, demand)
    uow.audit("demand.disclosed", "authority_demand", demand.id, detail)
    await uow.session.flush()
    return disclosure


async def close(uow: Uow, demand: AuthorityDemand, body: CloseIn) -> AuthorityDemand:
    """Close a decided demand."""
    _move(uow, demand, DemandStatus.CLOSED, note=body.note)
    demand.closed_at = uow.now()
    uow.audit("demand.closed", "authority_demand", demand.id)
    await uow.session.flush()
    return demand


async def _subject_refs(uow: Uow, demand_id: uuid.UUID) -> list[str]:
    rows = await uow.session.exec(select(DemandSubject.subject_ref).where(col(DemandSubject.demand_id) == demand_id))
    return sorted(rows.all())


async def _rows(uow: Uow, model: Any, demand_id: uuid.UUID, order: Any) -> Sequence[Any]:
    return (await uow.session.exec(select(model).where(col(model.demand_id) == demand_id).order_by(order))).all()


async def demand_view(uow: Uow, demand: AuthorityDemand) -> DemandOut:
    """A demand with its subjects (by reference), deferrals, disclosures and whole timeline."""
    return DemandOut.model_validate(
        {
            **demand.model_dump(),
            "outside_eea": outside_eea(demand.authority_country),
            "subject_refs": await _subject_refs(uow, demand.id),
            "deferrals": [
                d.model_dump() for d in await _rows(uow, DemandDeferral, demand.id, DemandDeferral.recorded_at)
            ],
            "disclosures": [
                d.model_dump() for d in await _rows(uow, DemandDisclosure, demand.id, DemandDisclosure.disclosed_at)
            ],
            "timeline": [e.model_dump() for e in await _rows(uow, DemandLogEntry, demand.id, DemandLogEntry.id)],
        }
    )


async def list_demands(
    uow: Uow,
    *,
    status: str | None = None,
    customer_id: uuid.UUID | None = None,
    country: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> list[DemandOut]:
    """The tenant's demands, newest received first, filtered."""
    statement = select(AuthorityDemand).where(col(AuthorityDemand.tenant_id) == uow.tenant_id)
    if status is not None:
        statement = statement.where(col(AuthorityDemand.status) == status)
    if customer_id is not None:
        statement = statement.where(col(AuthorityDemand.customer_id) == customer_id)
    if country is not None:
        statement = statement.where(col(AuthorityDemand.authority_country) == country.upper())
    if since is not None:
        statement = statement.where(col(AuthorityDemand.received_at) >= since)
    if until is not None:
        statement = statement.where(col(AuthorityDemand.received_at) < until)
    rows = await uow.session.exec(statement.order_by(col(AuthorityDemand.received_at).desc()).limit(limit))
    return [await demand_view(uow, demand) for demand in rows.all()]


async def demands_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The demands received in [since, until) for an evidence pack: authorities, bases, dates, statuses and when
    each customer was told, with counts; no person's data (no subject reference, no reasoning, no contact)."""
    rows = await uow.session.exec(
        select(AuthorityDemand, Customer.reference)
        .join(Customer, col(Customer.id) == col(AuthorityDemand.customer_id))
        .where(
            col(AuthorityDemand.tenant_id) == uow.tenant_id,
            col(AuthorityDemand.received_at) >= since,
            col(AuthorityDemand.received_at) < until,
        )
        .order_by(col(AuthorityDemand.received_at))
    )
    items = []
    for demand, customer in rows.all():
        subjects = await _subject_refs(uow, demand.id)
        disclosures = await _rows(uow, DemandDisclosure, demand.id, DemandDisclosure.disclosed_at)
        deferrals = await _rows(uow, DemandDeferral, demand.id, DemandDeferral.recorded_at)
        items.append(
            {
                "demand_id": str(demand.id),
                "customer": customer,
                "authority": demand.authority_name,
                "authority_country": demand.authority_country,
                "outside_eea": outside_eea(demand.authority_country),
                "legal_basis": demand.legal_reference,
                "received_at": demand.received_at.isoformat(),
                "status": demand.status,
                "decision": demand.decision,
                "reviewed_at": demand.reviewed_at.isoformat() if demand.reviewed_at else None,
                "subjects": len(subjects),
                "disclosures": len(disclosures),
                "records_disclosed": sum(d.records_count for d in disclosures),
                "notification": demand.notification,
                "notification_requested_at": _iso(demand.notification_requested_at),
                "customer_notified_at": _iso(demand.customer_notified_at),
                "deferred": bool(deferrals),
                "deferred_until": [d.until.isoformat() for d in deferrals],
                "closed_at": _iso(demand.closed_at),
            }
        )
    return {"since": since.isoformat(), "until": until.isoformat(), **evidence_summary(items)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
