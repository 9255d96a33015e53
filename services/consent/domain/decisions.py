"""Consent decisions, their expiry and renewal, and the pure answer to "may I use this data for purpose X?".

The latest record wins: a withdrawal recorded after a grant ends the grant, a new grant restarts the
validity clock ("renewed on each positive answer"). When two records carry the same instant the
refusal wins, because withdrawing must be at least as effective as giving (GDPR Art. 7(3)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from services.consent.domain.errors import InvalidConsentRecord, InvalidPurposeRules, InvalidTimestamp
from services.consent.domain.lawful_basis import LawfulBasis, default_decision, objection_applies, parse_lawful_basis
from shared.rules.durations import Duration, InvalidDuration, add_duration, parse_duration


class Decision(StrEnum):
    """What the person decided about one purpose."""

    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class CheckReason(StrEnum):
    """Why a check answered as it did."""

    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NEEDS_RENEWAL = "needs_renewal"
    RESTRICTED = "restricted"
    OBJECTED = "objected"
    # Answered from the purpose's lawful basis rather than from a consent record.
    NO_RECORD_DEFAULT = "no_record_default"


# At the same instant a refusal outranks a grant (see the module docstring).
_PRECEDENCE = {Decision.GRANTED: 0, Decision.DENIED: 1, Decision.WITHDRAWN: 2}
GPC_SOURCE = "gpc"


def require_aware(value: datetime, field: str) -> datetime:
    """Return the datetime in UTC, or raise ``InvalidTimestamp`` when it is naive."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTimestamp(field, "must be a timezone-aware datetime (UTC)")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PurposeRules:
    """How one purpose is checked: its lawful basis, validity, renewal threshold and GPC coverage."""

    purpose: str
    lawful_basis: LawfulBasis = LawfulBasis.CONSENT
    validity: Duration | None = None
    # Records given under a notice version below this one must be asked again.
    renewal_required_since: int | None = None
    # Purposes a Global Privacy Control signal opts out of (sale, sharing, targeted advertising).
    gpc_covered: bool = False
    direct_marketing: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            raise InvalidPurposeRules("purpose", "must be a non-empty purpose key")
        object.__setattr__(self, "lawful_basis", parse_lawful_basis(self.lawful_basis))
        if self.validity is not None and not isinstance(self.validity, Duration):
            raise InvalidPurposeRules("validity", "must be a Duration; use PurposeRules.parse for ISO 8601 text")
        if self.renewal_required_since is not None and (
            isinstance(self.renewal_required_since, bool)
            or not isinstance(self.renewal_required_since, int)
            or self.renewal_required_since < 1
        ):
            raise InvalidPurposeRules("renewal_required_since", "must be a notice version number of 1 or more")

    @classmethod
    def parse(
        cls,
        purpose: str,
        *,
        lawful_basis: LawfulBasis | str = LawfulBasis.CONSENT,
        validity: str | None = None,
        renewal_required_since: int | None = None,
        gpc_covered: bool = False,
        direct_marketing: bool = False,
    ) -> PurposeRules:
        """Build rules from plain configuration, with the validity as ISO 8601 text such as ``P3Y`` or ``P13M``."""
        try:
            duration = parse_duration(validity) if validity is not None else None
        except InvalidDuration as error:
            raise InvalidPurposeRules("validity", str(error)) from None
        return cls(
            purpose=purpose,
            lawful_basis=parse_lawful_basis(lawful_basis),
            validity=duration,
            renewal_required_since=renewal_required_since,
            gpc_covered=gpc_covered,
            direct_marketing=direct_marketing,
        )


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One decision a person made about one purpose, at one instant, under one notice version."""

    purpose: str
    decision: Decision
    decided_at: datetime
    notice_version: int | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            raise InvalidConsentRecord("purpose", "must be a non-empty purpose key")
        try:
            object.__setattr__(self, "decision", Decision(self.decision))
        except ValueError:
            known = ", ".join(d.value for d in Decision)
            raise InvalidConsentRecord("decision", f"unknown decision {self.decision!r}; use one of {known}") from None
        object.__setattr__(self, "decided_at", require_aware(self.decided_at, "decided_at"))
        version = self.notice_version
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise InvalidConsentRecord("notice_version", "must be a notice version number of 1 or more")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer to a consent check, with the record it rests on and when it stops holding."""

    allowed: bool
    reason: CheckReason
    decided_at: datetime | None
    expires_at: datetime | None
    detail: str


def consent_expiry(decided_at: datetime, validity: Duration | str | None) -> datetime | None:
    """Return when a grant made at ``decided_at`` lapses (``None`` if the purpose sets no validity)."""
    if validity is None:
        return None
    if isinstance(validity, str):
        try:
            validity = parse_duration(validity)
        except InvalidDuration as error:
            raise InvalidPurposeRules("validity", str(error)) from None
    return add_duration(require_aware(decided_at, "decided_at"), validity)


def decision_at(records: Iterable[ConsentRecord], at: datetime, *, purpose: str | None = None) -> ConsentRecord | None:
    """Return the record in force at ``at`` (the latest one made at or before it), optionally for one purpose."""
    at = require_aware(at, "at")
    candidates = (r for r in records if r.decided_at <= at and (purpose is None or r.purpose == purpose))
    return max(candidates, key=lambda r: (r.decided_at, _PRECEDENCE[r.decision]), default=None)


def needs_renewal(record: ConsentRecord, rules: PurposeRules) -> bool:
    """True when a grant was given under a notice version older than the purpose's renewal threshold."""
    if record.decision is not Decision.GRANTED or rules.renewal_required_since is None:
        return False
    # A grant with no known notice version cannot prove it saw the current notice.
    return record.notice_version is None or record.notice_version < rules.renewal_required_since


def evaluate(
    records: ConsentRecord | Sequence[ConsentRecord] | None,
    rules: PurposeRules,
    now: datetime,
    *,
    restricted: bool,
    objected: bool,
) -> CheckResult:
    """Answer whether the person's data may be used for the purpose now, and why."""
    now = require_aware(now, "now")
    history = [records] if isinstance(records, ConsentRecord) else (records or [])
    latest = decision_at(history, now, purpose=rules.purpose)
    basis = rules.lawful_basis
    if restricted:
        # Art. 18(2): restricted data may only be stored; the exceptions (legal claims, another
        # person's rights, important public interest) are for a human to apply, not the hot path.
        detail = "processing is restricted (GDPR Art. 18); only storage is allowed until the restriction is lifted"
        return CheckResult(False, CheckReason.RESTRICTED, _time(latest), None, detail)
    objectable = objection_applies(basis, direct_marketing=rules.direct_marketing)
    # For a purpose that does not rely on consent, a recorded refusal is how the person objected.
    refused_by_record = (
        basis is not LawfulBasis.CONSENT and latest is not None and latest.decision is not Decision.GRANTED
    )
    if objectable and (objected or refused_by_record):
        answer = default_decision(basis, objected=True, direct_marketing=rules.direct_marketing)
        return CheckResult(False, CheckReason.OBJECTED, _time(latest), None, answer.reason)
    if basis is not LawfulBasis.CONSENT or latest is None:
        answer = default_decision(basis, direct_marketing=rules.direct_marketing)
        return CheckResult(answer.allowed, CheckReason.NO_RECORD_DEFAULT, None, None, answer.reason)
    when = latest.decided_at.isoformat()
    if latest.decision is Decision.WITHDRAWN:
        return CheckResult(False, CheckReason.WITHDRAWN, latest.decided_at, None, f"consent was withdrawn at {when}")
    if latest.decision is Decision.DENIED:
        return CheckResult(False, CheckReason.DENIED, latest.decided_at, None, f"consent was refused at {when}")
    expires_at = consent_expiry(latest.decided_at, rules.validity)
    if expires_at is not None and now >= expires_at:
        detail = f"consent given at {when} expired at {expires_at.isoformat()}; ask again"
        return CheckResult(False, CheckReason.EXPIRED, latest.decided_at, expires_at, detail)
    if needs_renewal(latest, rules):
        detail = (
            f"consent was given under notice version {latest.notice_version}; "
            f"version {rules.renewal_required_since} or later is required, ask again"
        )
        return CheckResult(False, CheckReason.NEEDS_RENEWAL, latest.decided_at, expires_at, detail)
    return CheckResult(True, CheckReason.GRANTED, latest.decided_at, expires_at, f"consent was given at {when}")


def gpc_signal(sec_gpc: str | None) -> bool:
    """True only for a ``Sec-GPC: 1`` header; an absent or other value is no signal, and never consent."""
    return isinstance(sec_gpc, str) and sec_gpc.strip() == "1"


def gpc_covered_purposes(purposes: Iterable[PurposeRules]) -> list[PurposeRules]:
    """Return the purposes a Global Privacy Control signal opts the person out of."""
    return [rules for rules in purposes if rules.gpc_covered]


def gpc_denials(sec_gpc: str | None, purposes: Iterable[PurposeRules], now: datetime) -> list[ConsentRecord]:
    """Turn a ``Sec-GPC: 1`` signal into denial records for the covered purposes (none without the signal)."""
    now = require_aware(now, "now")
    if not gpc_signal(sec_gpc):
        # No header means the browser expressed nothing: it is neither an opt-out nor a consent.
        return []
    return [
        ConsentRecord(purpose=rules.purpose, decision=Decision.DENIED, decided_at=now, source=GPC_SOURCE)
        for rules in gpc_covered_purposes(purposes)
    ]


def _time(record: ConsentRecord | None) -> datetime | None:
    return record.decided_at if record is not None else None
