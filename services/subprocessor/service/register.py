"""Use cases of the register: subprocessors with their history, customers with contacts and subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.domain.keys import contact_subject_ref, webhook_secret
from services.subprocessor.domain.notices import validate_locations, validate_webhook_url
from services.subprocessor.models import (
    Customer,
    CustomerContact,
    CustomerSubprocessor,
    Subprocessor,
    SubprocessorVersion,
)
from services.subprocessor.schemas import CustomerIn, CustomerOut, LocationIn, SubprocessorIn
from services.subprocessor.settings import SubprocessorSettings
from shared.rules.clock import Clock
from shared.rules.errors import Conflict, NotFound, Unprocessable
from shared.runtime import audit
from shared.runtime.auth import Principal
from shared.runtime.db import as_json


def snapshot(sub: Subprocessor) -> dict[str, Any]:
    """The subprocessor's fields as they are now (what a history version keeps)."""
    data: dict[str, Any] = as_json(sub.model_dump(exclude={"tenant_id", "version", "created_at", "updated_at"}))
    return data


def record_version(
    session: AsyncSession, sub: Subprocessor, *, reason: str, actor: str, now: datetime, change_id: uuid.UUID | None
) -> None:
    """Append the subprocessor's current state to its history."""
    session.add(
        SubprocessorVersion(
            tenant_id=sub.tenant_id,
            subprocessor_id=sub.id,
            version=sub.version,
            reason=reason,
            change_id=change_id,
            actor=actor,
            snapshot=snapshot(sub),
            recorded_at=now,
        )
    )


def checked_locations(locations: Sequence[LocationIn], *, at: datetime, dpf_certified: bool) -> list[dict[str, Any]]:
    """The locations, each with a valid transfer basis outside the EEA (else a domain problem)."""
    return validate_locations(
        ((loc.country, loc.mechanism.value if loc.mechanism else None) for loc in locations),
        at=at,
        dpf_certified=dpf_certified,
    )


async def create_subprocessor(
    session: AsyncSession, body: SubprocessorIn, principal: Principal, clock: Clock
) -> Subprocessor:
    """Enter a subprocessor in the register (validating every location's transfer basis)."""
    now = clock.now()
    locations = checked_locations(body.locations, at=now, dpf_certified=body.dpf_certified)
    existing = await session.exec(
        select(Subprocessor).where(
            col(Subprocessor.tenant_id) == principal.tenant_id, col(Subprocessor.name) == body.name
        )
    )
    if existing.first() is not None:
        raise Conflict(f"A subprocessor named {body.name!r} is already in the register.")
    sub = Subprocessor(
        tenant_id=principal.tenant_id,
        **body.model_dump(exclude={"locations"}),
        locations=locations,
        created_at=now,
        updated_at=now,
    )
    session.add(sub)
    await session.flush()
    record_version(session, sub, reason="created", actor=principal.subject, now=now, change_id=None)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="subprocessor.created",
        entity_type="subprocessor",
        entity_id=sub.id,
        clock=clock,
        detail={"name": sub.name, "status": sub.status},
    )
    return sub


async def get_subprocessor(session: AsyncSession, tenant_id: str, subprocessor_id: uuid.UUID) -> Subprocessor:
    """A subprocessor of the tenant, or 404."""
    sub = await session.get(Subprocessor, subprocessor_id)
    if sub is None or sub.tenant_id != tenant_id:
        raise NotFound(f"No subprocessor {subprocessor_id}.")
    return sub


async def list_subprocessors(session: AsyncSession, tenant_id: str, status: str | None = None) -> list[Subprocessor]:
    """The tenant's subprocessors by name, optionally in one status."""
    statement = select(Subprocessor).where(col(Subprocessor.tenant_id) == tenant_id)
    if status:
        statement = statement.where(col(Subprocessor.status) == status)
    return list((await session.exec(statement.order_by(col(Subprocessor.name)))).all())


async def history(session: AsyncSession, tenant_id: str, subprocessor_id: uuid.UUID) -> list[SubprocessorVersion]:
    """Every version of a subprocessor's entry, oldest first."""
    await get_subprocessor(session, tenant_id, subprocessor_id)
    rows = await session.exec(
        select(SubprocessorVersion)
        .where(col(SubprocessorVersion.subprocessor_id) == subprocessor_id)
        .order_by(col(SubprocessorVersion.version))
    )
    return list(rows.all())


async def _require_active(session: AsyncSession, tenant_id: str, ids: Sequence[uuid.UUID]) -> None:
    for subprocessor_id in ids:
        sub = await get_subprocessor(session, tenant_id, subprocessor_id)
        if sub.status != "active":
            raise Unprocessable(
                f"Subprocessor {sub.name} is {sub.status}; only active subprocessors can process a customer's data "
                "(a proposed one is added through a change)."
            )


async def create_customer(
    session: AsyncSession, body: CustomerIn, principal: Principal, clock: Clock, settings: SubprocessorSettings
) -> CustomerOut:
    """Register a customer, its contacts and the subprocessors it uses; its webhook secret is shown once."""
    now = clock.now()
    url = body.webhook_url and validate_webhook_url(body.webhook_url, allow_http=settings.allows_plain_http_webhooks)
    key = settings.subject_hash_key.get_secret_value().encode()
    refs = [contact_subject_ref(key, contact.email) for contact in body.contacts]
    await _require_active(session, principal.tenant_id, body.subprocessor_ids)
    clash = await session.exec(
        select(Customer).where(
            col(Customer.tenant_id) == principal.tenant_id, col(Customer.reference) == body.reference
        )
    )
    if clash.first() is not None:
        raise Conflict(f"A customer with reference {body.reference!r} already exists.")
    customer = Customer(
        tenant_id=principal.tenant_id,
        reference=body.reference,
        name=body.name,
        notice_period_days=body.notice_period_days,
        webhook_url=url or None,
        created_at=now,
    )
    session.add(customer)
    await session.flush()
    for contact, ref in zip(body.contacts, refs, strict=True):
        session.add(
            CustomerContact(
                tenant_id=principal.tenant_id,
                customer_id=customer.id,
                email=contact.email.strip(),
                subject_ref=ref,
                role=contact.role,
                created_at=now,
            )
        )
    for subprocessor_id in set(body.subprocessor_ids):
        session.add(
            CustomerSubprocessor(
                tenant_id=principal.tenant_id, customer_id=customer.id, subprocessor_id=subprocessor_id, since=now
            )
        )
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="customer.created",
        entity_type="customer",
        entity_id=customer.id,
        clock=clock,
        detail={"reference": customer.reference, "contact_refs": refs},
    )
    await session.flush()
    out = await customer_view(session, customer)
    secret = webhook_secret(
        settings.signing_key.get_secret_value().encode(),
        customer.tenant_id,
        customer.id,
        customer.webhook_secret_version,
    )
    return out.model_copy(update={"webhook_secret": secret if customer.webhook_url else None})


async def get_customer(session: AsyncSession, tenant_id: str, customer_id: uuid.UUID) -> Customer:
    """A customer of the tenant, or 404."""
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound(f"No customer {customer_id}.")
    return customer


async def customer_view(session: AsyncSession, customer: Customer) -> CustomerOut:
    """The customer with its contacts and subprocessors."""
    contacts = await session.exec(
        select(CustomerContact)
        .where(col(CustomerContact.customer_id) == customer.id)
        .order_by(col(CustomerContact.created_at))
    )
    subs = await session.exec(
        select(CustomerSubprocessor.subprocessor_id).where(col(CustomerSubprocessor.customer_id) == customer.id)
    )
    return CustomerOut(
        **customer.model_dump(include={"id", "reference", "name", "notice_period_days", "webhook_url", "created_at"}),
        contacts=[c.model_dump() for c in contacts.all()],
        subprocessor_ids=sorted(subs.all()),
    )


async def set_customer_subprocessors(
    session: AsyncSession, customer: Customer, ids: Sequence[uuid.UUID], principal: Principal, clock: Clock
) -> None:
    """Replace the list of subprocessors processing a customer's data (only active ones)."""
    await _require_active(session, principal.tenant_id, ids)
    await session.exec(delete(CustomerSubprocessor).where(col(CustomerSubprocessor.customer_id) == customer.id))
    for subprocessor_id in set(ids):
        session.add(
            CustomerSubprocessor(
                tenant_id=customer.tenant_id,
                customer_id=customer.id,
                subprocessor_id=subprocessor_id,
                since=clock.now(),
            )
        )
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="customer.subprocessors_set",
        entity_type="customer",
        entity_id=customer.id,
        clock=clock,
        detail={"subprocessor_ids": sorted(str(i) for i in set(ids))},
    )
    await session.flush()


async def customers_of(session: AsyncSession, tenant_id: str, subprocessor_id: uuid.UUID) -> list[Customer]:
    """The customers whose data a subprocessor processes."""
    rows = await session.exec(
        select(Customer)
        .join(CustomerSubprocessor, col(CustomerSubprocessor.customer_id) == col(Customer.id))
        .where(col(Customer.tenant_id) == tenant_id, col(CustomerSubprocessor.subprocessor_id) == subprocessor_id)
        .order_by(col(Customer.reference))
    )
    return list(rows.all())
