"""Routes of the register of demands from public authorities: record, review, disclose, tell the customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.subprocessor.api.deps import AdminUow, ReadUow, WriteUow
from services.subprocessor.domain.demands import DemandStatus
from services.subprocessor.models import AuthorityDemand
from services.subprocessor.schemas import CloseIn, DeferralIn, DemandIn, DemandOut, DisclosureIn, ReviewIn
from services.subprocessor.service import demand_notices
from services.subprocessor.service import demands as service
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.repository import get_or_404

router = APIRouter(prefix="/v1/demands", tags=["demands"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=DemandOut, summary="Record a demand from a public authority")
async def record_demand(body: DemandIn, uow: WriteUow) -> DemandOut:
    """Record a demand; the customer's contacts are emailed at once unless ``deferral`` gives the legal reason."""
    return await service.demand_view(uow, await service.record_demand(uow, body))


@router.get("", response_model=list[DemandOut], summary="List demands from public authorities")
async def list_demands(
    uow: ReadUow,
    status: DemandStatus | None = None,
    customer_id: uuid.UUID | None = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DemandOut]:
    """The tenant's demands, newest first, by status, customer, authority's country and receipt date."""
    return await service.list_demands(
        uow,
        status=status.value if status else None,
        customer_id=customer_id,
        country=country,
        since=since,
        until=until,
        limit=limit,
    )


@router.get("/{demand_id}", response_model=DemandOut, summary="Read a demand and its timeline")
async def get_demand(demand_id: uuid.UUID, uow: ReadUow) -> DemandOut:
    """A demand with its review, deferrals, disclosures, and every step including the customer's emails."""
    return await service.demand_view(uow, await get_or_404(uow, AuthorityDemand, demand_id))


@router.post("/{demand_id}/review/start", response_model=DemandOut, summary="Start reviewing a demand")
async def start_review(demand_id: uuid.UUID, uow: WriteUow) -> DemandOut:
    """The demand is under review."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    return await service.demand_view(uow, await service.start_review(uow, demand))


@router.post("/{demand_id}/review", response_model=DemandOut, summary="Decide a demand")
async def review(demand_id: uuid.UUID, body: ReviewIn, uow: AdminUow) -> DemandOut:
    """Disclose, disclose in part, refuse or challenge, with the reasons; not by whoever recorded the demand."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    return await service.demand_view(uow, await service.review(uow, demand, body))


@router.post("/{demand_id}/disclosures", status_code=201, response_model=DemandOut, summary="Record a disclosure")
async def disclose(demand_id: uuid.UUID, body: DisclosureIn, uow: AdminUow) -> DemandOut:
    """What was handed over about one person, when and how; only within the demand's scope, after the decision."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    await service.disclose(uow, demand, body)
    return await service.demand_view(uow, demand)


@router.post("/{demand_id}/deferral", status_code=201, response_model=DemandOut, summary="Defer telling the customer")
async def defer(demand_id: uuid.UUID, body: DeferralIn, uow: AdminUow) -> DemandOut:
    """Record the legal instrument that forbids telling the customer yet, and until when (replaces the one in force)."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    await demand_notices.defer(uow, demand, body)
    return await service.demand_view(uow, demand)


@router.post("/{demand_id}/notification", response_model=DemandOut, summary="Tell the customer now")
async def notify_customer(demand_id: uuid.UUID, uow: WriteUow) -> DemandOut:
    """Email the demand to the customer's contacts now (a deferral in force ends)."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    await demand_notices.notify_customer(uow, demand)
    uow.audit("demand.customer_notified", "authority_demand", demand.id)
    return await service.demand_view(uow, demand)


@router.post("/{demand_id}/close", response_model=DemandOut, summary="Close a demand")
async def close(demand_id: uuid.UUID, body: CloseIn, uow: WriteUow) -> DemandOut:
    """Close a decided demand."""
    demand = await get_or_404(uow, AuthorityDemand, demand_id, lock=True)
    return await service.demand_view(uow, await service.close(uow, demand, body))
