"""Expiry: grants past their validity stop counting, and the products hear of it."""

from __future__ import annotations

from sqlmodel import col, select

from services.consent.models import ConsentState
from services.consent.service import Job
from shared.events.catalogue.consent import ConsentExpired
from shared.runtime.jobs import claim

EXPIRY_BATCH = 500
ACTOR = "job:consent.expire"


async def expire_consents(ctx: Job) -> int:
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
            uow = ctx.unit_of_work(session, state.tenant_id, ACTOR)
            state.expired = True
            state.updated_at = now
            session.add(state)
            assert state.expires_at is not None
            event = ConsentExpired(
                consent_id=state.record_id,
                subject_ref=state.subject_ref,
                purpose=state.purpose,
                decision="expired",
                occurred_at=state.expires_at,
                expires_at=state.expires_at,
                notice_version=str(state.notice_version) if state.notice_version else None,
            )
            await uow.stage(event, state.subject_ref)
            detail = {"purpose": state.purpose, "subject_ref": state.subject_ref}
            uow.audit("consent.expired", "consent_record", state.record_id, detail)
        return len(due)
