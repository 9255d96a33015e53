"""Routes of clients: register (no widening), list, read, rotate the secret, disable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.identity.api.deps import AdminUow, ReadUow
from services.identity.models import Client
from services.identity.schemas import ClientCreatedOut, ClientIn, ClientOut
from services.identity.schemas.common import TENANT_OR_ALL
from services.identity.service import clients as service
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/clients", tags=["clients"], responses=PROBLEM_RESPONSES)
ClientId = Annotated[str, Path(min_length=1, max_length=64, description="The client's id")]
TenantQuery = Annotated[
    str | None, Query(pattern=TENANT_OR_ALL, description="Another tenant, or '*' (platform:admin only)")
]


def client_out(client: Client) -> ClientOut:
    """The public view of a client."""
    return ClientOut.model_validate({**client.model_dump(), "tenant": client.tenant_id})


@router.post("", status_code=201, response_model=ClientCreatedOut, summary="Register a client")
async def create_client(body: ClientIn, uow: AdminUow) -> ClientCreatedOut:
    """A new client whose scopes the caller holds; its secret is in this answer only."""
    client, secret = await service.create_client(uow, body)
    return ClientCreatedOut(**client_out(client).model_dump(), client_secret=secret)


@router.get("", response_model=list[ClientOut], summary="List the tenant's clients")
async def list_clients(uow: ReadUow, tenant: TenantQuery = None) -> list[ClientOut]:
    """Every client of the tenant, disabled ones included."""
    return [client_out(c) for c in await service.list_clients(uow, tenant)]


@router.get("/{client_id}", response_model=ClientOut, summary="Read a client")
async def get_client(client_id: ClientId, uow: ReadUow) -> ClientOut:
    """One client of the tenant."""
    return client_out(await service.get_client(uow, client_id))


@router.post("/{client_id}/secret", response_model=ClientCreatedOut, summary="Rotate a client's secret")
async def rotate_secret(client_id: ClientId, uow: AdminUow) -> ClientCreatedOut:
    """A new secret, in this answer only; the previous one stops working now (tokens already issued run out)."""
    client, secret = await service.rotate_secret(uow, client_id)
    return ClientCreatedOut(**client_out(client).model_dump(), client_secret=secret)


@router.delete("/{client_id}", response_model=ClientOut, summary="Disable a client")
async def disable_client(client_id: ClientId, uow: AdminUow) -> ClientOut:
    """No new token for this client; the tokens it holds stop at their expiry."""
    return client_out(await service.disable_client(uow, client_id))
