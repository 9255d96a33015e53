"""The data-system registry (the data map), the privops services as systems, and Art. 19 recipients."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.dsar.domain.identifiers import subject_ref
from services.dsar.models import DataSystem, SubjectRecipient
from services.dsar.schemas import SystemIn
from services.dsar.service import Uow
from services.dsar.service.crypto import subject_key
from shared.rules.errors import NotFound

_ALL = ["access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability"]
PRIVOPS_SYSTEMS: dict[str, dict[str, Any]] = {
    "privops-consent": {
        "name": "privops consent",
        "data_categories": ["consent decisions", "notice versions seen"],
        "purposes": ["proof of consent (Art. 7(1))"],
        "retention": "consent lifetime plus the proof period",
    },
    "privops-dsar": {
        "name": "privops DSAR",
        "data_categories": ["rights requests", "identity verification records"],
        "purposes": ["answering rights requests", "evidence of compliance (Art. 5(2))"],
        "retention": "identifiers purged when a request closes; records kept as evidence",
    },
    "privops-retention": {
        "name": "privops retention",
        "data_categories": ["deletion schedules", "legal holds"],
        "purposes": ["enforcing retention periods"],
        "retention": "until the scheduled deletion is carried out",
    },
    "privops-breach": {
        "name": "privops breach",
        "data_categories": ["breach records", "people affected by a breach"],
        "purposes": ["breach notification (Arts. 33-34)"],
        "retention": "as required to document breaches (Art. 33(5))",
    },
    "privops-subprocessor": {
        "name": "privops subprocessor",
        "data_categories": ["customer contacts", "objections"],
        "purposes": ["subprocessor change notices (Art. 28(2))"],
        "retention": "contract duration",
    },
    "privops-notify": {
        "name": "privops notify",
        "data_categories": ["message delivery log (recipient references, never the content)"],
        "purposes": ["delivering the platform's messages and proving their delivery"],
        "retention": "as long as the message is evidence of a legal notice",
    },
    "privops-identity": {
        "name": "privops identity",
        "data_categories": ["console accounts of the privacy team (name, email, roles)", "sign-in records"],
        "purposes": ["signing in to the console", "naming the person behind each action (Art. 5(2))"],
        "retention": "while the account gives access; disabled accounts until erased",
    },
}


async def _find_system(uow: Uow, key: str, *, lock: bool = False) -> DataSystem | None:
    # Systems are addressed by their key, unique per tenant (not by the row's id).
    statement = select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id, col(DataSystem.key) == key)
    return (await uow.session.exec(statement.with_for_update() if lock else statement)).first()


async def get_system(uow: Uow, key: str) -> DataSystem:
    """A registered system of the tenant; 404 when the tenant has none by that key."""
    system = await _find_system(uow, key)
    if system is None:
        raise NotFound(f"No data system {key!r}.")
    return system


async def upsert_system(uow: Uow, key: str, body: SystemIn) -> tuple[DataSystem, bool]:
    """Register a system, or update and re-activate it; return it and whether it is new."""
    now = uow.now()
    values = body.model_dump(mode="json")
    existing = await _find_system(uow, key, lock=True)
    if existing is None:
        await uow.session.exec(
            insert(DataSystem)
            .values(tenant_id=uow.tenant_id, key=key, active=True, created_at=now, updated_at=now, **values)
            .on_conflict_do_nothing()
        )
        uow.audit("system.registered", "data_system", key, {"actions": values["actions"], "manual": body.manual})
        return await get_system(uow, key), True
    for name, value in values.items():
        setattr(existing, name, value)
    existing.active, existing.updated_at = True, now
    uow.session.add(existing)
    uow.audit("system.updated", "data_system", key, {"actions": values["actions"], "manual": body.manual})
    return existing, False


async def list_systems(uow: Uow, include_inactive: bool) -> list[DataSystem]:
    """The tenant's systems by key."""
    statement = select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id)
    if not include_inactive:
        statement = statement.where(col(DataSystem.active).is_(True))
    return list((await uow.session.exec(statement.order_by(col(DataSystem.key)))).all())


async def deactivate_system(uow: Uow, key: str) -> DataSystem:
    """Stop sending tasks to a system (its history stays)."""
    system = await get_system(uow, key)
    system.active, system.updated_at = False, uow.now()
    uow.session.add(system)
    uow.audit("system.deactivated", "data_system", key)
    return system


async def seed_privops_systems(uow: Uow) -> list[DataSystem]:
    """Register the five privops services as data systems of the tenant (existing entries are kept)."""
    seeded = []
    for key, spec in PRIVOPS_SYSTEMS.items():
        existing = await _find_system(uow, key)
        if existing is not None:
            seeded.append(existing)
            continue
        body = SystemIn(owner="privacy team", actions=_ALL, source="privops", **spec)
        system, _ = await upsert_system(uow, key, body)
        seeded.append(system)
    return seeded


async def record_recipient(uow: Uow, kind: str, value: str, system: str, recipient: str) -> str:
    """Record that ``system`` disclosed the subject's data to ``recipient``; return the subject reference."""
    await get_system(uow, system)
    ref = subject_ref(subject_key(uow.settings), kind, value, tenant=uow.tenant_id)
    await uow.session.exec(
        insert(SubjectRecipient)
        .values(tenant_id=uow.tenant_id, subject_ref=ref, system_key=system, recipient=recipient, recorded_at=uow.now())
        .on_conflict_do_nothing()
    )
    uow.audit("recipient.recorded", "data_system", system, {"subject_ref": ref, "recipient": recipient})
    return ref
