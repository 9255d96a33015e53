"""Kafka handlers of the retention service: events that put subjects' data on a schedule."""

from __future__ import annotations

from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.retention.models import SubjectSchedule
from services.retention.settings import RetentionSettings
from shared import audit
from shared.consumer import EventContext, Subscription
from shared.durations import add_duration, parse_duration
from shared.events.catalogue.consent import ConsentExpired, ConsentWithdrawn
from shared.events.catalogue.dsar import DsarRequestCompleted
from shared.events.catalogue.retention import SubjectScheduleCreated
from shared.outbox import stage


async def on_consent_ended(session: AsyncSession, event: ConsentWithdrawn | ConsentExpired, ctx: EventContext) -> None:
    """Data kept only on a consent becomes due after the grace period once the consent ends."""
    settings = ctx.settings
    assert isinstance(settings, RetentionSettings)
    grace = parse_duration(settings.consent_grace_period)
    schedule = SubjectSchedule(
        tenant_id=ctx.tenant_id,
        subject_ref=event.subject_ref,
        category=f"consent:{event.purpose}",
        reason=f"consent {event.decision} for purpose {event.purpose}",
        source_event_id=ctx.envelope.id,
        due_at=add_duration(event.occurred_at, grace),
        created_at=ctx.clock.now(),
    )
    session.add(schedule)
    await stage(
        session,
        SubjectScheduleCreated(
            schedule_id=schedule.id,
            subject_ref=schedule.subject_ref,
            category=schedule.category,
            reason=schedule.reason,
            due_at=schedule.due_at,
        ),
        tenant_id=ctx.tenant_id,
        subject=schedule.subject_ref,
        clock=ctx.clock,
        service=settings.service_name,
    )
    audit.record(
        session,
        tenant_id=ctx.tenant_id,
        actor=f"event:{ctx.envelope.type}",
        action="schedule.created",
        entity_type="subject_schedule",
        entity_id=schedule.id,
        clock=ctx.clock,
        detail={"category": schedule.category, "due_at": schedule.due_at},
    )


async def on_erasure_completed(session: AsyncSession, event: DsarRequestCompleted, ctx: EventContext) -> None:
    """An erasure completed by the DSAR service leaves nothing to schedule for that subject."""
    if event.request_type != "erasure":
        return
    await session.exec(
        update(SubjectSchedule)
        .where(
            col(SubjectSchedule.tenant_id) == ctx.tenant_id,
            col(SubjectSchedule.subject_ref) == event.subject_ref,
            col(SubjectSchedule.status) == "pending",
        )
        .values(status="cancelled", closed_at=ctx.clock.now())
    )


SUBSCRIPTIONS = [
    Subscription(
        name="subject-schedules",
        handlers={
            ConsentWithdrawn: on_consent_ended,
            ConsentExpired: on_consent_ended,
            DsarRequestCompleted: on_erasure_completed,
        },
    )
]
