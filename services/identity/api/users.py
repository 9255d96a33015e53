"""Routes of people's accounts: create (password or invitation), list, read, change, disable, invite again."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.identity.api.deps import AdminUow, ReadUow
from services.identity.models import UserAccount
from services.identity.schemas import UserIn, UserInvitedOut, UserOut, UserPatch
from services.identity.schemas.common import TENANT
from services.identity.service import users as service
from shared.rules.roles import scopes_for
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/users", tags=["users"], responses=PROBLEM_RESPONSES)
TenantQuery = Annotated[str | None, Query(pattern=TENANT, description="Another tenant (platform:admin only)")]


def user_out(user: UserAccount, invite_url: str | None = None) -> UserInvitedOut:
    """The public view of an account."""
    return UserInvitedOut(
        id=user.id,
        tenant=user.tenant_id,
        email=user.email,
        name=user.name,
        roles=user.roles,
        scopes=scopes_for(user.roles),
        has_password=user.password_hash is not None,
        invite_expires_at=user.invite_expires_at,
        created_by=user.created_by,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
        disabled_at=user.disabled_at,
        invite_url=invite_url,
    )


@router.post("", status_code=201, response_model=UserInvitedOut, summary="Add a person")
async def create_user(body: UserIn, uow: AdminUow) -> UserInvitedOut:
    """A person with roles whose scopes the caller holds; without a password, a one-time invitation link."""
    user, link = await service.create_user(uow, body)
    return user_out(user, link)


@router.get("", response_model=list[UserOut], summary="List the tenant's people")
async def list_users(uow: ReadUow, tenant: TenantQuery = None) -> list[UserOut]:
    """Every account of the tenant, with its roles and what they give."""
    return [user_out(u) for u in await service.list_users(uow, tenant)]


@router.get("/{user_id}", response_model=UserOut, summary="Read a person's account")
async def get_user(user_id: uuid.UUID, uow: ReadUow) -> UserOut:
    """One account of the tenant."""
    return user_out(await service.get_user(uow, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a person's account")
async def update_user(user_id: uuid.UUID, body: UserPatch, uow: AdminUow) -> UserOut:
    """Name, roles (no widening), password, or enabled again; their current tokens keep their scopes until expiry."""
    return user_out(await service.update_user(uow, user_id, body))


@router.delete("/{user_id}", response_model=UserOut, summary="Disable a person's account")
async def disable_user(user_id: uuid.UUID, uow: AdminUow) -> UserOut:
    """No new sign-in; the password and any invitation are forgotten; current tokens run out."""
    return user_out(await service.disable_user(uow, user_id))


@router.post("/{user_id}/invite", response_model=UserInvitedOut, summary="Invite a person again")
async def reinvite(user_id: uuid.UUID, uow: AdminUow) -> UserInvitedOut:
    """A new one-time link where the person sets (or resets) their password; earlier links stop working."""
    user, link = await service.reinvite(uow, user_id)
    return user_out(user, link)
