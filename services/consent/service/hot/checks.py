"""The consent check as of now: one primary-key lookup per purpose, in one round trip.

No audit write and no ORM on this path: the direct pool runs one prepared statement that joins
the purposes asked for, their projection rows and the subject's flags. The projection is written
in the same transaction as each record, so a committed withdrawal is seen by the next check on
any replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.consent.domain import CheckResult, ConsentRecord, Decision, PurposeRules, UnknownPurpose, evaluate
from services.consent.domain.lawful_basis import OBJECTABLE
from services.consent.schemas.consents import CheckOut, CheckResultOut

MAX_PURPOSES = 100  # purposes one check may ask about

CHECK_SQL = """
SELECT q.key, p.lawful_basis, p.validity, p.renewal_required_since, p.gpc_covered, p.direct_marketing,
       s.decision, s.decided_at, s.notice_version, f.restricted, f.objected, f.erased_at
FROM unnest($3::text[]) WITH ORDINALITY AS q(key, ord)
LEFT JOIN purpose p ON p.tenant_id = $1 AND p.key = q.key
LEFT JOIN consent_state s ON s.tenant_id = $1 AND s.subject_ref = $2 AND s.purpose = q.key
LEFT JOIN subject_status f ON f.tenant_id = $1 AND f.subject_ref = $2
ORDER BY q.ord
"""


@dataclass(frozen=True, slots=True)
class PurposeAnswer:
    """A check result for one purpose."""

    purpose: str
    result: CheckResult


async def check_now(
    pool: asyncpg.Pool, tenant_id: str, ref: str, purposes: list[str], now: datetime
) -> list[PurposeAnswer]:
    """Answer for each purpose from the projection, as of now (``UnknownPurpose`` for one not in the catalogue)."""
    keys = list(dict.fromkeys(purposes))
    async with pool.acquire() as conn:
        rows = await conn.fetch(CHECK_SQL, tenant_id, ref, keys)
    return [_answer(row, now) for row in rows]


def _answer(row: Any, now: datetime) -> PurposeAnswer:
    key = row["key"]
    if row["lawful_basis"] is None:
        raise UnknownPurpose("purposes", f"{key!r} is not in this tenant's purpose catalogue")
    rules = PurposeRules.parse(
        key,
        lawful_basis=row["lawful_basis"],
        validity=row["validity"],
        renewal_required_since=row["renewal_required_since"],
        gpc_covered=row["gpc_covered"],
        direct_marketing=row["direct_marketing"],
    )
    record = None
    if row["decision"] is not None:
        record = ConsentRecord(key, Decision(row["decision"]), row["decided_at"], row["notice_version"])
    # A DSAR objection covers legitimate interest, public task and direct marketing, not other consents;
    # an erased person stays out of direct marketing (the suppression entry).
    covered = rules.direct_marketing or rules.lawful_basis in OBJECTABLE
    objected = (covered and bool(row["objected"])) or (row["erased_at"] is not None and rules.direct_marketing)
    return PurposeAnswer(key, evaluate(record, rules, now, restricted=bool(row["restricted"]), objected=objected))


def check_out(subject_ref: str, at: datetime, answers: list[PurposeAnswer]) -> CheckOut:
    """The answer of a check, as the route and the hot path both give it."""
    results = [
        CheckResultOut(
            purpose=a.purpose,
            allowed=a.result.allowed,
            reason=a.result.reason,
            decided_at=a.result.decided_at,
            expires_at=a.result.expires_at,
            detail=a.result.detail,
        )
        for a in answers
    ]
    return CheckOut(subject_ref=subject_ref, at=at, results=results)
