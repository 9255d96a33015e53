"""Checks as of an instant in the past (audits); checks as of now are in ``hot/``.

A past check is judged as it would have been then: the records made up to that instant, the
purpose's rules in force at that instant (``purpose_rules_version``), and the subject's restriction,
objection and erasure flags as they stood (``subject_flag_change``). Rules and flags older than
their history fall back to the oldest known (the catalogue row, no flag).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select

from services.consent.domain import ConsentRecord, Decision, PurposeRules, evaluate
from services.consent.domain.lawful_basis import OBJECTABLE
from services.consent.models import ConsentRecord as RecordRow
from services.consent.service import Uow
from services.consent.service.common import load_purposes, rules_of
from services.consent.service.hot.checks import PurposeAnswer

RULES_AT = text(
    """
    SELECT DISTINCT ON (key) key, lawful_basis, validity, gpc_covered, direct_marketing, renewal_required_since
    FROM purpose_rules_version
    WHERE tenant_id = :tenant AND key = ANY(:keys) AND valid_from <= :at
    ORDER BY key, valid_from DESC
    """
)
FLAGS_AT = text(
    """
    SELECT restricted, objected, erased_at FROM subject_flag_change
    WHERE tenant_id = :tenant AND subject_ref = :ref AND at <= :at
    ORDER BY at DESC, id DESC LIMIT 1
    """
)


async def check_at(uow: Uow, ref: str, purposes: list[str], at: datetime) -> list[PurposeAnswer]:
    """Answer for each purpose as of ``at``: the records, the rules and the subject's flags of that instant."""
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
    params = {"tenant": uow.tenant_id, "keys": keys, "at": at}
    rules = {key: rules_of(purpose) for key, purpose in catalogue.items()}
    for row in (await uow.session.execute(RULES_AT, params)).mappings():
        rules[row["key"]] = PurposeRules.parse(
            row["key"],
            lawful_basis=row["lawful_basis"],
            validity=row["validity"],
            renewal_required_since=row["renewal_required_since"],
            gpc_covered=row["gpc_covered"],
            direct_marketing=row["direct_marketing"],
        )
    flags = (await uow.session.execute(FLAGS_AT, {"tenant": uow.tenant_id, "ref": ref, "at": at})).first()
    restricted, objected, erased_at = (bool(flags[0]), bool(flags[1]), flags[2]) if flags else (False, False, None)
    answers = []
    for key in keys:
        rule = rules[key]
        # As for a check now: an objection covers legitimate interest, public task and direct marketing, and an
        # erased person stays out of direct marketing (the suppression entry).
        covered = rule.direct_marketing or rule.lawful_basis in OBJECTABLE
        objects = (covered and objected) or (erased_at is not None and rule.direct_marketing)
        answers.append(PurposeAnswer(key, evaluate(history[key], rule, at, restricted=restricted, objected=objects)))
    return answers
