"""A receipt for the person: mailed through the notify service, and readable at a link only they hold.

A decision recorded with ``receipt_to`` stages a ``NotificationRequested`` (template
``consent.receipt``; the address never travels on the bus) and keeps the address sealed, with the
link's key, only until the notify service reports the mail delivered or given up, or its claim window
closes (``purge_addresses``). The link's key is kept as a keyed hash: the link in the mail is the
only way to read the receipt without a token, and a wrong key looks like no receipt at all.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import structlog
from sqlmodel import col, select

from services.consent.models import ConsentReceipt, ConsentRecord
from services.consent.schemas.receipts import ReceiptClaimOut
from services.consent.service import Job, Uow
from services.consent.service.contacts import locale_of
from services.consent.service.history import get_record
from services.consent.service.receipts import claims_of, signed_receipt
from shared.bus.notifications import Outcome
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Gone, NotFound
from shared.rules.sealing import data_key, keyed_hash, same_hash, seal, unseal
from shared.runtime.db import new_id
from shared.runtime.jobs import claim
from shared.runtime.repository import find, find_by, get_or_404_by

log = structlog.get_logger("privops.consent.receipts")

TEMPLATE = "consent.receipt"
LINK_PURPOSE = "consent-receipt-link"
SEAL_CONTEXT = b"privops.consent.receipt-mail"
PURGE_BATCH = 500
PURGE_ACTOR = "job:consent.receipt-addresses"
# Outcomes only move forward; delivered and failed are final (a bounce may still follow a delivery).
_RANK = {"requested": 0, "sent": 1, "delivered": 2, "failed": 2}


def _key(uow: Uow) -> bytes:
    return data_key(uow.settings.data_secret(), "consent")


def _link_hash(uow: Uow, key: str) -> str:
    return keyed_hash(uow.settings.signing_key.get_secret_value(), LINK_PURPOSE, key)


def public_link(uow: Uow, receipt_id: uuid.UUID, key: str) -> str:
    """The token-free address of a receipt, for the person it is about."""
    return uow.url(f"/v1/public/{uow.tenant_id}/receipts/{receipt_id}?key={key}")


async def request_receipt(uow: Uow, record: ConsentRecord, to: str) -> ConsentReceipt:
    """Ask the notify service to mail the receipt of ``record`` to ``to``; it is signed when notify claims it."""
    now = uow.now()
    key = secrets.token_urlsafe(32)
    receipt = ConsentReceipt(
        tenant_id=uow.tenant_id,
        record_id=record.id,
        key_hash=_link_hash(uow, key),
        notification_id=new_id(),
        locale=locale_of(record.proof.get("language")),
        recipient_enc=seal(_key(uow), {"to": to, "key": key}, context=SEAL_CONTEXT),
        claim_expires_at=now + timedelta(hours=uow.settings.receipt_claim_ttl_hours),
        delivery="requested",
        created_at=now,
    )
    uow.session.add(receipt)
    assert receipt.notification_id is not None
    await uow.stage(
        NotificationRequested(
            notification_id=receipt.notification_id,
            channel="email",
            template=TEMPLATE,
            recipient_ref=record.subject_ref,
            claim_url=uow.url(f"/v1/notifications/{receipt.notification_id}/claim"),
            locale=receipt.locale,  # None: notify uses the tenant's default language
        ),
        subject=record.subject_ref,
    )
    detail = {"record_id": str(record.id), "notification": str(receipt.notification_id)}
    uow.audit("receipt.mail_requested", "consent_receipt", receipt.id, detail)
    return receipt


async def claim_mail(uow: Uow, notification_id: uuid.UUID) -> ReceiptClaimOut:
    """The address, language and values of a receipt's mail, for the notify service; 410 once the address is gone."""
    receipt = await get_or_404_by(uow, ConsentReceipt, label="notification", notification_id=notification_id)
    expired = receipt.claim_expires_at is not None and receipt.claim_expires_at <= uow.now()
    if receipt.recipient_enc is None or expired:
        raise Gone(f"Notification {notification_id} is no longer deliverable: its address was erased.")
    sealed: dict[str, Any] = unseal(_key(uow), receipt.recipient_enc, context=SEAL_CONTEXT)
    record = await get_record(uow, receipt.record_id)
    receipt = await signed_receipt(uow, record)
    claims = claims_of(receipt.jws or "")
    event = claims["events"][0]
    uow.audit("receipt.claimed", "consent_receipt", receipt.id, {"notification": str(notification_id)})
    return ReceiptClaimOut(
        notification_id=notification_id,
        channel="email",
        template=TEMPLATE,
        locale=receipt.locale,
        to=sealed["to"],
        context={
            "receipt_id": claims["receipt_id"],
            "url": public_link(uow, receipt.id, sealed["key"]),
            "purpose": claims["purposes"][0]["purpose"],
            "controller": claims["parties"][0]["party_name"],
            "decision": record.decision,
            "decided_at": event["event_time"],
        },
    )


async def record_outcome(uow: Uow, outcome: Outcome) -> None:
    """What the notify service reports of a receipt's mail; delivered or given up, the address is purged."""
    receipt = await find_by(uow, ConsentReceipt, lock=True, notification_id=outcome.notification_id)
    if receipt is None:
        return  # the receipt was erased with its record (a DSAR erasure) while the mail travelled
    before = receipt.delivery or "requested"
    if _RANK[outcome.kind] < _RANK[before] or outcome.kind == before:
        return
    receipt.delivery = outcome.kind
    receipt.delivery_reason = outcome.reason
    if outcome.kind in ("delivered", "failed"):
        receipt.recipient_enc = None  # notify claims no more: the address need not be kept
    uow.session.add(receipt)
    detail = {"notification": str(outcome.notification_id), "attempts": outcome.attempts}
    uow.audit(f"receipt.mail_{outcome.kind}", "consent_receipt", receipt.id, detail)
    log.info("consent.receipt.mail_outcome", receipt_id=str(receipt.id), state=outcome.kind)


async def public_receipt(link: Uow, tenant: str, receipt_id: uuid.UUID, key: str | None) -> tuple[Uow, ConsentReceipt]:
    """The signed receipt behind a person's link (the key is the credential); 404 for a wrong or missing key."""
    uow = link.for_tenant(tenant)
    receipt = await find(uow, ConsentReceipt, receipt_id)
    if receipt is None or key is None or not same_hash(receipt.key_hash, _link_hash(uow, key)):
        raise NotFound("No such receipt, or the link is wrong.")
    receipt = await signed_receipt(uow, await get_record(uow, receipt.record_id))
    uow.audit("receipt.read_by_link", "consent_receipt", receipt.id)
    return uow, receipt


async def purge_addresses(ctx: Job) -> int:
    """Drop the addresses of mails whose claim window closed unclaimed or unanswered (several replicas are safe)."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        statement = select(ConsentReceipt).where(
            col(ConsentReceipt.recipient_enc).is_not(None), col(ConsentReceipt.claim_expires_at) <= now
        )
        due = await claim(session, statement.order_by(col(ConsentReceipt.claim_expires_at)), limit=PURGE_BATCH)
        for receipt in due:
            receipt.recipient_enc = None
            session.add(receipt)
            uow = ctx.unit_of_work(session, receipt.tenant_id, PURGE_ACTOR)
            uow.audit("receipt.address_purged", "consent_receipt", receipt.id, {"delivery": receipt.delivery})
        return len(due)
