"""Recording decisions: the append-only record, the projection row and the event, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import (
    Decision,
    TcfPurposeNotConsented,
    UnknownNoticeVersion,
    consent_expiry,
    decode_tc_string,
    validate_child_consent,
)
from services.consent.domain.notices import check_in_force, check_text_hash
from services.consent.models import ConsentRecord, ConsentState, NoticeVersion, Purpose
from services.consent.service.common import RANK
from shared import audit
from shared.auth import Principal
from shared.clock import Clock
from shared.events.catalogue.consent import (
    ConsentDecisionEvent,
    ConsentDenied,
    ConsentGranted,
    ConsentRenewed,
    ConsentWithdrawn,
)
from shared.outbox import stage

EVENTS: dict[Decision, type[ConsentDecisionEvent]] = {
    Decision.GRANTED: ConsentGranted,
    Decision.DENIED: ConsentDenied,
    Decision.WITHDRAWN: ConsentWithdrawn,
}
STATE_TABLE = ConsentState.__table__  # type: ignore[attr-defined]
STATE = STATE_TABLE.c


@dataclass(frozen=True)
class Capture:
    """How a decision was collected: channel, collector, proof and where it came from (api, gpc, objection …)."""

    channel: str | None = None
    collector: str | None = None
    proof: dict[str, Any] = field(default_factory=dict)
    source: str = "api"


@dataclass(frozen=True)
class Evidence:
    """What the person was shown and any evidence given with the decision."""

    notice_version: int | None = None
    notice_text_hash: str | None = None
    tc_string: str | None = None
    guardian: dict[str, Any] | None = None


async def resolve_notice(
    session: AsyncSession, tenant_id: str, purpose: Purpose, version: int | None, shown_hash: str | None, at: datetime
) -> tuple[int | None, str | None]:
    """The notice version a decision rests on and its text hash; refuse unknown or expired versions."""
    notices = NoticeVersion.tenant_id == tenant_id, NoticeVersion.purpose == purpose.key
    if version is None:
        if purpose.current_notice_version is None:
            return None, None  # this purpose has no published notice yet
        latest = (
            await session.exec(
                select(NoticeVersion)
                .where(*notices, col(NoticeVersion.published_at) <= at)
                .order_by(col(NoticeVersion.version).desc())
                .limit(1)
            )
        ).first()
        if latest is None:
            raise UnknownNoticeVersion("notice_version", "no notice version was published at the time of the decision")
        version = latest.version
    rows = (
        await session.exec(
            select(NoticeVersion)
            .where(*notices, col(NoticeVersion.version) >= version)
            .order_by(col(NoticeVersion.version))
            .limit(2)
        )
    ).all()
    if not rows or rows[0].version != version:
        raise UnknownNoticeVersion("notice_version", f"version {version} of {purpose.key!r} was never published")
    notice = rows[0]
    superseded_at = rows[1].published_at if len(rows) > 1 else None
    check_in_force(
        version, at, published_at=notice.published_at, superseded_at=superseded_at, expires_at=notice.expires_at
    )
    return version, check_text_hash(version, shown_hash, notice.text_hash)


def check_tc_string(purpose: Purpose, decision: Decision, tc_string: str | None) -> None:
    """Decode a TC string (refusing a malformed one) and enforce it on a grant of a TCF-mapped purpose."""
    if tc_string is None:
        return
    decoded = decode_tc_string(tc_string)
    wanted = purpose.tcf_purpose_id
    if decision is Decision.GRANTED and wanted is not None and wanted not in decoded.purposes_consent:
        raise TcfPurposeNotConsented(
            "tc_string", f"records no consent to TCF purpose {wanted} ({purpose.key!r} maps to it)"
        )


def check_child(
    purpose: Purpose, decision: Decision, at: datetime, country: str | None, age: Any, guardian: Any
) -> dict[str, Any] | None:
    """Apply GDPR Art. 8 to a grant when an age or birth date is given; return what to keep as evidence."""
    if decision is not Decision.GRANTED or age is None:
        return None
    method = getattr(guardian, "verification_method", None)
    required = validate_child_consent(
        country,
        age,
        at,
        guardian_consent=bool(getattr(guardian, "consent", False)),
        verification_method=method,
        policy_min_age=purpose.min_age,
    )
    if not required:
        return None
    return {"guardian_consent": True, "verification_method": str(method), "country": country}


async def append_decision(
    session: AsyncSession,
    *,
    tenant_id: str,
    actor: Principal | str,
    subject_ref: str,
    purpose: Purpose,
    decision: Decision,
    occurred_at: datetime,
    capture: Capture,
    evidence: Evidence,
    clock: Clock,
    service: str,
) -> ConsentRecord:
    """Append one decision, move the projection if it is the newest, stage its event and audit it."""
    now = clock.now()
    previous = (
        await session.exec(
            select(ConsentState.decision)
            .where(
                ConsentState.tenant_id == tenant_id,
                ConsentState.subject_ref == subject_ref,
                ConsentState.purpose == purpose.key,
            )
            .with_for_update()
        )
    ).first()
    expires_at = consent_expiry(occurred_at, purpose.validity) if decision is Decision.GRANTED else None
    record = ConsentRecord(
        tenant_id=tenant_id,
        subject_ref=subject_ref,
        purpose=purpose.key,
        decision=decision.value,
        channel=capture.channel,
        collector=capture.collector,
        source=capture.source,
        occurred_at=occurred_at,
        recorded_at=now,
        expires_at=expires_at,
        notice_version=evidence.notice_version,
        notice_text_hash=evidence.notice_text_hash,
        proof=capture.proof,
        tc_string=evidence.tc_string,
        guardian=evidence.guardian,
    )
    session.add(record)
    await upsert_states(session, [state_row(record, now)])
    renewed = decision is Decision.GRANTED and previous == Decision.GRANTED.value
    event_type = ConsentRenewed if renewed else EVENTS[decision]
    await stage(
        session,
        event_type(
            consent_id=record.id,
            subject_ref=subject_ref,
            purpose=purpose.key,
            decision=decision.value,
            occurred_at=occurred_at,
            expires_at=expires_at,
            notice_version=str(evidence.notice_version) if evidence.notice_version else None,
        ),
        tenant_id=tenant_id,
        subject=subject_ref,
        clock=clock,
        service=service,
    )
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="consent.renewed" if renewed else f"consent.{decision.value}",
        entity_type="consent_record",
        entity_id=record.id,
        clock=clock,
        detail={"purpose": purpose.key, "subject_ref": subject_ref, "source": capture.source},
    )
    return record


def state_row(record: ConsentRecord, now: datetime) -> dict[str, Any]:
    """The projection row a record would put in force."""
    return {
        "tenant_id": record.tenant_id,
        "subject_ref": record.subject_ref,
        "purpose": record.purpose,
        "decision": record.decision,
        "decided_at": record.occurred_at,
        "rank": RANK[Decision(record.decision)],
        "expires_at": record.expires_at,
        "expired": False,
        "notice_version": record.notice_version,
        "record_id": record.id,
        "updated_at": now,
    }


def _upsert_state_statement() -> Any:
    statement = insert(STATE_TABLE)  # Core, not the ORM bulk path: one cached statement, executemany for several
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[STATE.tenant_id, STATE.subject_ref, STATE.purpose],
        set_={
            name: excluded[name]
            for name in ("decision", "decided_at", "rank", "expires_at", "expired", "notice_version", "record_id")
        }
        | {"updated_at": excluded.updated_at},
        where=tuple_(STATE.decided_at, STATE.rank) <= tuple_(excluded.decided_at, excluded.rank),
    )


# Built once: the same statement object is compiled once and cached, whatever the number of rows.
UPSERT_STATE = _upsert_state_statement()


async def upsert_states(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Put rows in force unless a later (or, at the same instant, stronger) decision already is (one statement)."""
    if not rows:
        return
    await session.exec(UPSERT_STATE, params=rows)
