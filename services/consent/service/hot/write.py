"""The write of one decision as a single statement: record, projection, outbox event, audit entry, relay wake-up.

The routes run it on their session's connection, inside its transaction (the framework still commits),
so a decision costs the transaction's BEGIN, this statement and the COMMIT; the hot path runs it alone,
autocommitted, on the direct pool. The statement writes nothing unless the purpose still has the
revision the caller's rules were read at, and it locks the projection row first, so a grant answering
a grant in force is published as a renewal. The outbox row is the one ``shared.bus.outbox.outbox_rows``
builds (what ``stage`` and ``stage_many`` store); the audit row is the one ``UnitOfWork.audit`` adds.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from services.consent.domain import Decision
from services.consent.models import ConsentRecord
from services.consent.service import Uow
from shared.bus.outbox import NOTIFY_CHANNEL, OUTBOX_COLUMNS, outbox_rows
from shared.events.catalogue.consent import (
    ConsentDecisionEvent,
    ConsentDenied,
    ConsentGranted,
    ConsentRenewed,
    ConsentWithdrawn,
)
from shared.rules.clock import Clock

EVENTS: dict[Decision, type[ConsentDecisionEvent]] = {
    Decision.GRANTED: ConsentGranted,
    Decision.DENIED: ConsentDenied,
    Decision.WITHDRAWN: ConsentWithdrawn,
}
# At one instant a refusal outranks a grant (the domain's precedence), kept as a column of the projection.
RANK = {Decision.GRANTED: 0, Decision.DENIED: 1, Decision.WITHDRAWN: 2}


class DecisionParams(NamedTuple):
    """The parameters of ``WRITE_DECISION``: field n is its ``$n``, so the statement names them."""

    tenant_id: str
    subject_ref: str
    purpose: str
    revision: int  # the purpose's revision the caller's rules were read at
    record_id: uuid.UUID
    decision: str
    channel: str | None
    occurred_at: datetime
    recorded_at: datetime
    source: str
    collector: str | None
    notice_version: int | None
    notice_text_hash: str | None
    expires_at: datetime | None
    proof: str
    tc_string: str | None
    guardian: str | None
    rank: int
    event_id: uuid.UUID
    topic: str
    key: str
    event_type: str
    headers: str
    payload: bytes
    # For a grant: the renewal published instead when a grant is in force (None otherwise).
    renewal_id: uuid.UUID | None
    renewal_type: str | None
    renewal_headers: str | None
    renewal_payload: bytes | None
    actor: str
    action: str
    audit_detail: str
    notify_channel: str


_STATEMENT = """
WITH guard AS (
    SELECT 1 FROM purpose
    WHERE tenant_id = {tenant_id}::text AND key = {purpose}::text AND revision = {revision}::bigint
), previous AS (
    SELECT decision FROM consent_state
    WHERE tenant_id = {tenant_id}::text AND subject_ref = {subject_ref}::text AND purpose = {purpose}::text
    FOR UPDATE
), go AS (
    SELECT {decision}::text = 'granted' AND coalesce((SELECT decision FROM previous) = 'granted', false) AS renewed
    FROM guard
), record AS (
    INSERT INTO consent_record (id, tenant_id, subject_ref, purpose, decision, channel, occurred_at, recorded_at,
                                source, collector, notice_version, notice_text_hash, expires_at, proof, tc_string,
                                guardian)
    SELECT {record_id}::uuid, {tenant_id}::text, {subject_ref}::text, {purpose}::text, {decision}::text,
           {channel}::text, {occurred_at}::timestamptz, {recorded_at}::timestamptz, {source}::text,
           {collector}::text, {notice_version}::integer, {notice_text_hash}::text, {expires_at}::timestamptz,
           {proof}::jsonb, {tc_string}::text, {guardian}::jsonb
    FROM go
), state AS (
    INSERT INTO consent_state (tenant_id, subject_ref, purpose, decision, decided_at, rank, expires_at, expired,
                               notice_version, record_id, updated_at)
    SELECT {tenant_id}::text, {subject_ref}::text, {purpose}::text, {decision}::text, {occurred_at}::timestamptz,
           {rank}::smallint, {expires_at}::timestamptz, false, {notice_version}::integer, {record_id}::uuid,
           {recorded_at}::timestamptz
    FROM go
    ON CONFLICT (tenant_id, subject_ref, purpose) DO UPDATE SET
        decision = excluded.decision, decided_at = excluded.decided_at, rank = excluded.rank,
        expires_at = excluded.expires_at, expired = excluded.expired, notice_version = excluded.notice_version,
        record_id = excluded.record_id, updated_at = excluded.updated_at
    -- a backdated decision never overrides a newer one; at one instant a refusal outranks a grant
    WHERE (consent_state.decided_at, consent_state.rank) <= (excluded.decided_at, excluded.rank)
), event AS (
    INSERT INTO outbox (event_id, tenant_id, topic, key, event_type, headers, payload)
    SELECT CASE WHEN renewed THEN {renewal_id}::uuid ELSE {event_id}::uuid END, {tenant_id}::text, {topic}::text,
           {key}::text,
           CASE WHEN renewed THEN {renewal_type}::text ELSE {event_type}::text END,
           CASE WHEN renewed THEN {renewal_headers}::jsonb ELSE {headers}::jsonb END,
           CASE WHEN renewed THEN {renewal_payload}::bytea ELSE {payload}::bytea END
    FROM go
), entry AS (
    INSERT INTO audit_log (tenant_id, occurred_at, actor, action, entity_type, entity_id, detail)
    SELECT {tenant_id}::text, {recorded_at}::timestamptz, {actor}::text,
           CASE WHEN renewed THEN 'consent.renewed' ELSE {action}::text END,
           'consent_record', {record_id}::text, {audit_detail}::jsonb
    FROM go
)
SELECT renewed, pg_notify({notify_channel}::text, '') FROM go
"""
# asyncpg takes positional parameters only: each name becomes its field's $n once, at import.
WRITE_DECISION = _STATEMENT.format(**{name: f"${n}" for n, name in enumerate(DecisionParams._fields, start=1)})
_NO_RENEWAL: tuple[Any, ...] = (None,) * len(OUTBOX_COLUMNS)


def decision_params(record: ConsentRecord, revision: int, *, actor: str, clock: Clock, service: str) -> DecisionParams:
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
    # An outbox row holds OUTBOX_COLUMNS: event_id, tenant_id, topic, key, event_type, headers, payload.
    event_id, _, topic, key, event_type, headers, payload = rows[0]
    renewal_id, _, _, _, renewal_type, renewal_headers, renewal_payload = rows[1] if len(rows) > 1 else _NO_RENEWAL
    return DecisionParams(
        tenant_id=record.tenant_id,
        subject_ref=record.subject_ref,
        purpose=record.purpose,
        revision=revision,
        record_id=record.id,
        decision=record.decision,
        channel=record.channel,
        occurred_at=record.occurred_at,
        recorded_at=record.recorded_at,
        source=record.source,
        collector=record.collector,
        notice_version=record.notice_version,
        notice_text_hash=record.notice_text_hash,
        expires_at=record.expires_at,
        proof=json.dumps(record.proof),
        tc_string=record.tc_string,
        guardian=json.dumps(record.guardian) if record.guardian is not None else None,
        rank=RANK[decision],
        event_id=event_id,
        topic=topic,
        key=key,
        event_type=event_type,
        headers=headers,
        payload=payload,
        renewal_id=renewal_id,
        renewal_type=renewal_type,
        renewal_headers=renewal_headers,
        renewal_payload=renewal_payload,
        actor=actor,
        action=f"consent.{record.decision}",
        audit_detail=json.dumps(
            {"purpose": record.purpose, "subject_ref": record.subject_ref, "source": record.source}
        ),
        notify_channel=NOTIFY_CHANNEL,
    )


async def write_decision(uow: Uow, record: ConsentRecord, revision: int) -> bool:
    """Write ``record`` with its projection, event and audit entry; False (nothing written) if the purpose moved on."""
    params = decision_params(record, revision, actor=uow.actor, clock=uow.clock, service=uow.settings.service_name)
    session = uow.session
    if session.new or session.dirty or session.deleted:
        await session.flush()  # rows added earlier in this transaction keep their place (outbox order)
    connection = await session.connection()
    result = await connection.exec_driver_sql(WRITE_DECISION, params)
    return result.first() is not None
