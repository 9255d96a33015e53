"""Recording decisions: the append-only record, the projection, the event and the audit entry, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.consent.domain import (
    Decision,
    TcfPurposeNotConsented,
    UnknownNoticeVersion,
    consent_expiry,
    decode_tc_string,
    validate_child_consent,
)
from services.consent.domain.notices import check_in_force, check_text_hash
from services.consent.models import ConsentRecord
from services.consent.service import Uow
from services.consent.service.hot.cache import PurposeSnapshot, purposes_for_write
from services.consent.service.hot.write import write_decision


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


NO_EVIDENCE = Evidence()


def resolve_notice(
    purpose: PurposeSnapshot, version: int | None, shown_hash: str | None, at: datetime
) -> tuple[int | None, str | None]:
    """The notice version a decision rests on and its text hash; refuse unknown or expired versions."""
    notices = purpose.notices
    if version is None:
        if purpose.current_notice_version is None:
            return None, None  # this purpose has no published notice yet
        published = [n for n in notices if n.published_at <= at]
        if not published:
            raise UnknownNoticeVersion("notice_version", "no notice version was published at the time of the decision")
        version = published[-1].version
    rows = [n for n in notices if n.version >= version][:2]
    if not rows or rows[0].version != version:
        raise UnknownNoticeVersion("notice_version", f"version {version} of {purpose.key!r} was never published")
    notice = rows[0]
    superseded_at = rows[1].published_at if len(rows) > 1 else None
    check_in_force(
        version, at, published_at=notice.published_at, superseded_at=superseded_at, expires_at=notice.expires_at
    )
    return version, check_text_hash(version, shown_hash, notice.text_hash)


def check_tc_string(purpose: PurposeSnapshot, decision: Decision, tc_string: str | None) -> None:
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
    purpose: PurposeSnapshot, decision: Decision, at: datetime, country: str | None, age: Any, guardian: Any
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


def new_record(
    tenant_id: str,
    subject_ref: str,
    purpose: PurposeSnapshot,
    decision: Decision,
    occurred_at: datetime,
    capture: Capture,
    shown: Evidence,
    recorded_at: datetime,
) -> ConsentRecord:
    """The record of a decision under ``purpose``'s rules (its expiry computed from the purpose's validity)."""
    expires_at = consent_expiry(occurred_at, purpose.validity) if decision is Decision.GRANTED else None
    return ConsentRecord(
        tenant_id=tenant_id,
        subject_ref=subject_ref,
        purpose=purpose.key,
        decision=decision.value,
        channel=capture.channel,
        collector=capture.collector,
        source=capture.source,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        expires_at=expires_at,
        notice_version=shown.notice_version,
        notice_text_hash=shown.notice_text_hash,
        proof=capture.proof,
        tc_string=shown.tc_string,
        guardian=shown.guardian,
    )


async def append_decision(
    uow: Uow,
    *,
    subject_ref: str,
    purpose: PurposeSnapshot,
    decision: Decision,
    occurred_at: datetime,
    capture: Capture,
    evidence: Evidence | Callable[[PurposeSnapshot], Evidence] = NO_EVIDENCE,
) -> ConsentRecord:
    """Append one decision, move the projection if it is the newest, stage its event and audit it.

    One statement (``hot/write.py``) after the transaction's BEGIN. ``evidence`` may be a function of the
    purpose's rules (notice, TCF, Art. 8 checks): if the cached rules turn out to be stale, the rules
    in force are read again, locked, and the evidence is checked again under them.
    """
    locked = False
    while True:
        shown = evidence(purpose) if callable(evidence) else evidence
        record = new_record(uow.tenant_id, subject_ref, purpose, decision, occurred_at, capture, shown, uow.now())
        if await write_decision(uow, record, purpose.revision):
            return record
        if locked:  # cannot happen: the purpose row is share-locked by this transaction
            raise RuntimeError(f"purpose {purpose.key!r} changed while locked")
        purpose = (await purposes_for_write(uow, [purpose.key], lock=True))[purpose.key]
        locked = True
