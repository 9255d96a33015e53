"""Fixture factories: one object of each kind for a tenant, created through each service's API.

Each factory returns the ids of what it made, keyed by the path parameter names the routes use, so
the isolation matrix can address tenant A's real objects. A route whose path parameter has no entry
here fails the matrix: add the object to its service's factory when you add such a route.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from tests.hardening.support import ALL_SCOPES, START, bearer
from tests.support.stack import RunningService

Factory = Callable[[RunningService, str], Awaitable[dict[str, str]]]
# The token subject every matrix call uses: DSAR task routes only answer a token naming a data system.
SUBJECT = "system:crm"
# Raw identifiers the factories send (the no-personal-data suite looks for them on the bus and in logs).
EMAIL, PHONE, NAME, USER_ID = "Ada.Lovelace@Example.com", "+44 20 7946 0958", "Ada Lovelace", "u-ada-1815"


async def call(svc: RunningService, tenant: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    """Call ``svc`` as ``tenant``'s administrator; assert a 2xx and return the JSON answer."""
    headers = bearer(tenant, *ALL_SCOPES, subject=SUBJECT) | kw.pop("headers", {})
    response = await svc.client.request(method, path, json=body, headers=headers, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


async def consent(svc: RunningService, tenant: str) -> dict[str, str]:
    """A purpose with notice versions (a material change told), a consent record, a receipt mailed, an import."""
    await call(
        svc,
        tenant,
        "POST",
        "/v1/purposes",
        {"key": "newsletter", "name": "Newsletter", "lawful_basis": "consent", "validity": "P3Y"},
    )
    await call(svc, tenant, "POST", "/v1/purposes/newsletter/notices", {"text": "We send a monthly newsletter."})
    record = await call(
        svc,
        tenant,
        "POST",
        "/v1/consents",
        {"subject": {"kind": "email", "value": EMAIL}, "purpose": "newsletter", "decision": "granted"},
    )
    controller = {"name": "Acme", "contact": "DPO", "address": "1 rue de la Paix, Paris", "email": "dpo@acme.example"}
    await call(
        svc, tenant, "PUT", "/v1/controller", controller | {"phone": "+33 1 00", "policy_url": "https://a.example"}
    )
    # A receipt mailed to the person: its mail's claim (notify:claim) and its public link.
    mailed = await call(
        svc,
        tenant,
        "POST",
        "/v1/consents",
        {"subject": {"kind": "email", "value": EMAIL}, "purpose": "newsletter", "decision": "withdrawn"}
        | {"receipt_to": EMAIL},
    )
    job = await call(svc, tenant, "POST", "/v1/imports", {"format": "ndjson"})
    await call(
        svc,
        tenant,
        "POST",
        f"/v1/imports/{job['id']}/rows",
        params={"offset": 0},
        content=b'{"subject_kind": "phone", "subject": "' + PHONE.encode() + b'", "purpose": "nope"}\n',
        headers={"Content-Type": "application/x-ndjson"},
    )
    # A material change told to a person who gave an address: its campaign and its message's claim.
    # (Another subject: at one instant the withdrawal above outranks a grant of the same person.)
    granted = {"subject": {"kind": "user_id", "value": USER_ID}, "purpose": "newsletter", "decision": "granted"}
    await call(svc, tenant, "POST", "/v1/consents", granted | {"contact_email": EMAIL})
    changed = await call(
        svc, tenant, "POST", "/v1/purposes/newsletter/notices", {"text": "Now weekly.", "material": True}
    )
    from services.consent.models import ConsentReceipt, NoticeRecipient

    async with svc.runtime.database.session() as session:
        receipt = (
            await session.exec(select(ConsentReceipt).where(col(ConsentReceipt.id) == mailed["receipt_id"]))
        ).one()
        message = (
            await session.exec(select(NoticeRecipient.notification_id).where(col(NoticeRecipient.tenant_id) == tenant))
        ).one()
    return {
        "key": "newsletter",
        "version": str(changed["version"]),
        "message_id": str(message),
        "consent_id": record["id"],
        "import_id": job["id"],
        "notification_id": str(receipt.notification_id),
        "receipt_id": str(receipt.id),
        "tenant": tenant,
    }


async def dsar(svc: RunningService, tenant: str) -> dict[str, str]:
    """A completed erasure with its certificate, a system with an open task, a mailed verification code."""
    from services.dsar.models import Notification

    identifiers = [{"kind": "email", "value": EMAIL}, {"kind": "user_id", "value": USER_ID}]
    body = {"type": "erasure", "jurisdiction": "eu-gdpr", "identifiers": identifiers, "verification": "manual"}
    done = await call(svc, tenant, "POST", "/v1/requests", body)
    done = await call(svc, tenant, "POST", f"/v1/requests/{done['id']}/verification/manual", {"evidence_ref": "ID-1"})
    assert done["certificate_id"], done  # no system registered yet: the erasure completes at once
    await call(svc, tenant, "PUT", "/v1/systems/crm", {"name": "CRM", "owner": "ops@example.com", "actions": ["erase"]})
    open_ = await call(svc, tenant, "POST", "/v1/requests", body)
    await call(svc, tenant, "POST", f"/v1/requests/{open_['id']}/verification/manual", {"evidence_ref": "ID-2"})
    (task,) = await call(svc, tenant, "GET", f"/v1/requests/{open_['id']}/tasks")
    await call(svc, tenant, "POST", "/v1/requests", {**body, "type": "access", "verification": "email_code"})
    async with svc.runtime.database.session() as session:  # the id only travels on the bus and in the mail
        notification = (
            await session.exec(select(Notification.id).where(col(Notification.tenant_id) == tenant))
        ).first()
    return {
        "request_id": done["id"],
        "certificate_id": done["certificate_id"],
        "task_id": task["id"],
        "key": "crm",
        "notification_id": str(notification),
        "end_id": await contract_end(svc, tenant),
    }


async def contract_end(svc: RunningService, tenant: str) -> str:
    """A contract end asked for and confirmed (four eyes), then marked completed with its certificate.

    Completed by hand in the database: a real completion would end the tenant, whose tokens every
    service then refuses (the matrix needs them).
    """
    from services.dsar.models import ContractEnd

    body = {
        "mode": "delete",
        "effective_at": "2099-01-01T00:00:00Z",
        "reason": "contract terminated",
        "notify_to": EMAIL,
    }
    end = await call(svc, tenant, "POST", "/v1/contract-ends", body)
    approver = bearer(tenant, *ALL_SCOPES, subject="second-approver")
    await call(svc, tenant, "POST", f"/v1/contract-ends/{end['id']}/confirm", headers=approver)
    async with svc.runtime.database.session() as session:
        row = await session.get(ContractEnd, uuid.UUID(end["id"]))
        assert row is not None
        row.state, row.certificate_id, row.signature = "completed", uuid.uuid4(), "e30.e30.c2ln"
        row.certificate = {"outcome": "complete", "deleted": []}
        session.add(row)
    return str(end["id"])


async def retention(svc: RunningService, tenant: str) -> dict[str, str]:
    """A policy, a legal hold, a registered system and the sweep it ran."""
    policy = await call(
        svc,
        tenant,
        "POST",
        "/v1/policies",
        {
            "category": "prospect",
            "period": "P3Y",
            "clock_start": "last_contact",
            "action": "delete",
            "legal_reference": "CNIL",
        },
    )
    hold = await call(svc, tenant, "POST", "/v1/holds", {"subject_ref": "a" * 64, "reason": "Litigation"})
    await call(svc, tenant, "PUT", "/v1/systems/crm", {"categories": ["prospect"]})
    sweeps = await call(svc, tenant, "POST", "/v1/sweeps/run", {})
    return {"policy_id": policy["policy_id"], "hold_id": hold["id"], "system": "crm", "sweep_id": sweeps[0]["id"]}


async def breach(svc: RunningService, tenant: str) -> dict[str, str]:
    """An incident with a sent authority notice and its delivery; a processor's notice to individuals to approve."""
    from tests.integration.breach.support import INCIDENT, SETTINGS

    await call(svc, tenant, "PUT", "/v1/settings", SETTINGS)  # a notice names the tenant's contact point
    incident = await call(svc, tenant, "POST", "/v1/incidents", INCIDENT)
    notice = await call(
        svc,
        tenant,
        "POST",
        f"/v1/incidents/{incident['id']}/notices",
        {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Logs pending."}},
    )
    sent = await call(svc, tenant, "POST", f"/v1/notices/{notice['id']}/send", {})
    # As processor, the notice to individuals waits for the customer's approval, asked for by mail.
    processor = INCIDENT | {"role": "processor", "customers": ["cust-1"]}
    theirs = await call(svc, tenant, "POST", "/v1/incidents", processor)
    people = await call(svc, tenant, "POST", f"/v1/incidents/{theirs['id']}/notices", {"kind": "individuals"})
    approval = await call(svc, tenant, "POST", f"/v1/notices/{people['id']}/approval-request", None)
    return {
        "incident_id": incident["id"],
        "notice_id": notice["id"],
        "delivery_id": sent["deliveries"][0]["id"],
        "approval_id": approval["id"],
    }


async def subprocessor(svc: RunningService, tenant: str) -> dict[str, str]:
    """Two subprocessors, a customer, a proposed change with its notice and email, an objection, an authority's
    demand (its customer emailed)."""
    from services.subprocessor.models import NoticeLogEntry

    def entry(name: str, status: str) -> dict[str, Any]:
        return {
            "name": name,
            "legal_entity": f"{name} Ltd",
            "service": "Transactional email",
            "purposes": ["transactional_email"],
            "data_categories": ["contact_details"],
            "locations": [{"country": "IE"}],
            "status": status,
        }

    old = await call(svc, tenant, "POST", "/v1/subprocessors", entry("PostBox", "active"))
    new = await call(svc, tenant, "POST", "/v1/subprocessors", entry("MailRelay", "proposed"))
    customer = await call(
        svc,
        tenant,
        "POST",
        "/v1/customers",
        {
            "reference": "initech",
            "name": NAME,
            "notice_period_days": 15,
            "contacts": [{"email": EMAIL, "role": "dpo"}],
            "subprocessor_ids": [old["id"]],
        },
    )
    change = await call(
        svc,
        tenant,
        "POST",
        "/v1/changes",
        {
            "kind": "add",
            "subprocessor_id": new["id"],
            "summary": "MailRelay sends our transactional email.",
            "effective_at": (START + timedelta(days=31)).isoformat(),
        },
    )
    objection = await call(
        svc,
        tenant,
        "POST",
        f"/v1/changes/{change['id']}/objections",
        {"customer_id": customer["id"], "reason": "No new vendors."},
    )
    demand = await call(
        svc,
        tenant,
        "POST",
        "/v1/demands",
        {
            "authority": {"name": "Brigade de répression de la délinquance astucieuse", "country": "FR"},
            "legal_basis": {"text": "Réquisition judiciaire", "reference": "CPP art. 60-1"},
            "authority_reference": "BRDA-2026-0412",
            "received_at": START.isoformat(),
            "customer_id": customer["id"],
            "subjects": [{"kind": "email", "value": EMAIL}, {"kind": "user_id", "value": USER_ID}],
            "data_categories": ["contact_details"],
        },
    )
    async with svc.runtime.database.session() as session:  # the id only travels on the bus
        notification = (
            await session.exec(
                select(NoticeLogEntry.notification_id).where(
                    col(NoticeLogEntry.tenant_id) == tenant, col(NoticeLogEntry.notification_id).is_not(None)
                )
            )
        ).first()
    return {
        "subprocessor_id": old["id"],
        "customer_id": customer["id"],
        "change_id": change["id"],
        "notice_id": change["notices"][0]["id"],
        "objection_id": objection["id"],
        "notification_id": str(notification),
        "demand_id": demand["id"],
    }


async def notify(svc: RunningService, tenant: str) -> dict[str, str]:
    """A profile with alert targets and a rotated secret, a French override, and a requested message from dsar."""
    import uuid

    from services.notify.service.messages import queue_requested
    from shared.events.catalogue.notifications import NotificationRequested
    from shared.runtime.uow import UnitOfWork

    profile = {"default_locale": "fr", "alert_emails": [EMAIL], "alert_webhook_url": "https://hooks.example.test/a"}
    await call(svc, tenant, "PUT", "/v1/profile", profile | {"sender_name": NAME})
    await call(svc, tenant, "POST", "/v1/profile/webhook-secret/rotate")
    source = "Subject: Demande terminée\nVotre demande {{ request_id }} est terminée.\n"
    await call(svc, tenant, "PUT", "/v1/templates/fr/dsar.completed.txt", {"source": source})
    notification_id = uuid.uuid4()
    event = NotificationRequested(
        notification_id=notification_id,
        channel="email",
        template="dsar.completed",
        recipient_ref="a" * 64,
        claim_url="http://127.0.0.1:9/v1/notifications/claim",  # nothing listens: delivery is not part of this
    )
    async with svc.runtime.database.session() as session:  # messages arrive from the bus, not through the API
        await queue_requested(UnitOfWork(session, svc.settings, svc.clock, tenant, "factory"), event, "dsar")
    ids = {"message_id": str(notification_id), "locale": "fr", "file": "dsar.completed.txt"}
    return ids | {"key": "dsar.verification_code"}  # the preview's documented example fits this key


async def identity(svc: RunningService, tenant: str) -> dict[str, str]:
    """Clients (one with a rotated secret, a store), a signed document, a rotated document key, two people."""
    backend = {"client_id": f"{tenant}-shop", "name": "Shop", "kind": "backend", "scopes": ["consent:write"]}
    await call(svc, tenant, "POST", "/v1/clients", backend)
    await call(svc, tenant, "POST", f"/v1/clients/{tenant}-shop/secret")
    store = {"client_id": f"{tenant}-crm", "name": "CRM", "kind": "store", "scopes": ["dsar:task"], "system": "crm"}
    await call(svc, tenant, "POST", "/v1/clients", store)
    await call(svc, tenant, "POST", "/v1/signatures", {"typ": "consent-receipt+jwt", "claims": {"sub": "r-1"}})
    await call(svc, tenant, "POST", "/v1/keys/documents/rotate")
    person = {"email": EMAIL, "name": NAME, "roles": ["auditor"], "password": "correct horse battery staple"}
    user = await call(svc, tenant, "POST", "/v1/users", person)
    await call(svc, tenant, "PATCH", f"/v1/users/{user['id']}", {"roles": ["dpo"]})
    invited = await call(svc, tenant, "POST", "/v1/users", {"email": "b@example.com", "name": "B", "roles": ["dpo"]})
    await call(svc, tenant, "POST", f"/v1/users/{invited['id']}/invite")
    return {"client_id": f"{tenant}-shop", "tenant": tenant, "user_id": user["id"]}


FACTORIES: dict[str, Factory] = {
    "consent": consent,
    "dsar": dsar,
    "retention": retention,
    "breach": breach,
    "subprocessor": subprocessor,
    "notify": notify,
    "identity": identity,
}


async def dead_letter(svc: RunningService, tenant: str) -> dict[str, str]:
    """A dead letter of the tenant in one of the service's consumer groups (every service's admin API has them)."""
    import uuid

    from aiokafka import ConsumerRecord

    from shared.bus.dead_letters import dead_letter_row
    from shared.bus.outbox import build_envelope
    from shared.events.catalogue.consent import ConsentWithdrawn

    event = ConsentWithdrawn(
        consent_id=uuid.uuid4(), subject_ref="ref-dead", purpose="newsletter", decision="withdrawn", occurred_at=START
    )
    envelope = build_envelope(event, source="/privops/consent", tenant_id=tenant, subject="ref-dead", now=START)
    value = envelope.data_bytes()
    record = ConsumerRecord(event.topic, 0, 0, 0, 0, None, value, None, 0, len(value), envelope.to_kafka_headers())
    groups = [runner.group for runner in svc.runtime.consumers] or [f"privops.{svc.name}.none"]
    row = dead_letter_row(record, envelope, groups[0], "handler_rejected", "LookupError: test", attempts=1, now=START)
    async with svc.runtime.database.session() as session:
        session.add(row)
        await session.flush()
        return {"dead_letter_id": str(row.id)}


def _with_dead_letter(factory: Factory) -> Factory:
    """``factory``, plus a dead letter of the tenant (the admin routes every service gets from the factory)."""

    async def make(svc: RunningService, tenant: str) -> dict[str, str]:
        return await factory(svc, tenant) | await dead_letter(svc, tenant)

    return make


FACTORIES = {name: _with_dead_letter(factory) for name, factory in FACTORIES.items()}
