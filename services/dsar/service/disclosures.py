"""Disclosures of a person's data to recipients outside the tenant, as other privops services report them.

The subprocessor service records what it hands to a public authority on its demand; an access request
then names that recipient, its country and what it received (GDPR Art. 15(1)(c): "the recipients … to
whom the personal data have been or will be disclosed, in particular recipients in third countries",
https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.dsar.models import SubjectDisclosure
from services.dsar.service import Uow
from shared.events.catalogue.subprocessor import PersonalDataDisclosed


async def record_disclosure(uow: Uow, event: PersonalDataDisclosed, source: str) -> None:
    """Keep a reported disclosure (once: a redelivered event is the same disclosure)."""
    await uow.session.exec(
        insert(SubjectDisclosure)
        .values(
            tenant_id=uow.tenant_id,
            subject_ref=event.subject_ref,
            disclosure_id=event.disclosure_id,
            recipient=event.recipient,
            recipient_country=event.recipient_country,
            categories=sorted(event.categories),
            disclosed_at=event.disclosed_at,
            source=source,
            reference=str(event.demand_id),
            recorded_at=uow.now(),
        )
        .on_conflict_do_nothing()
    )


async def disclosures_of(uow: Uow, subject_refs: Sequence[str]) -> list[SubjectDisclosure]:
    """The disclosures of the given subject references in the tenant, oldest first."""
    rows = await uow.session.exec(
        select(SubjectDisclosure)
        .where(col(SubjectDisclosure.tenant_id) == uow.tenant_id, col(SubjectDisclosure.subject_ref).in_(subject_refs))
        .order_by(col(SubjectDisclosure.disclosed_at))
    )
    return list(rows.all())
