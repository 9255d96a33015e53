"""Small helpers the consent use cases share: the subject key, subject resolution, purpose rules."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlmodel import col, select

from services.consent.domain import PurposeRules, UnknownPurpose, subject_ref
from services.consent.models import Purpose
from services.consent.schemas.consents import SubjectSelector
from services.consent.service import Uow
from services.consent.service.hot.cache import PurposeSnapshot
from shared.runtime.settings import ServiceSettings


def subject_key(settings: ServiceSettings) -> bytes:
    """The key of the keyed hash that turns identifiers into subject references."""
    return settings.subject_hash_key.get_secret_value().encode()


def resolve_subject(settings: ServiceSettings, selector: SubjectSelector, *, tenant: str) -> str:
    """The tenant's subject reference from an identifier (normalised, then hashed) or as given."""
    if selector.subject_ref is not None:
        return selector.subject_ref
    assert selector.subject is not None  # the schema requires one or the other
    return subject_ref(subject_key(settings), selector.subject.kind, selector.subject.value, tenant=tenant)


def hash_ip(settings: ServiceSettings, ip: str) -> str:
    """A keyed hash of an IP address: enough to match proof later, useless to whoever steals the table."""
    return hmac.new(subject_key(settings), f"ip:{ip.strip()}".encode(), hashlib.sha256).hexdigest()


def rules_of(purpose: Purpose | PurposeSnapshot) -> PurposeRules:
    """The pure checking rules of a catalogue purpose."""
    return PurposeRules.parse(
        purpose.key,
        lawful_basis=purpose.lawful_basis,
        validity=purpose.validity,
        renewal_required_since=purpose.renewal_required_since,
        gpc_covered=purpose.gpc_covered,
        direct_marketing=purpose.direct_marketing,
    )


async def load_purposes(uow: Uow, keys: Iterable[str]) -> dict[str, Purpose]:
    """The tenant's purposes with these keys; raise ``UnknownPurpose`` naming the first missing one."""
    wanted = list(dict.fromkeys(keys))
    statement = select(Purpose).where(Purpose.tenant_id == uow.tenant_id, col(Purpose.key).in_(wanted))
    rows = await uow.session.exec(statement)
    found = {p.key: p for p in rows.all()}
    for key in wanted:
        if key not in found:
            raise UnknownPurpose("purpose", f"{key!r} is not in this tenant's purpose catalogue")
    return found


async def all_purposes(uow: Uow) -> list[Purpose]:
    """Every purpose of the tenant's catalogue, by key."""
    rows = await uow.session.exec(select(Purpose).where(Purpose.tenant_id == uow.tenant_id).order_by(col(Purpose.key)))
    return list(rows.all())
