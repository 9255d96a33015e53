"""Routes of the register: subprocessors and their history, customers and the subprocessors they use."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.subprocessor.api.deps import ReadUow, WriteUow
from services.subprocessor.models import Customer, Subprocessor, SubprocessorVersion
from services.subprocessor.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerSubprocessorsIn,
    SubprocessorIn,
    SubprocessorOut,
    SubprocessorVersionOut,
)
from services.subprocessor.service import register as service
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.repository import get_or_404

router = APIRouter(prefix="/v1", tags=["register"], responses=PROBLEM_RESPONSES)


@router.post("/subprocessors", status_code=201, response_model=SubprocessorOut, summary="Enter a subprocessor")
async def create_subprocessor(body: SubprocessorIn, uow: WriteUow) -> Subprocessor:
    """Enter a subprocessor; each location outside the EEA needs a valid transfer mechanism."""
    return await service.create_subprocessor(uow, body)


@router.get("/subprocessors", response_model=list[SubprocessorOut], summary="List the register")
async def list_subprocessors(
    uow: ReadUow, status: Annotated[Literal["proposed", "active", "retired"] | None, Query()] = None
) -> list[Subprocessor]:
    """The tenant's subprocessors by name."""
    return await service.list_subprocessors(uow, status)


@router.get("/subprocessors/{subprocessor_id}", response_model=SubprocessorOut, summary="Read a subprocessor")
async def get_subprocessor(subprocessor_id: uuid.UUID, uow: ReadUow) -> Subprocessor:
    """One subprocessor of the tenant."""
    return await get_or_404(uow, Subprocessor, subprocessor_id)


@router.get(
    "/subprocessors/{subprocessor_id}/history",
    response_model=list[SubprocessorVersionOut],
    summary="A subprocessor's full history",
)
async def subprocessor_history(subprocessor_id: uuid.UUID, uow: ReadUow) -> list[SubprocessorVersion]:
    """Every version of the entry, oldest first, with the change that made it."""
    return await service.history(uow, subprocessor_id)


@router.post("/customers", status_code=201, response_model=CustomerOut, summary="Register a customer")
async def create_customer(body: CustomerIn, uow: WriteUow) -> CustomerOut:
    """Register a customer, its contacts, webhook endpoint and notice period; the webhook secret is shown once."""
    return await service.create_customer(uow, body)


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="Read a customer")
async def get_customer(customer_id: uuid.UUID, uow: ReadUow) -> CustomerOut:
    """A customer with its contacts (by reference) and subprocessors."""
    return await service.customer_view(uow, await get_or_404(uow, Customer, customer_id))


@router.put(
    "/customers/{customer_id}/subprocessors", response_model=CustomerOut, summary="Set a customer's subprocessors"
)
async def set_customer_subprocessors(
    customer_id: uuid.UUID, body: CustomerSubprocessorsIn, uow: WriteUow
) -> CustomerOut:
    """Replace the list of active subprocessors processing this customer's data."""
    customer = await get_or_404(uow, Customer, customer_id)
    await service.set_customer_subprocessors(uow, customer, body.subprocessor_ids)
    return await service.customer_view(uow, customer)
