"""Kafka subscriptions of the notify service: requested messages, escalations to alert on, DSAR tasks."""

from __future__ import annotations

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from services.notify.domain import ALERTS, alert_for
from services.notify.service.messages import queue_requested, raise_alert
from services.notify.service.store import SYSTEM, MessageStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue import Event
from shared.events.catalogue.notifications import NotificationRequested

log = structlog.get_logger("privops.notify.handlers")
SOURCE_PREFIX = "/privops/"


def origin_of(ctx: EventContext) -> str:
    """The service that sent the event, from its CloudEvents source ``/privops/<service>``."""
    return ctx.envelope.source.removeprefix(SOURCE_PREFIX).strip("/") or "unknown"


async def on_notification_requested(session: AsyncSession, event: NotificationRequested, ctx: EventContext) -> None:
    """Queue the message for delivery (a repeated notification id is the message already queued)."""
    if not await queue_requested(ctx.unit_of_work(session), event, origin_of(ctx)):
        log.info("notify.request.repeated", notification_id=str(event.notification_id))


async def on_escalation(session: AsyncSession, event: Event, ctx: EventContext) -> None:
    """Alert the tenant's privacy team, once per threshold and target."""
    alert = alert_for(event)
    queued = await raise_alert(ctx.unit_of_work(session), alert, origin_of(ctx))
    log.info("notify.alert.raised", template=alert.template, messages=queued)


SUBSCRIPTIONS = [
    Subscription(name="requests", handlers={NotificationRequested: on_notification_requested}, batched=True),
    Subscription(name="alerts", handlers=dict.fromkeys(ALERTS, on_escalation), batched=True),
    dsar_task_subscription(SYSTEM, MessageStore()),
]
