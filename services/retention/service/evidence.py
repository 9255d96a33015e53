"""The retention service's evidence: systems and categories, policies, sweeps with their counts, legal holds.

Storage limitation is shown by the policies in force and by the sweeps that ran with what each store
deleted (GDPR Art. 5(1)(e) and 5(2), https://eur-lex.europa.eu/eli/reg/2016/679/oj). A hold is listed
by what it covers, never by the person: ``on_person`` says whether it is about one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from services.retention.models import DataSystem, LegalHoldRow, PolicyVersion, SweepRun, SystemCategory
from services.retention.service import Uow
from shared.runtime.evidence import within


async def systems_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Each system retention knows, the categories of data it holds and when each was last and is next swept."""
    mine = uow.tenant_id
    systems = (
        await uow.session.exec(
            select(DataSystem).where(col(DataSystem.tenant_id) == mine).order_by(col(DataSystem.key))
        )
    ).all()
    categories = (
        await uow.session.exec(
            select(SystemCategory)
            .where(col(SystemCategory.tenant_id) == mine)
            .order_by(col(SystemCategory.system), col(SystemCategory.category))
        )
    ).all()
    return {
        "systems": [
            {
                "key": s.key,
                "description": s.description,
                "categories": [
                    {"category": c.category, "last_sweep_at": c.last_sweep_at, "next_sweep_at": c.next_sweep_at}
                    for c in categories
                    if c.system == s.key
                ],
            }
            for s in systems
        ]
    }


async def policies_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The policy versions in force at some time in the period (current ones, and those superseded in it)."""
    rows = (
        await uow.session.exec(
            select(PolicyVersion)
            .where(
                col(PolicyVersion.tenant_id) == uow.tenant_id,
                col(PolicyVersion.created_at) < until,
                or_(col(PolicyVersion.superseded_at).is_(None), col(PolicyVersion.superseded_at) >= since),
            )
            .order_by(col(PolicyVersion.category), col(PolicyVersion.scope_key), col(PolicyVersion.version))
        )
    ).all()
    return {
        "policies": [
            {
                "policy_id": str(p.policy_id),
                "version": p.version,
                "current": p.is_current,
                "category": p.category,
                "system": p.system,
                "purpose": p.purpose,
                "period": p.period,
                "clock_start": p.clock_start,
                "action": p.action,
                "archive_period": p.archive_period,
                "grace_period": p.grace_period,
                "legal_reference": p.legal_reference,
                "source": p.source,
                "in_force_from": p.created_at,
                "superseded_at": p.superseded_at,
            }
            for p in rows
        ]
    }


async def sweeps_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The sweeps requested in the period: which system and category, the answer's counts; totals by status."""
    rows = (
        await uow.session.exec(
            select(SweepRun)
            .where(col(SweepRun.tenant_id) == uow.tenant_id, within(SweepRun.requested_at, since, until))
            .order_by(col(SweepRun.requested_at), col(SweepRun.id))
        )
    ).all()
    return {
        "by_status": dict(sorted(Counter(s.status for s in rows).items())),
        "sweeps": [
            {
                "sweep_id": str(s.id),
                "kind": s.kind,
                "system": s.system,
                "category": s.category,
                "purpose": s.purpose,
                "action": s.action,
                "cutoff": s.cutoff,
                "policy_id": str(s.policy_id) if s.policy_id else None,
                "policy_version": s.policy_version,
                "subjects": s.subject_count,
                "held_subjects": len(s.held_subject_refs),
                "hold_ids": s.hold_ids,
                "status": s.status,
                "requested_at": s.requested_at,
                "completed_at": s.completed_at,
                "escalated_at": s.escalated_at,
                "counts": s.counts,
            }
            for s in rows
        ],
    }


async def legal_holds_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The holds standing at some time in the period: what they cover and why, when placed and released."""
    rows = (
        await uow.session.exec(
            select(LegalHoldRow)
            .where(
                col(LegalHoldRow.tenant_id) == uow.tenant_id,
                col(LegalHoldRow.placed_at) < until,
                or_(col(LegalHoldRow.released_at).is_(None), col(LegalHoldRow.released_at) >= since),
            )
            .order_by(col(LegalHoldRow.placed_at))
        )
    ).all()
    return {
        "holds": [
            {
                "hold_id": str(h.id),
                "on_person": h.subject_ref is not None,
                "category": h.category,
                "system": h.system,
                "matter": h.matter,
                "placed_at": h.placed_at,
                "released_at": h.released_at,
            }
            for h in rows
        ]
    }


EVIDENCE = [systems_evidence, policies_evidence, sweeps_evidence, legal_holds_evidence]
