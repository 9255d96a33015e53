"""Retention policies per tenant: create, version, install the default pack, find the one that applies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from services.retention.domain import (
    DEFAULT_POLICY_PACK,
    NoApplicablePolicy,
    RetentionPolicy,
    build_policy,
    parse_period,
    select_policy,
)
from services.retention.models import PolicyVersion
from services.retention.service import Uow
from shared.events.catalogue.retention import RetentionPolicyChanged
from shared.rules.errors import Conflict, NotFound, Unprocessable
from shared.runtime.repository import find_in


@dataclass(frozen=True)
class PolicySpec:
    """A policy in its text form, as the API (or the default pack) gives it."""

    category: str
    period: str
    clock_start: str
    action: str
    legal_reference: str
    system: str | None = None
    purpose: str | None = None
    archive_period: str | None = None
    clock_not_before: str | None = None
    grace_period: str | None = None

    def validated(self, version: int = 1) -> RetentionPolicy:
        """The domain policy, or a DomainError (422) naming the bad field; nothing is stored before this."""
        if self.grace_period is not None:
            parse_period(self.grace_period, "grace period")
        return build_policy(
            self.category,
            self.period,
            self.clock_start,
            self.action,
            self.legal_reference,
            system=self.system,
            purpose=self.purpose,
            archive_period=self.archive_period,
            clock_not_before=self.clock_not_before,
            version=version,
        )


@dataclass(frozen=True)
class Applicable:
    """The policy that applies to some data, and its stored version (None: the default pack, not installed)."""

    policy: RetentionPolicy
    row: PolicyVersion | None


def scope_key(category: str, system: str | None, purpose: str | None) -> str:
    """The identity of a policy inside a tenant: category, system and purpose."""
    return f"{category}|{system or ''}|{purpose or ''}"


def to_domain(row: PolicyVersion) -> RetentionPolicy:
    """The pure policy of a stored version."""
    return build_policy(
        row.category,
        row.period,
        row.clock_start,
        row.action,
        row.legal_reference,
        system=row.system,
        purpose=row.purpose,
        archive_period=row.archive_period,
        clock_not_before=row.clock_not_before,
        version=row.version,
    )


def spec_of(policy: RetentionPolicy) -> PolicySpec:
    """The text form of a pure policy (used to install the default pack)."""
    return PolicySpec(
        category=policy.category.value,
        period=policy.period.isoformat(),
        clock_start=policy.clock_start.value,
        action=policy.action.value,
        legal_reference=policy.legal_reference,
        system=policy.system,
        purpose=policy.purpose,
        archive_period=policy.archive_period.isoformat() if policy.archive_period else None,
        clock_not_before=policy.clock_not_before.value if policy.clock_not_before else None,
    )


async def current_policies(uow: Uow, category: str | None = None) -> list[PolicyVersion]:
    """The tenant's current policy versions, optionally of one category."""
    statement = select(PolicyVersion).where(
        col(PolicyVersion.tenant_id) == uow.tenant_id, col(PolicyVersion.is_current).is_(True)
    )
    if category is not None:
        statement = statement.where(col(PolicyVersion.category) == category)
    rows = await uow.session.exec(statement.order_by(col(PolicyVersion.category), col(PolicyVersion.scope_key)))
    return list(rows.all())


async def policy_versions(uow: Uow, policy_id: uuid.UUID) -> list[PolicyVersion]:
    """Every version of one policy, oldest first; NotFound for another tenant's policy."""
    rows = await find_in(uow, PolicyVersion, "policy_id", [policy_id], order_by=("version",))
    if not rows:
        raise NotFound(f"No retention policy {policy_id}.")
    return rows


def applicable(
    rows: Sequence[PolicyVersion], category: str, system: str | None = None, purpose: str | None = None
) -> Applicable | None:
    """The tenant's most specific policy for the data, else None (no installed policy covers it)."""
    domain = [to_domain(row) for row in rows]
    by_policy = {id(policy): row for policy, row in zip(domain, rows, strict=True)}
    try:
        chosen = select_policy(domain, category, system, purpose)
    except NoApplicablePolicy:
        return None
    return Applicable(chosen, by_policy[id(chosen)])


async def applicable_or_default(
    uow: Uow, category: str, system: str | None = None, purpose: str | None = None
) -> Applicable:
    """The tenant's policy for the data, falling back to the default pack when the tenant has none for it."""
    found = applicable(await current_policies(uow, category), category, system, purpose)
    return found or Applicable(select_policy(DEFAULT_POLICY_PACK, category, system, purpose), None)


async def _store(
    uow: Uow,
    spec: PolicySpec,
    *,
    policy_id: uuid.UUID | None = None,
    version: int = 1,
    source: str = "custom",
) -> PolicyVersion:
    policy = spec.validated(version)
    row = PolicyVersion(
        policy_id=policy_id or uuid.uuid4(),
        version=version,
        tenant_id=uow.tenant_id,
        scope_key=scope_key(policy.category.value, policy.system, policy.purpose),
        category=policy.category.value,
        system=policy.system,
        purpose=policy.purpose,
        period=policy.period.isoformat(),
        clock_start=policy.clock_start.value,
        action=policy.action.value,
        archive_period=policy.archive_period.isoformat() if policy.archive_period else None,
        clock_not_before=policy.clock_not_before.value if policy.clock_not_before else None,
        grace_period=parse_period(spec.grace_period, "grace period").isoformat() if spec.grace_period else None,
        legal_reference=policy.legal_reference.strip(),
        source=source,
        created_by=uow.actor,
        created_at=uow.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    await uow.stage(
        RetentionPolicyChanged(
            policy_id=row.policy_id,
            policy_version=row.version,
            category=row.category,
            system=row.system,
            purpose=row.purpose,
            period=row.period,
            action=row.action,
        ),
        str(row.policy_id),
    )
    detail: dict[str, Any] = {"version": version, "scope": row.scope_key, "period": row.period, "action": row.action}
    uow.audit("policy.created" if version == 1 else "policy.versioned", "retention_policy", row.policy_id, detail)
    return row


async def create_policy(uow: Uow, spec: PolicySpec) -> PolicyVersion:
    """Create a policy; a current policy with the same category, system and purpose is a conflict."""
    policy = spec.validated()
    key = scope_key(policy.category.value, policy.system, policy.purpose)
    existing = [row for row in await current_policies(uow) if row.scope_key == key]
    if existing:
        raise Conflict(
            f"A policy for this category, system and purpose exists ({existing[0].policy_id}); "
            "change it with PUT /v1/policies/{policy_id}.",
            policy_id=str(existing[0].policy_id),
        )
    return await _store(uow, spec)


async def new_version(uow: Uow, policy_id: uuid.UUID, spec: PolicySpec) -> PolicyVersion:
    """Give a policy a new version; the previous one is kept as evidence of what applied before."""
    versions = await policy_versions(uow, policy_id)
    current = versions[-1]
    policy = spec.validated(current.version + 1)
    if scope_key(policy.category.value, policy.system, policy.purpose) != current.scope_key:
        raise Unprocessable(
            "A new version keeps the policy's category, system and purpose; create another policy for another scope.",
            errors=[{"field": "category", "message": "differs from the policy being versioned"}],
        )
    current.is_current = False
    current.superseded_at = uow.now()
    uow.session.add(current)
    await uow.session.flush()
    return await _store(uow, spec, policy_id=policy_id, version=current.version + 1, source=current.source)


async def install_default_pack(uow: Uow) -> tuple[list[PolicyVersion], list[PolicyVersion]]:
    """Install the default policy pack for the caller's tenant: (installed, already present and kept)."""
    existing = {row.scope_key: row for row in await current_policies(uow)}
    installed: list[PolicyVersion] = []
    kept: list[PolicyVersion] = []
    for policy in DEFAULT_POLICY_PACK:
        spec = spec_of(policy)
        present = existing.get(scope_key(spec.category, spec.system, spec.purpose))
        if present is not None:
            kept.append(present)
            continue
        installed.append(await _store(uow, spec, source="default_pack"))
    return installed, kept
