"""Delivery: claim due messages, render them for their tenant, send them, and record what happened.

Each message is claimed alone with ``FOR UPDATE SKIP LOCKED`` in its own transaction and keeps its
row lock while it is sent, so two replicas never send the same message; the attempt, the new state
and the outcome events commit together. A crash after the relay accepted a mail and before the
commit sends it again on the next run, with the same Message-ID, which the receiver recognises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr
from typing import Any

import httpx
import structlog
from sqlmodel import col, select

from services.notify.domain import WEBHOOK_TARGET, DomainError, Link, Message, pick_locale
from services.notify.models import DeliveryAttempt, TenantProfile
from services.notify.models import Message as MessageRow
from services.notify.service import Job, Uow
from services.notify.service.channels import Mail, Outcome, send_email, send_webhook, webhook_body
from services.notify.service.claims import Claim, ClaimFailed, fetch_claim
from services.notify.service.messages import alert_email_ref
from services.notify.service.outcomes import mark_delivered, mark_failed, mark_sent
from services.notify.service.profile import profile_or_default
from services.notify.service.templates import render
from shared.runtime.http import http_client
from shared.runtime.jobs import claim

log = structlog.get_logger("privops.notify.delivery")

DELIVER_ACTOR = "job:notify.deliver"
SETTLE_ACTOR = "job:notify.settle"
DUE_STATES = ("queued", "retrying")


class Undeliverable(Exception):
    """The message cannot be sent, and trying again will not change that."""


@dataclass(frozen=True)
class Ready:
    """A message rendered and addressed, about to leave."""

    channel: str
    rendered: Message
    to: str | None = None
    to_name: str | None = None
    webhook_url: str | None = None
    context: dict[str, Any] | None = None


def alert_link(uow: Uow, row: MessageRow) -> str | None:
    """The absolute link of an alert to its object (portal, else the owning service's API, else none)."""
    path = row.context.get("link_path")
    if not isinstance(path, dict):
        return None
    link = Link(str(path["service"]), str(path["portal"]), str(path["api"]))
    return link.url(uow.settings.portal_url, uow.settings.service_urls)


async def _prepare_alert(uow: Uow, row: MessageRow, profile: TenantProfile) -> Ready:
    context = {k: v for k, v in row.context.items() if k != "link_path"} | {"link": alert_link(uow, row)}
    rendered = await render(uow, row.template, profile.default_locale, context)
    if row.channel == "webhook":
        if row.recipient_ref != WEBHOOK_TARGET or not profile.alert_webhook_url:
            raise Undeliverable("the alert webhook was removed from the profile")
        return Ready("webhook", rendered, webhook_url=profile.alert_webhook_url, context=context)
    address = next((a for a in profile.alert_emails if alert_email_ref(uow, a) == row.recipient_ref), None)
    if address is None:
        raise Undeliverable("the address was removed from the profile's alert emails")
    return Ready("email", rendered, to=address)


async def _prepare_requested(uow: Uow, client: httpx.AsyncClient, row: MessageRow, profile: TenantProfile) -> Ready:
    if not row.claim_url:
        raise Undeliverable("no claim URL")
    claimed: Claim = await fetch_claim(uow, client, row.claim_url)
    locale = pick_locale(claimed.locale, row.locale, profile.default_locale)
    rendered = await render(uow, row.template, locale, claimed.context)
    if row.channel == "email":
        if not claimed.to:
            raise Undeliverable("the claim names no email address")
        return Ready("email", rendered, to=claimed.to, to_name=claimed.to_name)
    if not claimed.webhook_url:
        raise Undeliverable("the claim names no webhook URL")
    return Ready("webhook", rendered, webhook_url=claimed.webhook_url, context=claimed.context)


async def _send(uow: Uow, client: httpx.AsyncClient, row: MessageRow, profile: TenantProfile, ready: Ready) -> Outcome:
    settings = uow.settings
    if ready.channel == "email" and ready.to:
        sender = (
            formataddr((profile.sender_name or "", profile.sender_address))
            if profile.sender_address
            else settings.smtp_from
        )
        mail = Mail(str(row.id), sender, profile.reply_to, ready.to, ready.to_name, ready.rendered)
        return await send_email(settings, mail, uow.now())
    extra = {"context": ready.context or {}, "kind": row.kind}
    body = webhook_body(str(row.id), row.tenant_id, row.template, ready.rendered, extra)
    return await send_webhook(client, settings, ready.webhook_url or "", profile.webhook_secrets, str(row.id), body)


async def attempt(uow: Uow, client: httpx.AsyncClient, row: MessageRow) -> Outcome:
    """One delivery attempt of a claimed message: prepare, send, log it, and move its state."""
    profile = await profile_or_default(uow)
    try:
        ready = (
            await _prepare_alert(uow, row, profile)
            if row.kind == "alert"
            else await _prepare_requested(uow, client, row, profile)
        )
    except ClaimFailed as exc:
        outcome = Outcome(ok=False, transient=not exc.final, detail=exc.reason, http_status=exc.status)
    except (Undeliverable, DomainError) as exc:  # no such template, or the claim's values do not fit it
        outcome = Outcome(ok=False, detail=str(exc))
    else:
        outcome = await _send(uow, client, row, profile, ready)
    await record(uow, row, outcome)
    return outcome


async def record(uow: Uow, row: MessageRow, outcome: Outcome) -> None:
    """Log the attempt and apply it: sent (and delivered), retried later, or failed."""
    now = uow.now()
    row.attempts += 1
    uow.session.add(
        DeliveryAttempt(
            tenant_id=row.tenant_id,
            message_id=row.id,
            number=row.attempts,
            at=now,
            outcome="sent" if outcome.ok else "transient" if outcome.transient else "permanent",
            smtp_code=outcome.smtp_code,
            http_status=outcome.http_status,
            detail=outcome.detail[:1000],
            duration_ms=outcome.duration_ms,
        )
    )
    if outcome.ok:
        delivered = row.channel == "webhook" or uow.settings.bounce_window_s == 0
        await mark_sent(uow, row, delivered=delivered)
    elif outcome.transient:
        later = uow.settings.retry_policy.next_attempt(row.attempts, now)
        if later is None:
            await mark_failed(uow, row, f"gave up after {row.attempts} attempts: {outcome.detail}")
        else:
            row.state, row.next_attempt_at, row.last_error = "retrying", later, outcome.detail
            uow.session.add(row)
    else:
        await mark_failed(uow, row, outcome.detail)
    log.info(
        "notify.attempt",
        notification_id=str(row.id),
        channel=row.channel,
        template=row.template,
        attempt=row.attempts,
        state=row.state,
        smtp_code=outcome.smtp_code,
        http_status=outcome.http_status,
    )


async def deliver_due(ctx: Job) -> int:
    """Periodic job: send due messages one transaction each, each claimed with FOR UPDATE SKIP LOCKED."""
    handled = 0
    async with http_client(follow_redirects=False) as client:
        while handled < ctx.settings.delivery_batch:
            async with ctx.database.session() as session:
                statement = (
                    select(MessageRow)
                    .where(col(MessageRow.state).in_(DUE_STATES), col(MessageRow.next_attempt_at) <= ctx.clock.now())
                    .order_by(col(MessageRow.next_attempt_at))
                )
                rows = await claim(session, statement, limit=1)
                if not rows:
                    break
                row = rows[0]
                await attempt(ctx.unit_of_work(session, row.tenant_id, DELIVER_ACTOR), client, row)
            handled += 1
    return handled


async def settle_sent(ctx: Job) -> int:
    """Periodic job: a mail sent longer than the bounce window ago without a bounce counts as delivered."""
    cutoff = ctx.clock.now() - timedelta(seconds=ctx.settings.bounce_window_s)
    async with ctx.database.session() as session:
        statement = (
            select(MessageRow)
            .where(col(MessageRow.state) == "sent", col(MessageRow.sent_at) <= cutoff)
            .order_by(col(MessageRow.sent_at))
        )
        rows = await claim(session, statement, limit=500)
        for row in rows:
            await mark_delivered(ctx.unit_of_work(session, row.tenant_id, SETTLE_ACTOR), row)
        return len(rows)
