"""The write of one decision as a single statement: record, projection, outbox event, audit entry, relay wake-up.

Runs on the session's connection, inside its transaction (the framework still commits), so a decision
costs the transaction's BEGIN, this statement and the COMMIT. The statement writes nothing unless the
purpose still has the revision the caller's rules were read at, and it locks the projection row first,
so a grant answering a grant in force is published as a renewal exactly as before. The outbox row is
the one ``shared.bus.outbox.outbox_rows`` builds (what ``stage`` and ``stage_many`` store); the audit row
is the one ``shared.runtime.audit.record`` adds.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import Decision
from services.consent.models import ConsentRecord
from services.consent.service.common import RANK
from shared.bus.outbox import NOTIFY_CHANNEL, outbox_rows
from shared.events.catalogue.consent import (
    ConsentDecisionEvent,
    ConsentDenied,
    ConsentGranted,
    ConsentRenewed,
    ConsentWithdrawn,
)
from shared.rules.clock import Clock
from shared.runtime.auth import Principal

EVENTS: dict[Decision, type[ConsentDecisionEvent]] = {
    Decision.GRANTED: ConsentGranted,
    Decision.DENIED: ConsentDenied,
    Decision.WITHDRAWN: ConsentWithdrawn,
}

# $1 tenant, $2 subject_ref, $3 purpose, $4 purpose revision; the record $5–$17; $18 rank;
# the event $19–$24 and, for a grant, its renewal variant $25–$28; the audit entry $29–$31; $32 the channel.
WRITE_DECISION = """
WITH guard AS (
    SELECT 1 FROM purpose WHERE tenant_id = $1::text AND key = $3::text AND revision = $4::bigint
), previous AS (
    SELECT decision FROM consent_state
    WHERE tenant_id = $1::text AND subject_ref = $2::text AND purpose = $3::text
    FOR UPDATE
), go AS (
    SELECT $6::text = 'granted' AND coalesce((SELECT decision FROM previous) = 'granted', false) AS renewed
    FROM guard
), record AS (
    INSERT INTO consent_record (id, tenant_id, subject_ref, purpose, decision, channel, occurred_at, recorded_at,
                                source, collector, notice_version, notice_text_hash, expires_at, proof, tc_string,
                                guardian)
    SELECT $5::uuid, $1::text, $2::text, $3::text, $6::text, $7::text, $8::timestamptz, $9::timestamptz, $10::text,
           $11::text, $12::integer, $13::text, $14::timestamptz, $15::jsonb, $16::text, $17::jsonb
    FROM go
), state AS (
    INSERT INTO consent_state (tenant_id, subject_ref, purpose, decision, decided_at, rank, expires_at, expired,
                               notice_version, record_id, updated_at)
    SELECT $1::text, $2::text, $3::text, $6::text, $8::timestamptz, $18::smallint, $14::timestamptz, false,
           $12::integer, $5::uuid, $9::timestamptz
    FROM go
    ON CONFLICT (tenant_id, subject_ref, purpose) DO UPDATE SET
        decision = excluded.decision, decided_at = excluded.decided_at, rank = excluded.rank,
        expires_at = excluded.expires_at, expired = excluded.expired, notice_version = excluded.notice_version,
        record_id = excluded.record_id, updated_at = excluded.updated_at
    -- a backdated decision never overrides a newer one; at one instant a refusal outranks a grant
    WHERE (consent_state.decided_at, consent_state.rank) <= (excluded.decided_at, excluded.rank)
), event AS (
    INSERT INTO outbox (event_id, tenant_id, topic, key, event_type, headers, payload)
    SELECT CASE WHEN renewed THEN $25::uuid ELSE $19::uuid END, $1::text, $20::text, $21::text,
           CASE WHEN renewed THEN $26::text ELSE $22::text END,
           CASE WHEN renewed THEN $27::jsonb ELSE $23::jsonb END,
           CASE WHEN renewed THEN $28::bytea ELSE $24::bytea END
    FROM go
), entry AS (
    INSERT INTO audit_log (tenant_id, occurred_at, actor, action, entity_type, entity_id, detail)
    SELECT $1::text, $9::timestamptz, $29::text, CASE WHEN renewed THEN 'consent.renewed' ELSE $30::text END,
           'consent_record', $5::text, $31::jsonb
    FROM go
)
SELECT renewed, pg_notify($32::text, '') FROM go
"""


def decision_params(
    record: ConsentRecord, revision: int, *, actor: Principal | str, clock: Clock, service: str
) -> tuple[Any, ...]:
    """The parameters of ``WRITE_DECISION``: the record, its two possible events (plain, renewal), its audit entry."""
    decision = Decision(record.decision)
    fields = {
        "consent_id": record.id,
        "subject_ref": record.subject_ref,
        "purpose": record.purpose,
        "decision": record.decision,
        "occurred_at": record.occurred_at,
        "expires_at": record.expires_at,
        "notice_version": str(record.notice_version) if record.notice_version else None,
    }
    events: list[tuple[ConsentDecisionEvent, str | None]] = [(EVENTS[decision](**fields), record.subject_ref)]
    if decision is Decision.GRANTED:  # which of the two is published depends on the row locked by the statement
        events.append((ConsentRenewed(**fields), record.subject_ref))
    rows = outbox_rows(events, tenant_id=record.tenant_id, source=f"/privops/{service}", now=clock.now())
    event = rows[0]
    renewal = rows[1] if len(rows) > 1 else (None, None, None, None, None, None, None)
    return (
        record.tenant_id,
        record.subject_ref,
        record.purpose,
        revision,
        record.id,
        record.decision,
        record.channel,
        record.occurred_at,
        record.recorded_at,
        record.source,
        record.collector,
        record.notice_version,
        record.notice_text_hash,
        record.expires_at,
        json.dumps(record.proof),
        record.tc_string,
        json.dumps(record.guardian) if record.guardian is not None else None,
        RANK[decision],
        event[0],
        event[2],
        event[3],
        event[4],
        event[5],
        event[6],
        renewal[0],
        renewal[4],
        renewal[5],
        renewal[6],
        actor.subject if isinstance(actor, Principal) else actor,
        f"consent.{record.decision}",
        json.dumps({"purpose": record.purpose, "subject_ref": record.subject_ref, "source": record.source}),
        NOTIFY_CHANNEL,
    )


async def write_decision(
    session: AsyncSession, record: ConsentRecord, revision: int, *, actor: Principal | str, clock: Clock, service: str
) -> bool:
    """Write ``record`` with its projection, event and audit entry; False (nothing written) if the purpose moved on."""
    params = decision_params(record, revision, actor=actor, clock=clock, service=service)
    if session.new or session.dirty or session.deleted:
        await session.flush()  # rows added earlier in this transaction keep their place (outbox order)
    connection = await session.connection()
    result = await connection.exec_driver_sql(WRITE_DECISION, params)
    return result.first() is not None
