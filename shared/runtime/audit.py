"""Append-only, hash-chained audit log (one chain per service database).

Writers only insert rows (no lock on the hot path). A sealer — one at a time, elected by an
advisory lock — gives unsealed rows the next sequence number and chains them:
``hash = sha256(prev_hash || canonical(row))``. ``verify`` walks the chain and reports any row
edited, deleted or reordered after sealing. A trigger refuses UPDATE and DELETE of sealed rows,
so tampering needs a superuser disabling triggers — and is still detected.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import ARRAY, BigInteger, Column, Index, String, bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.rules.clock import Clock
from shared.runtime.auth import Principal
from shared.runtime.db import UTCDateTime, as_json, copy_rows

GENESIS = "0" * 64
SEAL_LOCK = zlib.crc32(b"privops.audit.sealer")


class AuditEntry(SQLModel, table=True):
    """One audited change or read of personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL")),
        Index("ix_audit_log_tenant_entity", "tenant_id", "entity_type", "entity_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True, nullable=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    action: str = Field(sa_column=Column(String(128), nullable=False))
    entity_type: str = Field(sa_column=Column(String(128), nullable=False))
    entity_id: str = Field(sa_column=Column(String(255), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


AUDIT_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]


class AuditCheckpoint(SQLModel, table=True):
    """The head of the chain after each seal: deleting the newest rows leaves a checkpoint pointing past the end."""

    __tablename__ = "audit_checkpoint"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))
    sealed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )


APPEND_ONLY_TRIGGER_SQL = (
    """
CREATE OR REPLACE FUNCTION privops_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_log is append-only: row % cannot be deleted', OLD.id;
  END IF;
  IF OLD.seq IS NOT NULL THEN
    RAISE EXCEPTION 'audit_log is append-only: sealed row % cannot be changed', OLD.id;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION privops_audit_append_only()""",
)


class EntryFields(TypedDict):
    """What the caller says of an audited change: who did what to which entity (``detail`` is optional)."""

    tenant_id: str
    actor: Principal | str
    action: str
    entity_type: str
    entity_id: Any
    clock: Clock
    detail: NotRequired[dict[str, Any] | None]


def entry_values(**fields: Unpack[EntryFields]) -> dict[str, Any]:
    """The column values of an audit entry (``record`` adds one, ``record_many`` writes many)."""
    actor = fields["actor"]
    return {
        "tenant_id": fields["tenant_id"],
        "occurred_at": fields["clock"].now(),
        "actor": actor.subject if isinstance(actor, Principal) else actor,
        "action": fields["action"],
        "entity_type": fields["entity_type"],
        "entity_id": str(fields["entity_id"]),
        "detail": as_json(fields.get("detail") or {}),
    }


def record(session: AsyncSession, **fields: Unpack[EntryFields]) -> AuditEntry:
    """Append an audit entry in the caller's transaction (it is sealed into the chain shortly after)."""
    entry = AuditEntry(**entry_values(**fields))
    session.add(entry)
    return entry


async def record_many(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Append many entries (``entry_values``) with one COPY, after those added before in the transaction."""
    if not entries:
        return
    # The columns entry_values names; COPY takes the JSON detail as text.
    rows = [tuple((entry | {"detail": _json(entry["detail"])}).values()) for entry in entries]
    await copy_rows(session, AuditEntry.__tablename__, list(entries[0]), rows)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _canonical(entry: AuditEntry, seq: int | None) -> bytes:
    body = {
        "seq": seq,
        "tenant_id": entry.tenant_id,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "detail": entry.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, entry: AuditEntry, seq: int | None = None) -> str:
    """The hash of ``entry`` chained to ``prev_hash`` (at sequence number ``seq``, by default its own)."""
    return hashlib.sha256(prev_hash.encode() + b"|" + _canonical(entry, entry.seq if seq is None else seq)).hexdigest()


# A seal's rows in one statement (array parameters). Each row is found by its primary key in a LATERAL
# subquery that OFFSET keeps from being flattened, then updated by its TID: joined plainly on id, a log
# without fresh statistics is guessed small, and the plan hashes all of it for every seal.
SEAL_MANY = text(
    "UPDATE audit_log AS a SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash "
    "FROM unnest(:ids, :seqs, :prevs, :hashes) AS s(id, seq, prev_hash, hash) "
    "CROSS JOIN LATERAL (SELECT e.ctid AS row_id FROM audit_log AS e WHERE e.id = s.id OFFSET 0) AS found "
    "WHERE a.ctid = found.row_id"
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("seqs", type_=ARRAY(BigInteger)),
    bindparam("prevs", type_=ARRAY(String)),
    bindparam("hashes", type_=ARRAY(String)),
)


async def seal(session: AsyncSession, limit: int = 1000) -> int:
    """Chain the oldest unsealed entries; safe to call from several replicas (one seals at a time)."""
    locked = await session.scalar(sa_select(func.pg_try_advisory_xact_lock(SEAL_LOCK)))
    if not locked:
        return 0
    last = (
        await session.exec(
            select(AuditEntry).where(col(AuditEntry.seq).is_not(None)).order_by(col(AuditEntry.seq).desc()).limit(1)
        )
    ).first()
    prev_hash, seq = (last.hash or GENESIS, last.seq or 0) if last else (GENESIS, 0)
    # Plain rows, not ORM objects: nothing for the session to track and flush one UPDATE at a time.
    connection = await session.connection()
    unsealed = sa_select(AUDIT_TABLE).where(AUDIT_TABLE.c.seq.is_(None)).order_by(AUDIT_TABLE.c.id).limit(limit)
    pending: list[Any] = list((await connection.execute(unsealed)).all())
    if not pending:
        return 0
    ids, seqs, prevs, hashes = [], [], [], []
    for entry in pending:
        seq += 1
        ids.append(entry.id)
        seqs.append(seq)
        prevs.append(prev_hash)
        prev_hash = chain_hash(prev_hash, entry, seq)
        hashes.append(prev_hash)
    await connection.execute(SEAL_MANY, {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes})
    session.add(AuditCheckpoint(seq=seq, hash=prev_hash))
    await session.flush()
    return len(pending)


@dataclass
class VerifyReport:
    """The result of walking the chain."""

    checked: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was edited, deleted or reordered."""
        return not self.problems


async def verify(session: AsyncSession, batch: int = 5000) -> VerifyReport:
    """Walk the whole chain in order and report every break."""
    report = VerifyReport()
    prev_hash, expected_seq, after = GENESIS, 1, 0
    while True:
        rows = (
            await session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.seq).is_not(None), col(AuditEntry.seq) > after)
                .order_by(col(AuditEntry.seq))
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        for entry in rows:
            assert entry.seq is not None
            if entry.seq != expected_seq:
                report.problems.append(f"rows with seq {expected_seq}..{entry.seq - 1} are missing (deleted)")
            if entry.prev_hash != prev_hash:
                report.problems.append(f"seq {entry.seq}: link to the previous row is broken (reordered or deleted)")
            if chain_hash(entry.prev_hash or GENESIS, entry) != entry.hash:
                report.problems.append(f"seq {entry.seq}: content does not match its hash (edited)")
            prev_hash, expected_seq, after = entry.hash or "", entry.seq + 1, entry.seq
            report.checked += 1
    head = (await session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc()).limit(1))).first()
    if head is not None and head.seq >= expected_seq:
        report.problems.append(f"rows with seq {expected_seq}..{head.seq} are missing (deleted from the end)")
    elif head is not None and head.seq == expected_seq - 1 and head.hash != prev_hash:
        report.problems.append(f"seq {head.seq}: the newest row differs from its checkpoint (edited)")
    report.unsealed = int(
        await session.scalar(sa_select(func.count()).select_from(AuditEntry).where(col(AuditEntry.seq).is_(None))) or 0
    )
    return report
