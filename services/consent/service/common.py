"""Small helpers the consent use cases share: the subject key, subject resolution, purpose rules."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import Decision, PurposeRules, UnknownPurpose, subject_ref
from services.consent.models import Purpose
from services.consent.schemas.consents import SubjectSelector
from services.consent.service.purpose_cache import PurposeSnapshot
from shared.runtime.settings import ServiceSettings

# At one instant a refusal outranks a grant (the domain's precedence), kept as a column of the projection.
RANK = {Decision.GRANTED: 0, Decision.DENIED: 1, Decision.WITHDRAWN: 2}


def subject_key(settings: ServiceSettings) -> bytes:
    """The key of the keyed hash that turns identifiers into subject references."""
    return settings.subject_hash_key.get_secret_value().encode()


def resolve_subject(settings: ServiceSettings, selector: SubjectSelector) -> str:
    """The subject reference from an identifier (normalised, then hashed) or as given."""
    if selector.subject_ref is not None:
        return selector.subject_ref
    assert selector.subject is not None  # the schema requires one or the other
    return subject_ref(subject_key(settings), selector.subject.kind, selector.subject.value)


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


async def load_purposes(session: AsyncSession, tenant_id: str, keys: Iterable[str]) -> dict[str, Purpose]:
    """The tenant's purposes with these keys; raise ``UnknownPurpose`` naming the first missing one."""
    wanted = list(dict.fromkeys(keys))
    rows = await session.exec(select(Purpose).where(Purpose.tenant_id == tenant_id, col(Purpose.key).in_(wanted)))
    found = {p.key: p for p in rows.all()}
    for key in wanted:
        if key not in found:
            raise UnknownPurpose("purpose", f"{key!r} is not in this tenant's purpose catalogue")
    return found


async def all_purposes(session: AsyncSession, tenant_id: str) -> list[Purpose]:
    """Every purpose of the tenant's catalogue, by key."""
    rows = await session.exec(select(Purpose).where(Purpose.tenant_id == tenant_id).order_by(col(Purpose.key)))
    return list(rows.all())
