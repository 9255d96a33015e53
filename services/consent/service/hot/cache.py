"""The purpose rules the write path needs, cached per database and checked by revision in the write itself.

Every change of a purpose or of its notices moves ``purpose.revision`` (``catalogue.py``). A cached
snapshot carries the revision it was read at, and the statement that records a decision only writes
when the purpose still has that revision, so a replica that missed a change finds out in the same
round trip, reloads the rules (sharing a lock on the purpose row, so they cannot move again before
it commits) and decides again. No decision is ever recorded under rules other than those in force.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import UnknownPurpose
from services.consent.models import WITHOUT_TEXT, NoticeVersion, Purpose
from services.consent.service import Uow

MAX_ENTRIES = 10_000  # (tenant, purpose) pairs kept per database; past that the cache starts again


@dataclass(frozen=True, slots=True)
class NoticeSnapshot:
    """A published notice version (notice versions never change once published)."""

    version: int
    text_hash: str
    published_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class PurposeSnapshot:
    """A purpose as the write path sees it: its rules, its notices (oldest first) and the revision read."""

    tenant_id: str
    key: str
    lawful_basis: str
    validity: str | None
    min_age: int | None
    gpc_covered: bool
    direct_marketing: bool
    tcf_purpose_id: int | None
    current_notice_version: int | None
    renewal_required_since: int | None
    revision: int
    notices: tuple[NoticeSnapshot, ...] = ()


def snapshot_of(purpose: Purpose, notices: Iterable[NoticeVersion] = ()) -> PurposeSnapshot:
    """A detached, immutable copy of a purpose row (and its notices) that any session may use."""
    return PurposeSnapshot(
        tenant_id=purpose.tenant_id,
        key=purpose.key,
        lawful_basis=purpose.lawful_basis,
        validity=purpose.validity,
        min_age=purpose.min_age,
        gpc_covered=purpose.gpc_covered,
        direct_marketing=purpose.direct_marketing,
        tcf_purpose_id=purpose.tcf_purpose_id,
        current_notice_version=purpose.current_notice_version,
        renewal_required_since=purpose.renewal_required_since,
        revision=purpose.revision,
        notices=tuple(
            NoticeSnapshot(n.version, n.text_hash, n.published_at, n.expires_at)
            for n in sorted(notices, key=lambda n: n.version)
        ),
    )


# One cache per database (engine): tests and tools run several databases in one process.
_CACHES: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], PurposeSnapshot]] = weakref.WeakKeyDictionary()


def _cache_of(session: AsyncSession) -> dict[tuple[str, str], PurposeSnapshot]:
    bind = session.get_bind()
    return _cache_of_engine(bind if isinstance(bind, Engine) else bind.engine)


def cached_purpose(engine: Engine, tenant_id: str, key: str) -> PurposeSnapshot | None:
    """The cached snapshot of a purpose, or ``None`` (no I/O: the hot write path declines on a miss)."""
    cache = _CACHES.get(engine)
    return cache.get((tenant_id, key)) if cache is not None else None


def _cache_of_engine(engine: Engine) -> dict[tuple[str, str], PurposeSnapshot]:
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = {}
    return cache


async def load_snapshots(uow: Uow, keys: list[str], *, lock: bool = False) -> dict[str, PurposeSnapshot]:
    """Read purposes and their notices from the database (two statements) and refresh the cache.

    With ``lock`` the purpose rows are share-locked until the transaction ends: the rules read are
    then the rules in force when the decision commits.
    """
    session, tenant_id = uow.session, uow.tenant_id
    statement = select(Purpose).where(Purpose.tenant_id == tenant_id, col(Purpose.key).in_(keys))
    rows = (await session.exec(statement.with_for_update(read=True) if lock else statement)).all()
    if not rows:
        return {}
    notices: dict[str, list[NoticeVersion]] = {row.key: [] for row in rows}
    if any(row.current_notice_version is not None for row in rows):
        found = await session.exec(
            select(NoticeVersion)
            .where(NoticeVersion.tenant_id == tenant_id, col(NoticeVersion.purpose).in_(keys))
            .options(*WITHOUT_TEXT)  # the rules need the hash, never the text itself
        )
        for notice in found.all():
            notices[notice.purpose].append(notice)
    cache = _cache_of(session)
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    snapshots = {}
    for row in rows:
        snapshots[row.key] = cache[(tenant_id, row.key)] = snapshot_of(row, notices[row.key])
    return snapshots


async def purposes_for_write(uow: Uow, keys: Iterable[str], *, lock: bool = False) -> dict[str, PurposeSnapshot]:
    """The tenant's purposes with these keys, from the cache when it has them; ``UnknownPurpose`` names a missing one.

    ``lock`` bypasses the cache and share-locks the rows (after a write found its snapshot stale).
    """
    wanted = list(dict.fromkeys(keys))
    tenant_id = uow.tenant_id
    cache = _cache_of(uow.session)
    found: dict[str, PurposeSnapshot] = {}
    missing = wanted
    if not lock:
        found = {key: cache[(tenant_id, key)] for key in wanted if (tenant_id, key) in cache}
        missing = [key for key in wanted if key not in found]
    if missing:
        found |= await load_snapshots(uow, missing, lock=lock)
    for key in wanted:
        if key not in found:
            raise UnknownPurpose("purpose", f"{key!r} is not in this tenant's purpose catalogue")
    return found
