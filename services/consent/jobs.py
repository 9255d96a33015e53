"""Periodic work of the consent service: expiring grants past their validity."""

from __future__ import annotations

from sqlmodel import col, select

from services.consent.models import ConsentState
from shared.bus.outbox import stage
from shared.events.catalogue.consent import ConsentExpired
from shared.runtime import audit
from shared.runtime.jobs import JobContext, PeriodicJob, claim

EXPIRY_BATCH = 500


async def expire_consents(ctx: JobContext) -> int:
    """Mark granted consents past their expiry as expired and emit ``consent.expired`` (several replicas are safe)."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        statement = select(ConsentState).where(
            col(ConsentState.decision) == "granted",
            ~col(ConsentState.expired),
            col(ConsentState.expires_at) <= now,
        )
        due = await claim(session, statement.order_by(col(ConsentState.expires_at)), limit=EXPIRY_BATCH)
        for state in due:
            state.expired = True
            state.updated_at = now
            session.add(state)
            assert state.expires_at is not None
            await stage(
                session,
                ConsentExpired(
                    consent_id=state.record_id,
                    subject_ref=state.subject_ref,
                    purpose=state.purpose,
                    decision="expired",
                    occurred_at=state.expires_at,
                    expires_at=state.expires_at,
                    notice_version=str(state.notice_version) if state.notice_version else None,
                ),
                tenant_id=state.tenant_id,
                subject=state.subject_ref,
                clock=ctx.clock,
                service=ctx.settings.service_name,
            )
            audit.record(
                session,
                tenant_id=state.tenant_id,
                actor="job:consent.expire",
                action="consent.expired",
                entity_type="consent_record",
                entity_id=state.record_id,
                clock=ctx.clock,
                detail={"purpose": state.purpose, "subject_ref": state.subject_ref},
            )
        return len(due)


JOBS = [PeriodicJob("consent.expire", expire_consents, interval_s=60.0)]
