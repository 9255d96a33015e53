"""The consent service's evidence: the purposes, every notice version published, and counts of decisions.

A controller shows that people consented, to what and under which notice (GDPR Art. 7(1) and 5(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Decisions are counted, never listed: each one's
proof stays in the consent service and its receipt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from services.consent.models import ConsentRecord, ConsentState, NoticeVersion, Purpose
from services.consent.service import Uow
from shared.runtime.evidence import counted, within


async def purposes_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The purpose catalogue with the lawful basis of each, and every notice version published (by text hash)."""
    mine = uow.tenant_id
    purposes = (
        await uow.session.exec(select(Purpose).where(col(Purpose.tenant_id) == mine).order_by(col(Purpose.key)))
    ).all()
    notices = (
        await uow.session.exec(
            select(NoticeVersion)
            .where(col(NoticeVersion.tenant_id) == mine, col(NoticeVersion.published_at) < until)
            .order_by(col(NoticeVersion.purpose), col(NoticeVersion.version))
        )
    ).all()
    return {
        "purposes": [
            {
                "key": p.key,
                "name": p.name,
                "lawful_basis": p.lawful_basis,
                "data_categories": p.data_categories,
                "validity": p.validity,
                "min_age": p.min_age,
                "direct_marketing": p.direct_marketing,
                "current_notice_version": p.current_notice_version,
                "renewal_required_since": p.renewal_required_since,
                "notice_versions": [
                    {
                        "version": n.version,
                        "text_hash": n.text_hash,
                        "url": n.url,
                        "language": n.language,
                        "material": n.material,
                        "published_at": n.published_at,
                        "expires_at": n.expires_at,
                    }
                    for n in notices
                    if n.purpose == p.key
                ],
            }
            for p in purposes
        ]
    }


async def decisions_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Decisions recorded in the period by purpose, decision, notice version and source; the decisions in force now."""
    mine = col(ConsentRecord.tenant_id) == uow.tenant_id
    columns = (ConsentRecord.purpose, ConsentRecord.decision, ConsentRecord.notice_version, ConsentRecord.source)
    recorded = (
        await uow.session.exec(
            select(*columns, func.count())  # type: ignore[call-overload]
            .where(mine, within(ConsentRecord.occurred_at, since, until))
            .group_by(*columns)
            .order_by(*columns)
        )
    ).all()
    in_force = (
        await uow.session.exec(
            select(ConsentState.purpose, ConsentState.decision, func.count())
            .where(col(ConsentState.tenant_id) == uow.tenant_id, col(ConsentState.expired).is_(False))
            .group_by(col(ConsentState.purpose), col(ConsentState.decision))
            .order_by(col(ConsentState.purpose), col(ConsentState.decision))
        )
    ).all()
    return {
        "recorded_in_period": sum(int(row[-1]) for row in recorded),
        "by_purpose_decision_notice_source": counted(recorded),
        "in_force_by_purpose_decision": counted(in_force),
    }


EVIDENCE = [purposes_evidence, decisions_evidence]
