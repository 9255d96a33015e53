"""Kafka handlers of the retention service: events that put subjects' data on a schedule, and sweep answers."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from services.retention.domain import DataCategory, EndingEvent
from services.retention.service import Uow
from services.retention.service.holds import subject_holds
from services.retention.service.schedules import (
    ScheduleRequest,
    cancel_for_subject,
    cancel_given_again,
    open_schedule_keys,
    schedule_subjects,
    subjects_waiting,
)
from services.retention.service.store import SYSTEM, RetentionStore
from services.retention.service.sweeps import record_result
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.consent import ConsentExpired, ConsentGranted, ConsentRenewed, ConsentWithdrawn
from shared.events.catalogue.dsar import DsarRequestCompleted
from shared.events.catalogue.retention import RetentionSweepCompleted

log = structlog.get_logger("privops.retention.handlers")

CONSENT_DATA = DataCategory.CONSENT_BASED.value


async def on_consents_ended(
    session: AsyncSession, events: Sequence[tuple[ConsentWithdrawn | ConsentExpired, EventContext]]
) -> None:
    """Data kept only on a consent becomes due after the policy's grace period once the consent ends.

    A subject already on its way out for that purpose is not scheduled again (a withdrawal followed
    by an expiry schedules once). One statement finds the open schedules; ``schedule_subjects`` writes
    the new ones with their events and audit entries, once per tenant and kind of event (the unit of
    work that audits them: an import's poll is one).
    """
    keys = [(ctx.tenant_id, event.subject_ref, event.purpose) for event, ctx in events]
    scheduled = await open_schedule_keys(session, keys, CONSENT_DATA)
    batches: dict[tuple[str, str], tuple[Uow, list[ScheduleRequest]]] = {}
    for (event, ctx), key in zip(events, keys, strict=True):
        if key in scheduled:
            continue
        scheduled.add(key)
        batch = batches.get((key[0], ctx.envelope.type))
        if batch is None:
            batch = batches[key[0], ctx.envelope.type] = (ctx.unit_of_work(session), [])
        batch[1].append(
            ScheduleRequest(
                subject_ref=event.subject_ref,
                category=CONSENT_DATA,
                purpose=event.purpose,
                event=EndingEvent.CONSENT_WITHDRAWN if event.decision == "withdrawn" else EndingEvent.CONSENT_EXPIRED,
                event_at=event.occurred_at,
                reason=f"consent {event.decision} for purpose {event.purpose}",
                source_event_id=ctx.envelope.id,
            )
        )
    for uow, requests in batches.values():
        await schedule_subjects(uow, requests)


async def on_consents_given(
    session: AsyncSession, events: Sequence[tuple[ConsentGranted | ConsentRenewed, EventContext]]
) -> None:
    """A fresh positive answer brings the lawful basis back: the pending deletions for that purpose are cancelled.

    Only what waits on a consent that ended before the grant is cancelled (an imported older grant
    leaves a later withdrawal's schedule alone).
    """
    if events:
        grants = [(ctx.tenant_id, event.subject_ref, event.purpose, event.occurred_at) for event, ctx in events]
        await cancel_given_again(session, grants, CONSENT_DATA, events[0][1].clock.now())


async def subjects_with_consent_data_waiting(
    session: AsyncSession, subjects: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The subjects a grant can cancel something for; the consumer skips the grants of all the others.

    Most grants (an imported file's) find nothing waiting: skipped unparsed, they cost a probe of
    the subject index instead of a parse, an inbox row and a probe.
    """
    return await subjects_waiting(session, subjects, CONSENT_DATA)


async def on_erasure_completed(session: AsyncSession, event: DsarRequestCompleted, ctx: EventContext) -> None:
    """An erasure completed by the DSAR service leaves nothing to schedule for that subject (unless held)."""
    if event.request_type != "erasure":
        return
    uow: Uow = ctx.unit_of_work(session)
    if await subject_holds(uow, event.subject_ref, uow.now()):
        log.info("retention.erasure.held", request_id=str(event.request_id))
        return
    await cancel_for_subject(uow, event.subject_ref, uow.now())


async def on_sweep_completed(session: AsyncSession, event: RetentionSweepCompleted, ctx: EventContext) -> None:
    """A store answered a sweep: record its counts as evidence."""
    await record_result(ctx.unit_of_work(session, actor=f"store:{event.system}"), event)


SUBSCRIPTIONS = [
    Subscription(
        name="subject-schedules",
        handlers={DsarRequestCompleted: on_erasure_completed},
        batched=True,  # database only; one transaction per poll, not per consent decision
        # A consent decision is applied in bulk even alone (a run of one): one definition per type.
        bulk_handlers={
            ConsentGranted: on_consents_given,
            ConsentRenewed: on_consents_given,
            ConsentWithdrawn: on_consents_ended,
            ConsentExpired: on_consents_ended,
        },
        # A grant only cancels what waits on a consent ended before it: a no-op for anyone else, and when
        # applied again (an older grant leaves a later withdrawal's schedule alone).
        subject_filters={
            ConsentGranted: subjects_with_consent_data_waiting,
            ConsentRenewed: subjects_with_consent_data_waiting,
        },
    ),
    Subscription(name="sweep-results", handlers={RetentionSweepCompleted: on_sweep_completed}, batched=True),
    dsar_task_subscription(SYSTEM, RetentionStore()),
]
