"""Use cases behind the consent endpoints: record a decision, withdraw in one call, capture a GPC signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from services.consent.domain import Decision, gpc_denials, gpc_signal
from services.consent.models import ConsentRecord, ConsentState
from services.consent.schemas.consents import ConsentIn, ProofIn, WithdrawIn
from services.consent.service import Uow
from services.consent.service.common import all_purposes, hash_ip, resolve_subject, rules_of
from services.consent.service.hot.cache import PurposeSnapshot, purposes_for_write, snapshot_of
from services.consent.service.recording import (
    Capture,
    Evidence,
    append_decision,
    check_child,
    check_tc_string,
    new_record,
    resolve_notice,
)
from shared.rules.clock import Clock, ensure_utc
from shared.rules.errors import Unprocessable
from shared.runtime.settings import ServiceSettings

GPC_PROOF = {"gpc": "Sec-GPC: 1"}


def proof_of(settings: ServiceSettings, proof: ProofIn) -> dict[str, str]:
    """The proof to store: the IP replaced by its keyed hash, empty fields dropped."""
    values = proof.model_dump(exclude_none=True)
    ip = values.pop("ip", None)
    if ip:
        values["ip_hash"] = hash_ip(settings, ip)
    return values


@dataclass(frozen=True)
class DecisionRequest:
    """A decision as asked for, before the purpose's rules are applied to it."""

    subject_ref: str
    decision: Decision
    occurred_at: datetime
    capture: Capture
    body: ConsentIn

    @classmethod
    def of(cls, body: ConsentIn, settings: ServiceSettings, clock: Clock, *, tenant: str) -> DecisionRequest:
        """Resolve the subject and the instant of the decision (a decision cannot come from the future)."""
        now = clock.now()
        occurred_at = ensure_utc(body.occurred_at) if body.occurred_at else now
        if occurred_at > now:
            raise Unprocessable("occurred_at is in the future.", errors=[{"field": "occurred_at"}])
        capture = Capture(body.channel, body.collector, proof_of(settings, body.proof))
        return cls(resolve_subject(settings, body, tenant=tenant), Decision(body.decision), occurred_at, capture, body)

    def evidence(self, rules: PurposeSnapshot) -> Evidence:
        """Check the notice, the TC string and Art. 8 under ``rules``; return what the record keeps."""
        body = self.body
        version, text = resolve_notice(rules, body.notice_version, body.notice_text_hash, self.occurred_at)
        check_tc_string(rules, self.decision, body.tc_string)
        age = body.birth_date or body.age
        guardian = check_child(rules, self.decision, self.occurred_at, body.country, age, body.guardian)
        return Evidence(version, text, body.tc_string, guardian)

    def record(self, tenant_id: str, rules: PurposeSnapshot, recorded_at: datetime) -> ConsentRecord:
        """The record of this decision under ``rules``."""
        shown = self.evidence(rules)
        return new_record(
            tenant_id, self.subject_ref, rules, self.decision, self.occurred_at, self.capture, shown, recorded_at
        )


async def record_consent(uow: Uow, body: ConsentIn) -> ConsentRecord:
    """Validate a decision against the catalogue, its notice, TCF and Art. 8 rules, then append it."""
    request = DecisionRequest.of(body, uow.settings, uow.clock, tenant=uow.tenant_id)
    purpose = (await purposes_for_write(uow, [body.purpose]))[body.purpose]
    return await append_decision(
        uow,
        subject_ref=request.subject_ref,
        purpose=purpose,
        decision=request.decision,
        occurred_at=request.occurred_at,
        capture=request.capture,
        evidence=request.evidence,
    )


async def capture_gpc(
    uow: Uow, ref: str, sec_gpc: str | None, capture: Capture, *, skip: str | None = None
) -> list[ConsentRecord]:
    """Record opt-outs for GPC-covered purposes when ``Sec-GPC: 1`` is present; an absent header changes nothing."""
    if not gpc_signal(sec_gpc):
        return []  # no header: the browser expressed nothing, neither an opt-out nor a consent
    now = uow.now()
    purposes = {p.key: snapshot_of(p) for p in await all_purposes(uow) if p.key != skip}
    denials = gpc_denials(sec_gpc, [rules_of(p) for p in purposes.values()], now)
    if not denials:
        return []
    in_force = await current_decisions(uow, ref, [d.purpose for d in denials])
    records = []
    for denial in denials:
        if in_force.get(denial.purpose) in (Decision.DENIED.value, Decision.WITHDRAWN.value):
            continue  # already opted out: a signal repeated on every request records nothing new
        records.append(
            await append_decision(
                uow,
                subject_ref=ref,
                purpose=purposes[denial.purpose],
                decision=Decision.DENIED,
                occurred_at=now,
                capture=Capture(capture.channel, capture.collector, capture.proof | GPC_PROOF, source="gpc"),
            )
        )
    return records


async def withdraw(uow: Uow, body: WithdrawIn) -> tuple[str, list[ConsentRecord]]:
    """Withdraw the named purposes, or every purpose currently granted, in one call."""
    ref = resolve_subject(uow.settings, body, tenant=uow.tenant_id)
    capture = Capture(body.channel, body.collector, proof_of(uow.settings, body.proof))
    return ref, await withdraw_purposes(uow, ref, body.purposes, capture)


async def withdraw_purposes(uow: Uow, ref: str, keys: list[str] | None, capture: Capture) -> list[ConsentRecord]:
    """Append withdrawals for ``keys`` (or for every purpose in force as granted when ``keys`` is None)."""
    if keys is None:
        granted = await current_decisions(uow, ref, None)
        keys = sorted(k for k, decision in granted.items() if decision == Decision.GRANTED.value)
    purposes = await purposes_for_write(uow, keys)
    now = uow.now()
    return [
        await append_decision(
            uow,
            subject_ref=ref,
            purpose=purposes[key],
            decision=Decision.WITHDRAWN,
            occurred_at=now,
            capture=capture,
        )
        for key in keys
    ]


async def current_decisions(uow: Uow, ref: str, keys: list[str] | None) -> dict[str, str]:
    """The decision in force per purpose for a subject (from the projection)."""
    statement = select(ConsentState.purpose, ConsentState.decision).where(
        ConsentState.tenant_id == uow.tenant_id, ConsentState.subject_ref == ref
    )
    if keys is not None:
        statement = statement.where(col(ConsentState.purpose).in_(keys))
    return {purpose: decision for purpose, decision in (await uow.session.exec(statement)).all()}
