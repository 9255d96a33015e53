"""Addresses of the people affected, kept sealed and only as long as their notice needs them (GDPR Art. 34).

The register itself holds keyed subject references only. To tell people, the tenant attaches their
addresses: the service computes each reference from the address (so it matches the register and a
DSAR erasure finds it) and keeps the address sealed (AES-GCM, bound to the tenant, the incident and
the reference). It is read only by the notify service's claim, and purged once every delivery of
the notice to individuals has ended, or when the incident closes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, func, select, update

from services.breach.domain.incidents import require_open
from services.breach.models import AffectedContact, AffectedSubject, Incident
from services.breach.schemas import ContactIn, ContactsOut
from services.breach.service import Uow
from services.breach.service.timeline import note
from shared.rules.sealing import data_key, seal, unseal
from shared.rules.subjects import IdentifierKind, normalise_email, subject_ref
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.breach.contacts")
CHUNK = 2000


def _key(uow: Uow) -> bytes:
    return data_key(uow.settings.data_secret(), "breach")


def _context(tenant_id: str, incident_id: uuid.UUID, ref: str) -> bytes:
    return f"privops.breach.affected-contact|{tenant_id}|{incident_id}|{ref}".encode()


async def attach_contacts(uow: Uow, incident_id: uuid.UUID, contacts: list[ContactIn]) -> ContactsOut:
    """Attach people with their addresses: each one's reference goes to the register, the address sealed beside it."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    now, key, master = uow.now(), _key(uow), uow.settings.subject_hash_key.get_secret_value().encode()
    by_ref: dict[str, dict[str, Any]] = {}
    for contact in contacts:
        email = normalise_email(contact.email)
        ref = subject_ref(master, IdentifierKind.EMAIL, email, tenant=incident.tenant_id)
        by_ref[ref] = {"email": email, "name": contact.name, "locale": contact.locale}
    subjects = [
        {
            "id": uuid.uuid4(),
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "subject_ref": ref,
            "added_at": now,
        }
        for ref in by_ref
    ]
    new = 0
    for rows in chunks(subjects):
        added = await uow.session.exec(
            insert(AffectedSubject).values(rows).on_conflict_do_nothing().returning(col(AffectedSubject.id))
        )
        new += len(added.all())
    sealed = [
        {
            "id": uuid.uuid4(),
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "subject_ref": ref,
            "contact_enc": seal(key, value, context=_context(incident.tenant_id, incident.id, ref)),
            "added_at": now,
            "purged_at": None,
        }
        for ref, value in by_ref.items()
    ]
    for rows in chunks(sealed):
        statement = insert(AffectedContact).values(rows)
        # A newer address of the same person replaces the one kept (and revives it after a purge).
        await uow.session.exec(
            statement.on_conflict_do_update(
                constraint="incident_contact",
                set_={"contact_enc": statement.excluded.contact_enc, "added_at": now, "purged_at": None},
            )
        )
    total = int(
        (
            await uow.session.exec(
                select(func.count()).select_from(AffectedSubject).where(col(AffectedSubject.incident_id) == incident.id)
            )
        ).one()
    )
    reachable = await count_reachable(uow, incident.id)
    # Counts only: neither addresses nor references go to the timeline.
    note(
        uow,
        incident,
        "contacts.attached",
        {"added": new, "given": len(by_ref), "total": total, "with_address": reachable},
    )
    return ContactsOut(added=new, total=total, with_address=reachable)


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows in slices a statement's parameters can hold (PostgreSQL takes at most 65,535 per statement)."""
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def count_reachable(uow: Uow, incident_id: uuid.UUID) -> int:
    """How many people of an incident have an address kept."""
    result = await uow.session.exec(
        select(func.count())
        .select_from(AffectedContact)
        .where(col(AffectedContact.incident_id) == incident_id, col(AffectedContact.contact_enc).is_not(None))
    )
    return int(result.one())


async def addresses(uow: Uow, incident_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The kept addresses of an incident's people, by subject reference ({"email", "name", "locale"})."""
    rows = await uow.session.exec(
        select(AffectedContact).where(
            col(AffectedContact.incident_id) == incident_id, col(AffectedContact.contact_enc).is_not(None)
        )
    )
    key = _key(uow)
    found: dict[str, dict[str, Any]] = {}
    for row in rows.all():
        assert row.contact_enc is not None
        found[row.subject_ref] = unseal(
            key, row.contact_enc, context=_context(row.tenant_id, row.incident_id, row.subject_ref)
        )
    return found


async def address_of(uow: Uow, incident_id: uuid.UUID, ref: str) -> dict[str, Any] | None:
    """One person's kept address, or None when never attached or already purged."""
    row = (
        await uow.session.exec(
            select(AffectedContact).where(
                col(AffectedContact.incident_id) == incident_id, col(AffectedContact.subject_ref) == ref
            )
        )
    ).first()
    if row is None or row.contact_enc is None:
        return None
    value: dict[str, Any] = unseal(_key(uow), row.contact_enc, context=_context(row.tenant_id, incident_id, ref))
    return value


async def purge(uow: Uow, incident: Incident, why: str) -> int:
    """Forget every kept address of an incident (the references stay in the register); how many were purged."""
    result = await uow.session.exec(
        update(AffectedContact)
        .where(col(AffectedContact.incident_id) == incident.id, col(AffectedContact.contact_enc).is_not(None))
        .values(contact_enc=None, purged_at=uow.now())
    )
    purged = int(getattr(result, "rowcount", 0) or 0)
    if purged:
        note(uow, incident, "contacts.purged", {"purged": purged, "why": why})
        log.info("breach.contacts.purged", incident_id=str(incident.id), purged=purged, why=why)
    return purged
