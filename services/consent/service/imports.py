"""Bulk import: chunks validated row by row, written with COPY (records, outbox, rejections) and one upsert.

A chunk is one transaction: its records, their events, its rejected-row report and the job's new
offset commit together, so an interrupted import resumes exactly at ``rows_done``.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
import zlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ARRAY, Text, any_, cast, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import Decision, consent_expiry
from services.consent.domain.imports import ImportRow, RowError, read_rows, validate
from services.consent.domain.notices import check_in_force
from services.consent.models import WITHOUT_TEXT, ImportJob, ImportRejection, NoticeVersion, Purpose, SubjectStatus
from services.consent.schemas.imports import ImportIn
from services.consent.service import Uow
from services.consent.service.common import subject_key
from services.consent.service.hot.write import EVENTS
from shared.bus.outbox import outbox_rows, stage_rows
from shared.events.catalogue.consent import ConsentDecisionEvent
from shared.rules.durations import Duration, InvalidDuration, parse_duration
from shared.rules.errors import Conflict, NotFound, RuleViolation
from shared.runtime.db import copy_rows, new_ids
from shared.runtime.repository import get_or_404

RECORD_COLUMNS = (
    "id", "tenant_id", "subject_ref", "purpose", "decision", "channel", "occurred_at", "recorded_at",
    "source", "collector", "notice_version", "expires_at", "proof", "import_id",
)  # fmt: skip
SLICE_ROWS = 500  # rows handled between two chances for other tasks to run
COPY_ROWS = 5000
CHUNK_WAIT_S = 15.0  # how long a chunk sent ahead waits for the chunks before it to be written
CHUNK_GRACE_S = 1.0  # how long a chunk sent ahead waits when no chunk of the job is in progress
CHUNK_POLL_S = 0.01
IMPORT_LOCK_KIND = zlib.crc32(b"privops.consent.import") & 0x7FFFFFFF
# Held by every chunk being handled, until its transaction ends (never blocks: shared only).
CHUNK_IN_PROGRESS = text("SELECT pg_advisory_xact_lock_shared(:kind, :job)")
OTHER_CHUNKS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND classid = CAST(:kind AS oid) AND objid = CAST(:job AS oid) AND pid <> pg_backend_pid() "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)
PROJECT_SQL = """
INSERT INTO consent_state (tenant_id, subject_ref, purpose, decision, decided_at, rank, expires_at, expired,
                           notice_version, record_id, updated_at)
SELECT DISTINCT ON (subject_ref, purpose) tenant_id, subject_ref, purpose, decision, occurred_at,
       CASE decision WHEN 'granted' THEN 0 WHEN 'denied' THEN 1 ELSE 2 END AS rank,
       expires_at, false, notice_version, id, recorded_at
FROM consent_record WHERE id = ANY($1::uuid[])
ORDER BY subject_ref, purpose, occurred_at DESC, rank DESC
ON CONFLICT (tenant_id, subject_ref, purpose) DO UPDATE SET
  decision = excluded.decision, decided_at = excluded.decided_at, rank = excluded.rank,
  expires_at = excluded.expires_at, expired = false, notice_version = excluded.notice_version,
  record_id = excluded.record_id, updated_at = excluded.updated_at
WHERE (consent_state.decided_at, consent_state.rank) <= (excluded.decided_at, excluded.rank)
"""


async def open_import(uow: Uow, body: ImportIn) -> ImportJob:
    """Create an import job at offset 0."""
    now = uow.now()
    job = ImportJob(
        tenant_id=uow.tenant_id, format=body.format, source_name=body.source_name, created_at=now, updated_at=now
    )
    uow.session.add(job)
    await uow.session.flush()
    return job


async def get_import(uow: Uow, job_id: uuid.UUID) -> ImportJob:
    """An import job of the tenant, or 404."""
    return await get_or_404(uow, ImportJob, job_id, label="import")


async def complete_import(uow: Uow, job_id: uuid.UUID) -> ImportJob:
    """Close an import: no more chunks are accepted."""
    job = await get_import(uow, job_id)
    if job.status == "open":
        job.status, job.completed_at, job.updated_at = "completed", uow.now(), uow.now()
        uow.session.add(job)
        await uow.session.flush()
    return job


async def rejections(uow: Uow, job_id: uuid.UUID, after: int, limit: int) -> list[ImportRejection]:
    """The rejected-row report, by line number."""
    await get_import(uow, job_id)
    rows = await uow.session.exec(
        select(ImportRejection)
        .where(ImportRejection.import_id == job_id, col(ImportRejection.line) > after)
        .order_by(col(ImportRejection.line))
        .limit(limit)
    )
    return list(rows.all())


async def import_chunk(uow: Uow, job_id: uuid.UUID, offset: int, text: str) -> ImportJob:
    """Validate and store one chunk of rows starting at ``offset`` (409 unless it is where the job stands).

    Everything but the writes happens before the job is locked: a client may send the next chunk
    while this one is being written (``privops consent import`` keeps two in flight), and that
    chunk is parsed meanwhile, then waits up to ``CHUNK_WAIT_S`` for the chunks before it.
    """
    session, tenant_id = uow.session, uow.tenant_id
    job = await _job(uow, job_id, offset, lock=False)
    now = uow.now()
    key = subject_key(uow.settings)
    parsed: list[ImportRow | RowError] = []
    for line, fields in read_rows(job.format, text, offset + 1):
        parsed.append(validate(line, fields, key, now, tenant=tenant_id))
        if len(parsed) % SLICE_ROWS == 0:
            await asyncio.sleep(0)  # a long chunk must not hold the event loop (other requests, the relay)
    rows_read = len(parsed)
    valid = [row for row in parsed if isinstance(row, ImportRow)]
    errors = [row for row in parsed if isinstance(row, RowError)]
    del parsed  # a chunk is held twice while the next one is parsed: keep only what is written
    accepted, more_errors = await _check_against_catalogue(uow, valid)
    del valid
    errors += more_errors
    records: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    source = f"/privops/{uow.settings.service_name}"
    for start in range(0, len(accepted), SLICE_ROWS):
        await asyncio.sleep(0)
        rows = accepted[start : start + SLICE_ROWS]
        made = [
            _record(i, row, tenant_id, job.id, now, p) for i, (row, p) in zip(new_ids(len(rows)), rows, strict=True)
        ]
        records += made
        events += outbox_rows(map(_event, made), tenant_id=tenant_id, source=source, now=now, packed=True)
    del accepted
    job = await _job(uow, job_id, offset, lock=True)
    await _write(session, job.id, records, errors, events)
    job.rows_done += rows_read
    job.accepted += len(records)
    job.rejected += len(errors)
    job.updated_at = now
    session.add(job)
    await session.flush()
    return job


async def _job(uow: Uow, job_id: uuid.UUID, offset: int, *, lock: bool) -> ImportJob:
    """The tenant's open job, 404 or 409; with ``lock``, locked for the writes once it stands at ``offset``.

    Without ``lock`` (the first look, before parsing) a job behind ``offset`` is fine: the chunks
    before this one may still be on their way; the chunk says it is in progress (a shared advisory
    lock until its transaction ends). With ``lock``, a job behind ``offset`` is read again while
    another chunk of it is in progress (up to ``CHUNK_WAIT_S``), or for ``CHUNK_GRACE_S`` when none
    is (the one before may be a moment late); then 409 with where the job stands.
    """
    session = uow.session
    loop = asyncio.get_running_loop()
    started = loop.time()
    # Not ``get_or_404``: the row is read again each time (populate_existing), not the object this
    # session loaded before, and a second time locked once the job stands at ``offset``.
    query = select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
    key = {"kind": IMPORT_LOCK_KIND, "job": zlib.crc32(job_id.bytes) & 0x7FFFFFFF}
    idle = False  # no other chunk was in progress at the last look
    while True:
        job = (await session.exec(query)).first()
        if job is None or job.tenant_id != uow.tenant_id:
            raise NotFound(f"No import {job_id} for this tenant.")
        if job.status == "open" and offset == job.rows_done and lock:
            job = (await session.exec(query.with_for_update())).one()  # waits for a writer still committing
        if job.status != "open":
            raise Conflict(f"Import {job_id} is {job.status}.")
        if not lock:
            await (await session.connection()).execute(CHUNK_IN_PROGRESS, key)
        if offset == job.rows_done or (offset > job.rows_done and not lock):
            return job
        waited = loop.time() - started
        # Given up only on a job read after no other chunk was seen in progress: the chunk before this
        # one may have committed (and let go of its lock) between the read above and that look.
        if offset < job.rows_done or waited >= CHUNK_WAIT_S or idle:
            raise Conflict(f"This import continues at offset {job.rows_done}, not {offset}.", rows_done=job.rows_done)
        if waited >= CHUNK_GRACE_S:
            idle = not (await (await session.connection()).execute(OTHER_CHUNKS, key)).scalar()
            if idle:
                continue
        await asyncio.sleep(CHUNK_POLL_S)


async def _check_against_catalogue(
    uow: Uow, rows: list[ImportRow]
) -> tuple[list[tuple[ImportRow, Purpose]], list[RowError]]:
    session, tenant_id = uow.session, uow.tenant_id
    purposes = {p.key: p for p in (await session.exec(select(Purpose).where(Purpose.tenant_id == tenant_id))).all()}
    notices = {
        (n.purpose, n.version): n
        for n in (
            await session.exec(select(NoticeVersion).where(NoticeVersion.tenant_id == tenant_id).options(*WITHOUT_TEXT))
        ).all()
    }
    refs = list({row.subject_ref for row in rows})
    # One array parameter, not one bind parameter per subject of the chunk.
    suppressed = set(
        (
            await session.exec(
                select(SubjectStatus.subject_ref).where(
                    SubjectStatus.tenant_id == tenant_id,
                    col(SubjectStatus.subject_ref) == any_(cast(refs, ARRAY(Text))),
                    col(SubjectStatus.erased_at).is_not(None),
                )
            )
        ).all()
    )
    accepted, errors = [], []
    for row in rows:
        purpose = purposes.get(row.purpose)
        if purpose is None:
            errors.append(RowError(row.line, "purpose", "is not in this tenant's purpose catalogue"))
        elif row.subject_ref in suppressed:
            errors.append(RowError(row.line, "subject", "was erased at the person's request and is suppressed"))
        elif row.notice_version is not None and (notice_error := _notice_error(row, notices)) is not None:
            errors.append(notice_error)
        else:
            accepted.append((row, purpose))
    return accepted, errors


def _notice_error(row: ImportRow, notices: dict[tuple[str, int], NoticeVersion]) -> RowError | None:
    assert row.notice_version is not None
    notice = notices.get((row.purpose, row.notice_version))
    if notice is None:
        return RowError(row.line, "notice_version", f"version {row.notice_version} was never published")
    following = notices.get((row.purpose, row.notice_version + 1))
    try:
        check_in_force(
            notice.version,
            row.occurred_at,
            published_at=notice.published_at,
            superseded_at=following.published_at if following else None,
            expires_at=notice.expires_at,
        )
    except RuleViolation as error:
        return RowError(row.line, error.field or "row", error.detail or str(error))
    return None


_EVENT_OF = {decision.value: event for decision, event in EVENTS.items()}


@functools.lru_cache(maxsize=1024)
def _validity(text: str | None) -> Duration | str | None:
    """A purpose's validity, parsed once rather than once per row (``consent_expiry`` reports a bad one)."""
    try:
        return parse_duration(text) if text else None
    except InvalidDuration:
        return text


def _record(
    record_id: uuid.UUID, row: ImportRow, tenant_id: str, job_id: uuid.UUID, now: datetime, purpose: Purpose
) -> tuple[Any, ...]:
    validity = _validity(purpose.validity)
    expires_at = consent_expiry(row.occurred_at, validity) if row.decision is Decision.GRANTED else None
    proof = {k: v for k, v in (("form_id", row.form_id), ("language", row.language)) if v}
    return (
        record_id, tenant_id, row.subject_ref, row.purpose, row.decision.value, row.channel, row.occurred_at, now,
        "import", row.collector, row.notice_version, expires_at, orjson.dumps(proof).decode() if proof else "{}",
        job_id,
    )  # fmt: skip


async def _write(
    session: AsyncSession,
    job_id: uuid.UUID,
    records: list[tuple[Any, ...]],
    errors: list[RowError],
    events: list[tuple[Any, ...]],
) -> None:
    rejected = [(job_id, e.line, e.field, e.error) for e in errors]
    await copy_rows(session, "import_rejection", ("import_id", "line", "field", "error"), rejected)
    if not records:
        return
    for start in range(0, len(records), COPY_ROWS):  # encoding a COPY holds the event loop: a few smaller ones
        await copy_rows(session, "consent_record", RECORD_COLUMNS, records[start : start + COPY_ROWS])
    driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    await driver.execute(PROJECT_SQL, [r[0] for r in records])
    await stage_rows(session, events)


def _event(record: tuple[Any, ...]) -> tuple[ConsentDecisionEvent, str]:
    """The event of an imported record, with its subject reference."""
    record_id, _, ref, purpose, decision, _, occurred_at, _, _, _, notice_version, expires_at, *_ = record
    event = _EVENT_OF[decision](
        consent_id=record_id,
        subject_ref=ref,
        purpose=purpose,
        decision=decision,
        occurred_at=occurred_at,
        expires_at=expires_at,
        notice_version=str(notice_version) if notice_version else None,
    )
    return event, ref
