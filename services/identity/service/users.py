"""People's accounts: roles given without widening, passwords set by the administrator or by invitation."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from services.identity.domain.errors import InvalidUser
from services.identity.domain.logins import check_password, digest
from services.identity.models import UserAccount
from services.identity.schemas import UserIn, UserPatch
from services.identity.service import Uow
from services.identity.service.clients import acting_for, is_platform_admin
from services.identity.service.passwords import hasher
from shared.rules import subjects
from shared.rules.errors import Conflict, Forbidden, NotFound
from shared.rules.roles import scopes_for
from shared.rules.scopes import beyond


def email_ref(uow: Uow, email: str, tenant: str | None = None) -> str:
    """The subject reference of an address in ``tenant`` (default the unit's): the one every service computes."""
    key = uow.settings.subject_hash_key.get_secret_value().encode()
    return subjects.subject_ref(key, subjects.IdentifierKind.EMAIL, email, tenant=tenant or uow.tenant_id)


def normalised(email: str) -> str:
    """The normal form of an address (422 naming the field, never the value)."""
    try:
        return subjects.normalise_email(email)
    except subjects.InvalidIdentifier:
        raise InvalidUser("the email is not an address such as dpo@example.com", "email") from None


def _check_roles(uow: Uow, roles: list[str]) -> list[str]:
    """The roles, when the caller may hand out every scope they give (no widening)."""
    assert uow.principal is not None
    wider = beyond(uow.principal.scopes, scopes_for(roles))
    if wider:
        raise Forbidden(f"These roles give scopes the caller does not hold: {', '.join(wider)}.")
    return sorted(set(roles))


async def _set_password(uow: Uow, user: UserAccount, password: str) -> None:
    user.password_hash = await hasher(uow.settings).hash(check_password(password, user.email))
    user.invite_hash = user.invite_expires_at = None


def _invite(uow: Uow, user: UserAccount) -> str:
    """A new one-time invitation for ``user``; returns its link (the previous one stops working)."""
    token = secrets.token_urlsafe(32)
    user.invite_hash = digest(token)
    user.invite_expires_at = uow.now() + timedelta(seconds=uow.settings.invite_ttl_s)
    return f"{uow.settings.issuer}/invite?token={token}"


async def create_user(uow: Uow, body: UserIn) -> tuple[UserAccount, str | None]:
    """A person of the caller's tenant; returns the account and, without a password, an invitation link."""
    target = acting_for(uow, body.tenant)
    email = normalised(body.email)
    now = uow.now()
    user = UserAccount(
        tenant_id=target.tenant_id,
        email=email,
        email_ref=email_ref(uow, email, target.tenant_id),
        name=body.name,
        roles=_check_roles(uow, list(body.roles)),
        created_by=uow.actor,
        created_at=now,
        updated_at=now,
    )
    existing = select(UserAccount.id).where(
        col(UserAccount.tenant_id) == user.tenant_id, col(UserAccount.email) == email
    )
    if (await uow.session.exec(existing)).first() is not None:
        raise Conflict("An account with this email exists in the tenant.")
    link = None
    if body.password is not None:
        await _set_password(uow, user, body.password.get_secret_value())
    else:
        link = _invite(uow, user)
    uow.session.add(user)
    target.audit("user.created", "user", user.id, {"roles": user.roles, "invited": link is not None})
    try:
        await uow.session.flush()
    except IntegrityError:  # created by a concurrent request since the check above
        raise Conflict("An account with this email exists in the tenant.") from None
    return user, link


async def list_users(uow: Uow, tenant: str | None) -> list[UserAccount]:
    """The people of the caller's tenant (or of ``tenant``, for the platform operator)."""
    target = acting_for(uow, tenant)
    statement = select(UserAccount).where(col(UserAccount.tenant_id) == target.tenant_id)
    return list((await uow.session.exec(statement.order_by(col(UserAccount.email)))).all())


async def get_user(uow: Uow, user_id: uuid.UUID, *, lock: bool = False) -> UserAccount:
    """A person of the caller's tenant (the platform operator sees every one); 404 otherwise."""
    user = await uow.session.get(UserAccount, user_id, with_for_update=lock or None)
    if user is None or (user.tenant_id != uow.tenant_id and not is_platform_admin(uow)):
        raise NotFound(f"No user {user_id} for this tenant.")
    return user


async def update_user(uow: Uow, user_id: uuid.UUID, body: UserPatch) -> UserAccount:
    """Change a person's name, roles or password, or enable or disable the account."""
    user = await get_user(uow, user_id, lock=True)
    changed = sorted(body.model_dump(exclude_none=True, exclude={"password"}))
    if body.name is not None:
        user.name = body.name
    if body.roles is not None:
        user.roles = _check_roles(uow, list(body.roles))
    if body.password is not None:
        await _set_password(uow, user, body.password.get_secret_value())
        changed.append("password")
    if body.disabled is not None:
        user.disabled_at = (user.disabled_at or uow.now()) if body.disabled else None
    user.updated_at = uow.now()
    uow.session.add(user)
    uow.for_tenant(user.tenant_id).audit("user.updated", "user", user.id, {"changed": changed, "roles": user.roles})
    await uow.session.flush()
    return user


async def disable_user(uow: Uow, user_id: uuid.UUID) -> UserAccount:
    """Disable the account: no new sign-in, its password and invitation forgotten; its tokens run out."""
    user = await get_user(uow, user_id, lock=True)
    user.disabled_at = user.disabled_at or uow.now()
    user.password_hash = user.invite_hash = user.invite_expires_at = None
    user.updated_at = uow.now()
    uow.session.add(user)
    uow.for_tenant(user.tenant_id).audit("user.disabled", "user", user.id)
    await uow.session.flush()
    return user


async def reinvite(uow: Uow, user_id: uuid.UUID) -> tuple[UserAccount, str]:
    """A new invitation link for the person (to set or reset their password)."""
    user = await get_user(uow, user_id, lock=True)
    if user.disabled_at is not None:
        raise Conflict("The account is disabled: enable it first.")
    link = _invite(uow, user)
    user.updated_at = uow.now()
    uow.session.add(user)
    uow.for_tenant(user.tenant_id).audit("user.invited", "user", user.id)
    await uow.session.flush()
    return user, link


async def invited(public: Uow, token: str) -> UserAccount | None:
    """The account an invitation token opens, if it is current."""
    statement = select(UserAccount).where(col(UserAccount.invite_hash) == digest(token))
    user = (await public.session.exec(statement.with_for_update())).first()
    if user is None or user.disabled_at is not None or not user.invite_expires_at:
        return None
    return user if user.invite_expires_at > public.now() else None


async def accept_invite(public: Uow, token: str, password: str) -> bool:
    """Set the password of the account the invitation opens (then the link is spent); False when it is not current."""
    user = await invited(public, token)
    if user is None:
        return False
    await _set_password(public, user, password)
    user.updated_at = public.now()
    public.session.add(user)
    public.for_tenant(user.tenant_id, f"user:{user.email}").audit("user.password_set", "user", user.id)
    await public.session.flush()
    return True
