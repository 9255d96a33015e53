"""Routes of the register: subprocessors and their history, customers and the subprocessors they use."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.subprocessor.api.deps import Reader, SettingsDep, Writer
from services.subprocessor.models import Subprocessor, SubprocessorVersion
from services.subprocessor.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerSubprocessorsIn,
    SubprocessorIn,
    SubprocessorOut,
    SubprocessorVersionOut,
)
from services.subprocessor.service import register as service
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["register"], responses=PROBLEM_RESPONSES)


@router.post("/subprocessors", status_code=201, response_model=SubprocessorOut, summary="Enter a subprocessor")
async def create_subprocessor(
    body: SubprocessorIn, session: SessionDep, clock: ClockDep, principal: Writer
) -> Subprocessor:
    """Enter a subprocessor; each location outside the EEA needs a valid transfer mechanism."""
    return await service.create_subprocessor(session, body, principal, clock)


@router.get("/subprocessors", response_model=list[SubprocessorOut], summary="List the register")
async def list_subprocessors(
    session: SessionDep,
    principal: Reader,
    status: Annotated[Literal["proposed", "active", "retired"] | None, Query()] = None,
) -> list[Subprocessor]:
    """The tenant's subprocessors by name."""
    return await service.list_subprocessors(session, principal.tenant_id, status)


@router.get("/subprocessors/{subprocessor_id}", response_model=SubprocessorOut, summary="Read a subprocessor")
async def get_subprocessor(subprocessor_id: uuid.UUID, session: SessionDep, principal: Reader) -> Subprocessor:
    """One subprocessor of the tenant."""
    return await service.get_subprocessor(session, principal.tenant_id, subprocessor_id)


@router.get(
    "/subprocessors/{subprocessor_id}/history",
    response_model=list[SubprocessorVersionOut],
    summary="A subprocessor's full history",
)
async def subprocessor_history(
    subprocessor_id: uuid.UUID, session: SessionDep, principal: Reader
) -> list[SubprocessorVersion]:
    """Every version of the entry, oldest first, with the change that made it."""
    return await service.history(session, principal.tenant_id, subprocessor_id)


@router.post("/customers", status_code=201, response_model=CustomerOut, summary="Register a customer")
async def create_customer(
    body: CustomerIn, session: SessionDep, clock: ClockDep, principal: Writer, settings: SettingsDep
) -> CustomerOut:
    """Register a customer, its contacts, webhook endpoint and notice period; the webhook secret is shown once."""
    return await service.create_customer(session, body, principal, clock, settings)


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="Read a customer")
async def get_customer(customer_id: uuid.UUID, session: SessionDep, principal: Reader) -> CustomerOut:
    """A customer with its contacts (by reference) and subprocessors."""
    return await service.customer_view(session, await service.get_customer(session, principal.tenant_id, customer_id))


@router.put(
    "/customers/{customer_id}/subprocessors", response_model=CustomerOut, summary="Set a customer's subprocessors"
)
async def set_customer_subprocessors(
    customer_id: uuid.UUID, body: CustomerSubprocessorsIn, session: SessionDep, clock: ClockDep, principal: Writer
) -> CustomerOut:
    """Replace the list of active subprocessors processing this customer's data."""
    customer = await service.get_customer(session, principal.tenant_id, customer_id)
    await service.set_customer_subprocessors(session, customer, body.subprocessor_ids, principal, clock)
    return await service.customer_view(session, customer)
