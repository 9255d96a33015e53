"""Use cases of the register: subprocessors with their history, customers with contacts and subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, func, select

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
from services.subprocessor.service import Uow
from shared.events.catalogue.subprocessor import SubprocessorCustomersIdentified
from shared.rules.errors import Unprocessable
from shared.runtime.db import as_json
from shared.runtime.repository import exists_or_conflict, find, get_or_404


def snapshot(sub: Subprocessor) -> dict[str, Any]:
    """The subprocessor's fields as they are now (what a history version keeps)."""
    data: dict[str, Any] = as_json(sub.model_dump(exclude={"tenant_id", "version", "created_at", "updated_at"}))
    return data


def record_version(uow: Uow, sub: Subprocessor, *, reason: str, change_id: uuid.UUID | None, now: datetime) -> None:
    """Append the subprocessor's current state to its history, by the unit's actor."""
    uow.session.add(
        SubprocessorVersion(
            tenant_id=sub.tenant_id,
            subprocessor_id=sub.id,
            version=sub.version,
            reason=reason,
            change_id=change_id,
            actor=uow.actor,
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


async def create_subprocessor(uow: Uow, body: SubprocessorIn) -> Subprocessor:
    """Enter a subprocessor in the register (validating every location's transfer basis)."""
    now = uow.now()
    locations = checked_locations(body.locations, at=now, dpf_certified=body.dpf_certified)
    await exists_or_conflict(
        uow, Subprocessor, f"A subprocessor named {body.name!r} is already in the register.", name=body.name
    )
    sub = Subprocessor(
        tenant_id=uow.tenant_id,
        **body.model_dump(exclude={"locations"}),
        locations=locations,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(sub)
    await uow.session.flush()
    record_version(uow, sub, reason="created", change_id=None, now=now)
    uow.audit("subprocessor.created", "subprocessor", sub.id, {"name": sub.name, "status": sub.status})
    return sub


async def list_subprocessors(uow: Uow, status: str | None = None) -> list[Subprocessor]:
    """The tenant's subprocessors by name, optionally in one status."""
    statement = select(Subprocessor).where(col(Subprocessor.tenant_id) == uow.tenant_id)
    if status:
        statement = statement.where(col(Subprocessor.status) == status)
    return list((await uow.session.exec(statement.order_by(col(Subprocessor.name)))).all())


async def history(uow: Uow, subprocessor_id: uuid.UUID) -> list[SubprocessorVersion]:
    """Every version of a subprocessor's entry, oldest first (404 when not the tenant's)."""
    await get_or_404(uow, Subprocessor, subprocessor_id)
    rows = await uow.session.exec(
        select(SubprocessorVersion)
        .where(col(SubprocessorVersion.subprocessor_id) == subprocessor_id)
        .order_by(col(SubprocessorVersion.version))
    )
    return list(rows.all())


async def _require_active(uow: Uow, ids: Sequence[uuid.UUID]) -> None:
    for subprocessor_id in ids:
        sub = await get_or_404(uow, Subprocessor, subprocessor_id)
        if sub.status != "active":
            raise Unprocessable(
                f"Subprocessor {sub.name} is {sub.status}; only active subprocessors can process a customer's data "
                "(a proposed one is added through a change)."
            )


async def create_customer(uow: Uow, body: CustomerIn) -> CustomerOut:
    """Register a customer, its contacts and the subprocessors it uses; its webhook secret is shown once."""
    now, settings = uow.now(), uow.settings
    url = body.webhook_url and validate_webhook_url(body.webhook_url, allow_http=settings.allows_plain_http_webhooks)
    key = settings.subject_hash_key.get_secret_value().encode()
    refs = [contact_subject_ref(key, contact.email, tenant=uow.tenant_id) for contact in body.contacts]
    await _require_active(uow, body.subprocessor_ids)
    await exists_or_conflict(
        uow, Customer, f"A customer with reference {body.reference!r} already exists.", reference=body.reference
    )
    customer = Customer(
        tenant_id=uow.tenant_id,
        reference=body.reference,
        name=body.name,
        notice_period_days=body.notice_period_days,
        webhook_url=url or None,
        created_at=now,
    )
    uow.session.add(customer)
    await uow.session.flush()
    for contact, ref in zip(body.contacts, refs, strict=True):
        uow.session.add(
            CustomerContact(
                tenant_id=uow.tenant_id,
                customer_id=customer.id,
                email=contact.email.strip(),
                subject_ref=ref,
                role=contact.role,
                locale=contact.locale,
                created_at=now,
            )
        )
    for subprocessor_id in set(body.subprocessor_ids):
        uow.session.add(
            CustomerSubprocessor(
                tenant_id=uow.tenant_id, customer_id=customer.id, subprocessor_id=subprocessor_id, since=now
            )
        )
    uow.audit("customer.created", "customer", customer.id, {"reference": customer.reference, "contact_refs": refs})
    await uow.session.flush()
    out = await customer_view(uow, customer)
    secret = webhook_secret(
        settings.signing_key.get_secret_value().encode(),
        customer.tenant_id,
        customer.id,
        customer.webhook_secret_version,
    )
    return out.model_copy(update={"webhook_secret": secret if customer.webhook_url else None})


async def customer_view(uow: Uow, customer: Customer) -> CustomerOut:
    """The customer with its contacts and subprocessors."""
    contacts = await uow.session.exec(
        select(CustomerContact)
        .where(col(CustomerContact.customer_id) == customer.id)
        .order_by(col(CustomerContact.created_at))
    )
    subs = await uow.session.exec(
        select(CustomerSubprocessor.subprocessor_id).where(col(CustomerSubprocessor.customer_id) == customer.id)
    )
    return CustomerOut(
        **customer.model_dump(include={"id", "reference", "name", "notice_period_days", "webhook_url", "created_at"}),
        contacts=[c.model_dump() for c in contacts.all()],
        subprocessor_ids=sorted(subs.all()),
    )


async def set_customer_subprocessors(uow: Uow, customer: Customer, ids: Sequence[uuid.UUID]) -> None:
    """Replace the list of subprocessors processing a customer's data (only active ones)."""
    await _require_active(uow, ids)
    await uow.session.exec(delete(CustomerSubprocessor).where(col(CustomerSubprocessor.customer_id) == customer.id))
    for subprocessor_id in set(ids):
        uow.session.add(
            CustomerSubprocessor(
                tenant_id=customer.tenant_id,
                customer_id=customer.id,
                subprocessor_id=subprocessor_id,
                since=uow.now(),
            )
        )
    uow.audit(
        "customer.subprocessors_set",
        "customer",
        customer.id,
        {"subprocessor_ids": sorted(str(i) for i in set(ids))},
    )
    await uow.session.flush()


async def customers_of(uow: Uow, subprocessor_id: uuid.UUID) -> list[Customer]:
    """The customers whose data a subprocessor processes."""
    rows = await uow.session.exec(
        select(Customer)
        .join(CustomerSubprocessor, col(CustomerSubprocessor.customer_id) == col(Customer.id))
        .where(col(Customer.tenant_id) == uow.tenant_id, col(CustomerSubprocessor.subprocessor_id) == subprocessor_id)
        .order_by(col(Customer.reference))
    )
    return list(rows.all())


async def find_subprocessor(uow: Uow, key: str) -> Subprocessor | None:
    """A subprocessor of the tenant named by its id or, failing that, by its name (case-insensitive)."""
    try:
        subprocessor_id = uuid.UUID(key)
    except ValueError:
        rows = await uow.session.exec(
            select(Subprocessor).where(
                col(Subprocessor.tenant_id) == uow.tenant_id, func.lower(Subprocessor.name) == key.strip().lower()
            )
        )
        return rows.first()
    return await find(uow, Subprocessor, subprocessor_id)


async def identify_customers(uow: Uow, request_id: uuid.UUID, subprocessor_key: str) -> None:
    """Answer which customers' data a subprocessor processes (an unknown subprocessor has none)."""
    sub = await find_subprocessor(uow, subprocessor_key)
    customers = await customers_of(uow, sub.id) if sub else []
    await uow.stage(
        SubprocessorCustomersIdentified(
            request_id=request_id,
            subprocessor_id=subprocessor_key,
            customer_ids=[c.reference for c in customers],
        ),
        subject=subprocessor_key,
    )
