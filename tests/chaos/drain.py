"""Waiting for the platform: holds known before the load, and after it every erasure, sweep and message done.

Every wait is bounded: a platform that never gets there fails the checks that follow, with the
figures it reached.
"""

from __future__ import annotations

import asyncio
import time

from tests.chaos.checks import CONSENT_DATA, REQUESTS_SQL, sql_rows
from tests.chaos.stack import ChaosStack
from tests.chaos.workload import Progress

NOTIFY_PENDING_SQL = (
    "SELECT count(*) FROM message WHERE state IN ('queued', 'retrying') "
    "UNION ALL SELECT count(*) FROM outbox WHERE published_at IS NULL"
)
# Retention: withdrawal schedules not swept yet, and subject sweeps still waiting for a store's answer.
SWEEPS_PENDING_SQL = (
    "SELECT count(*) FROM subject_schedule WHERE tenant_id = 'demo' AND purpose = 'newsletter' "
    f"AND category = '{CONSENT_DATA}' AND status IN ('pending', 'requested') "
    "UNION ALL SELECT count(*) FROM sweep_run WHERE tenant_id = 'demo' AND kind = 'subject' AND status = 'requested'"
)


async def _rows(stack: ChaosStack, database: str, sql: str) -> list[list[str]] | None:
    """Rows of a query, or None while the database does not answer (it is being restarted)."""
    try:
        return await asyncio.to_thread(sql_rows, stack, database, sql)
    except RuntimeError as exc:
        print(f"chaos: query on {database} failed: {exc}", flush=True)
        return None


async def holds_known_to_dsar(stack: ChaosStack, placed: int, timeout: float = 60.0) -> float | None:
    """Seconds until the DSAR service has heard of every hold placed (its erase tasks carry them).

    None when this DSAR service keeps no legal holds (a tree without that feature: no table to wait on).
    """
    began = time.monotonic()
    table = await _rows(stack, "dsar", "SELECT to_regclass('dsar_legal_hold') IS NOT NULL")
    if not table or table[0][0] != "t":
        return None
    sql = "SELECT count(*) FROM dsar_legal_hold WHERE tenant_id = 'demo' AND placed_at IS NOT NULL"
    while time.monotonic() - began < timeout:
        rows = await _rows(stack, "dsar", sql)
        if rows and int(rows[0][0]) >= placed:
            break
        await asyncio.sleep(0.2)
    return round(time.monotonic() - began, 1)


async def erasures_completed(stack: ChaosStack, progress: Progress, timeout: float) -> dict[str, int]:
    """Wait until every erasure completed (or the timeout); return the DSAR states seen."""
    deadline = time.monotonic() + timeout
    ids = set(progress.dsar_ids.values())
    states: dict[str, int] = {}
    while time.monotonic() < deadline:
        await asyncio.to_thread(stack.supervise)
        rows = await _rows(stack, "dsar", REQUESTS_SQL)
        if rows is None:
            await asyncio.sleep(1)
            continue
        states = {}
        for row in rows:
            if row[0] in ids:
                states[row[1]] = states.get(row[1], 0) + 1
        if states.get("completed", 0) >= len(ids):
            break
        await asyncio.sleep(2)
    return states


async def schedules_caught_up(stack: ChaosStack, progress: Progress, timeout: float = 60.0) -> None:
    """Wait (bounded) until retention has a schedule for every withdrawal."""
    deadline = time.monotonic() + timeout
    want = progress.withdrawn_refs | set(progress.people_refs.values())
    sql = "SELECT DISTINCT subject_ref FROM subject_schedule WHERE tenant_id = 'demo' AND purpose = 'newsletter'"
    while time.monotonic() < deadline:
        rows = await _rows(stack, "retention", sql)
        if rows is not None and want <= {r[0] for r in rows}:
            return
        await asyncio.sleep(1)


async def sweeps_settled(stack: ChaosStack, timeout: float = 180.0) -> float:
    """Wait (bounded) until every withdrawal schedule was swept and every subject sweep answered; the seconds."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        await asyncio.to_thread(stack.supervise)
        rows = await _rows(stack, "retention", SWEEPS_PENDING_SQL)
        if rows is not None and not any(int(r[0]) for r in rows):
            break
        await asyncio.sleep(1)
    return round(time.monotonic() - began, 1)


async def notifications_sent(stack: ChaosStack, timeout: float = 120.0) -> float:
    """Wait until notify has no message left to send and nothing left in its outbox; return the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        await asyncio.to_thread(stack.supervise)
        rows = await _rows(stack, "notify", NOTIFY_PENDING_SQL)
        if rows is not None and not any(int(r[0]) for r in rows):
            break
        await asyncio.sleep(1)
    return round(time.monotonic() - began, 1)


async def outcomes_applied(stack: ChaosStack, timeout: float = 60.0) -> None:
    """Wait (bounded) until the DSAR service has applied an outcome to each of its messages."""
    sql = "SELECT count(*) FILTER (WHERE state NOT IN ('delivered', 'failed')) FROM dsar_notification"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await _rows(stack, "dsar", sql)
        if rows is not None and not int(rows[0][0]):
            return
        await asyncio.sleep(1)
