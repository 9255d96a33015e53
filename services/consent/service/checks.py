"""Checks as of an instant in the past, from the records themselves (audits); checks as of now are in ``hot/``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from services.consent.domain import ConsentRecord, Decision, evaluate
from services.consent.models import ConsentRecord as RecordRow
from services.consent.service import Uow
from services.consent.service.common import load_purposes, rules_of
from services.consent.service.hot.checks import PurposeAnswer


async def check_at(uow: Uow, ref: str, purposes: list[str], at: datetime) -> list[PurposeAnswer]:
    """Answer for each purpose as of ``at``, from the records then (restriction and objection flags keep no history)."""
    keys = list(dict.fromkeys(purposes))
    catalogue = await load_purposes(uow, keys)
    rows = await uow.session.exec(
        select(RecordRow).where(
            RecordRow.tenant_id == uow.tenant_id,
            RecordRow.subject_ref == ref,
            col(RecordRow.purpose).in_(keys),
            col(RecordRow.occurred_at) <= at,
        )
    )
    history: dict[str, list[ConsentRecord]] = {key: [] for key in keys}
    for r in rows.all():
        history[r.purpose].append(ConsentRecord(r.purpose, Decision(r.decision), r.occurred_at, r.notice_version))
    # Restriction and objection flags keep no history; the records do, and an objection left withdrawal records.
    return [
        PurposeAnswer(key, evaluate(history[key], rules_of(catalogue[key]), at, restricted=False, objected=False))
        for key in keys
    ]
