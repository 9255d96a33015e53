"""HTTP endpoints of the consent service (thin: validation in schemas, rules in domain)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.consent.domain.identifiers import subject_ref
from services.consent.models import ConsentRecord
from services.consent.schemas import ConsentIn, ConsentOut
from shared import audit
from shared.auth import Principal, require
from shared.clock import ensure_utc
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.events.catalogue.consent import ConsentDenied, ConsentGranted, ConsentWithdrawn
from shared.outbox import stage
from shared.service import ClockDep

router = APIRouter(prefix="/v1", tags=["consents"])

EVENTS = {"granted": ConsentGranted, "denied": ConsentDenied, "withdrawn": ConsentWithdrawn}


@router.post("/consents", status_code=201, response_model=ConsentOut, summary="Record a consent decision")
async def record_consent(
    body: ConsentIn,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("consent:write"))],
) -> ConsentRecord:
    """Append a decision and publish its event through the outbox, in one transaction."""
    settings = request.app.state.settings
    now = clock.now()
    occurred_at = ensure_utc(body.occurred_at) if body.occurred_at else now
    if occurred_at > now:
        raise Unprocessable("occurred_at is in the future.", errors=[{"field": "occurred_at"}])
    ref = subject_ref(settings.subject_hash_key.get_secret_value().encode(), body.subject.kind, body.subject.value)
    record = ConsentRecord(
        tenant_id=principal.tenant_id,
        subject_ref=ref,
        purpose=body.purpose,
        decision=body.decision,
        channel=body.channel,
        occurred_at=occurred_at,
        recorded_at=now,
    )
    session.add(record)
    await stage(
        session,
        EVENTS[body.decision](
            consent_id=record.id,
            subject_ref=ref,
            purpose=body.purpose,
            decision=body.decision,
            occurred_at=occurred_at,
        ),
        tenant_id=principal.tenant_id,
        subject=ref,
        clock=clock,
        service=settings.service_name,
    )
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action=f"consent.{body.decision}",
        entity_type="consent_record",
        entity_id=record.id,
        clock=clock,
        detail={"purpose": body.purpose, "subject_ref": ref},
    )
    await session.flush()
    return record


@router.get("/consents/{consent_id}", response_model=ConsentOut, summary="Read one consent record")
async def get_consent(
    consent_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("consent:read"))],
) -> ConsentRecord:
    """A consent record of the caller's tenant (another tenant's record is reported as not found)."""
    record = await session.get(ConsentRecord, consent_id)
    if record is None or record.tenant_id != principal.tenant_id:
        raise NotFound(f"No consent record {consent_id}.")
    return record
