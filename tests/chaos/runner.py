"""The chaos run: load in flight, faults in turn, recovery timed, then every count checked.

Faults (in this order, interleaved so that each lands on load): SIGKILL of each service, demo
store and the SMTP server (restarted at once, as a supervisor would), a restart of the
memory-only broker (everything it held is lost), and ``pg_ctl stop -m immediate`` + start of
PostgreSQL. Every erasure sends two mails through notify (the code, the completion): each must
reach the SMTP server once, and the DSAR service must see it delivered.
Recovery time: from the fault until every ``/readyz`` answers 200 (and a restarted store has
rejoined its group) and no outbox holds an event committed more than a second ago.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from shared.runtime.auth import SERVICES
from tests.chaos.stack import STORES, ChaosStack
from tests.chaos.workload import Progress, run_load

FAULT_ORDER = (
    ("kill", "consent"),
    ("kill", "notify"),  # early, so that messages are being sent when it dies
    ("broker", "broker"),
    ("kill", "smtp"),
    ("kill", "dsar"),
    ("postgres", "postgres"),
    ("kill", "retention"),
    ("kill", "crm-store"),
    ("kill", "breach"),
    ("kill", "analytics-store"),
    ("kill", "subprocessor"),
)
SYSTEMS = 8  # the six services and the two demo stores each get a task per erasure
REQUESTS_SQL = (
    "SELECT r.id, r.state, count(c.id) FROM dsar_request r "
    "LEFT JOIN dsar_erasure_certificate c ON c.request_id = r.id WHERE r.tenant_id = 'demo' GROUP BY r.id, r.state"
)


@dataclass
class ChaosConfig:
    """Sizes and limits of one run."""

    consents: int = 10_000
    erasures: int = 1_000
    concurrency: int = 16
    first_fault_after_s: float = 8.0
    pause_between_faults_s: float = 3.0
    recovery_timeout_s: float = 120.0
    drain_timeout_s: float = 420.0
    results_dir: Path = Path("tests/chaos/results")


@dataclass
class FaultResult:
    """One fault and how the platform came back."""

    kind: str
    target: str
    injected_at: str
    detail: str
    ready_s: float | None = None
    drained_s: float | None = None
    consents_done_at_fault: int = 0
    dsars_verified_at_fault: int = 0
    load_in_flight: bool = True


@dataclass
class Check:
    """One assertion of the final state."""

    name: str
    expected: Any
    actual: Any
    ok: bool


@dataclass
class ChaosReport:
    """Everything the run measured."""

    config: dict[str, Any]
    started_at: str
    faults: list[FaultResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    unexpected_deaths: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Every check passed, every fault recovered, no error."""
        return (
            self.error is None
            and bool(self.checks)
            and all(c.ok for c in self.checks)
            and all(f.ready_s is not None and f.drained_s is not None for f in self.faults)
        )


async def inject(stack: ChaosStack, kind: str, target: str) -> str:
    """Inject one fault; return what was done."""
    if kind == "kill":
        pid = await asyncio.to_thread(stack.kill, target)
        stack.restart(target)
        return f"kill -9 pid {pid}, restarted as pid {stack.procs[target].pid}"
    if kind == "broker":
        await asyncio.to_thread(stack.restart_broker)
        return f"broker stopped (log lost) and started again on port {stack.broker.port if stack.broker else '?'}"
    if kind == "postgres":
        await asyncio.to_thread(stack.restart_postgres)
        return f"pg_ctl stop -m immediate, then start (pid {stack.pg.pid})"
    raise ValueError(kind)


async def wait_recovered(
    stack: ChaosStack, fault: FaultResult, store_offset: int, began: float, timeout: float
) -> None:
    """Time until every service is ready (and a restarted store rejoined), then until the outboxes drained."""
    deadline = began + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            await asyncio.to_thread(stack.supervise)
            ready = await asyncio.to_thread(stack.services_ready, client)
            if ready and fault.target in STORES:
                ready = stack.store_started(fault.target, store_offset)
            if ready:
                fault.ready_s = round(time.monotonic() - began, 2)
                break
            await asyncio.sleep(0.2)
    while time.monotonic() < deadline:
        backlog = await asyncio.to_thread(stack.outbox_backlog)
        if all(v == 0 for v in backlog.values()):
            fault.drained_s = round(time.monotonic() - began, 2)
            return
        await asyncio.sleep(0.3)


async def run_faults(
    stack: ChaosStack, config: ChaosConfig, progress: Progress, load: asyncio.Task[None]
) -> list[FaultResult]:
    """Inject every fault in turn, waiting for recovery after each."""
    results = []
    await asyncio.sleep(config.first_fault_after_s)
    for kind, target in FAULT_ORDER:
        store_offset = stack.log_offset(target) if target in STORES else 0
        fault = FaultResult(
            kind,
            target,
            datetime.now(UTC).isoformat(),
            "",
            consents_done_at_fault=progress.consents_done,
            dsars_verified_at_fault=progress.dsar_verified,
            load_in_flight=not load.done(),
        )
        began = time.monotonic()
        fault.detail = await inject(stack, kind, target)
        print(f"chaos: {kind} {target}: {fault.detail}", flush=True)
        await wait_recovered(stack, fault, store_offset, began, config.recovery_timeout_s)
        print(f"chaos:   ready after {fault.ready_s} s, outboxes drained after {fault.drained_s} s", flush=True)
        results.append(fault)
        await asyncio.sleep(config.pause_between_faults_s)
    return results


def sql_rows(stack: ChaosStack, database: str, sql: str) -> list[list[str]]:
    """Rows of a query (psql, unaligned, ``|``-separated)."""
    out = stack.pg.psql(sql, database=database)
    return [line.split("|") for line in out.splitlines() if line]


async def drain(stack: ChaosStack, progress: Progress, config: ChaosConfig) -> dict[str, Any]:
    """Wait until every erasure completed (or the drain timeout); return the DSAR states seen."""
    deadline = time.monotonic() + config.drain_timeout_s
    ids = set(progress.dsar_ids.values())
    states: dict[str, int] = {}
    while time.monotonic() < deadline:
        await asyncio.to_thread(stack.supervise)
        try:
            rows = sql_rows(stack, "dsar", REQUESTS_SQL)
        except RuntimeError as exc:
            print(f"chaos: DSAR state query failed: {exc}", flush=True)
            await asyncio.sleep(1)
            continue
        ours = [r for r in rows if r[0] in ids]
        states = {}
        for _, state, _cert in ours:
            states[state] = states.get(state, 0) + 1
        if states.get("completed", 0) + states.get("partial", 0) >= len(ids):
            break
        await asyncio.sleep(2)
    return states


NOTIFY_PENDING_SQL = (
    "SELECT count(*) FROM message WHERE state IN ('queued', 'retrying') "
    "UNION ALL SELECT count(*) FROM outbox WHERE published_at IS NULL"
)


async def drain_notifications(stack: ChaosStack, timeout: float = 120.0) -> float:
    """Wait until notify has no message left to send and nothing left in its outbox; return the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        await asyncio.to_thread(stack.supervise)
        try:
            pending = [int(r[0]) for r in sql_rows(stack, "notify", NOTIFY_PENDING_SQL)]
        except RuntimeError:
            pending = [1]
        if not any(pending):
            break
        await asyncio.sleep(1)
    return round(time.monotonic() - started, 1)


def final_checks(stack: ChaosStack, progress: Progress, config: ChaosConfig) -> tuple[list[Check], dict[str, Any]]:
    """Every count the issue asks for."""
    checks: list[Check] = []
    counts: dict[str, Any] = {}

    def check(name: str, expected: Any, actual: Any) -> None:
        checks.append(Check(name, expected, actual, expected == actual))

    # DSAR: every erasure completed, with a certificate; one closed task per system.
    ids = set(progress.dsar_ids.values())
    check("erasures opened", config.erasures, len(ids))
    rows = sql_rows(stack, "dsar", REQUESTS_SQL)
    ours = [r for r in rows if r[0] in ids]
    check("erasures completed", len(ids), sum(1 for r in ours if r[1] == "completed"))
    check("erasures with exactly one certificate", len(ids), sum(1 for r in ours if r[2] == "1"))
    tasks = sql_rows(
        stack,
        "dsar",
        "SELECT request_id, count(*), count(*) FILTER (WHERE state = 'closed'), count(DISTINCT system_key) "
        "FROM dsar_task WHERE tenant_id = 'demo' GROUP BY request_id",
    )
    ours_tasks = [t for t in tasks if t[0] in ids]
    check(f"erasure tasks ({SYSTEMS} systems each)", len(ids) * SYSTEMS, sum(int(t[1]) for t in ours_tasks))
    check("erasure tasks closed", len(ids) * SYSTEMS, sum(int(t[2]) for t in ours_tasks))
    complete = sum(1 for t in ours_tasks if int(t[3]) == SYSTEMS)
    check(f"requests with a task for each of the {SYSTEMS} systems", len(ids), complete)
    tasks_sql = "SELECT system_key, count(*) FROM dsar_task WHERE tenant_id = 'demo' GROUP BY 1"
    per_system = {r[0]: int(r[1]) for r in sql_rows(stack, "dsar", tasks_sql)}
    counts["dsar_tasks_per_system"] = per_system

    # Consent: each write exactly once in the records and in the projection.
    refs = set(progress.consent_refs.values())
    check("consent writes acknowledged", config.consents, len(progress.consent_refs))
    check("distinct subjects written", config.consents, len(refs))
    records = sql_rows(
        stack,
        "consent",
        "SELECT subject_ref, count(*) FROM consent_record WHERE tenant_id = 'demo' AND collector = 'chaos-run' "
        "GROUP BY subject_ref",
    )
    by_ref = {r[0]: int(r[1]) for r in records}
    check("consent records (one per write)", config.consents, sum(by_ref.values()))
    check("subjects with exactly one record", len(refs), sum(1 for ref in refs if by_ref.get(ref) == 1))
    check("records of subjects the load did not write", 0, len(set(by_ref) - refs))
    states = sql_rows(
        stack,
        "consent",
        "SELECT s.subject_ref, count(*) FROM consent_state s JOIN consent_record r ON r.id = s.record_id "
        "WHERE s.tenant_id = 'demo' AND s.purpose = 'newsletter' AND r.collector = 'chaos-run' GROUP BY s.subject_ref",
    )
    state_by_ref = {r[0]: int(r[1]) for r in states}
    check("consent projection rows (one per write)", len(refs), sum(state_by_ref.values()))
    check("subjects with exactly one projection row", len(refs), sum(1 for ref in refs if state_by_ref.get(ref) == 1))

    # Retention: one schedule per withdrawal, no duplicate schedule anywhere.
    schedules = sql_rows(
        stack,
        "retention",
        "SELECT subject_ref, count(*) FROM subject_schedule WHERE tenant_id = 'demo' AND purpose = 'newsletter' "
        "GROUP BY subject_ref",
    )
    schedule_by_ref = {r[0]: int(r[1]) for r in schedules}
    withdrawn = progress.withdrawn_refs
    check("withdrawals", config.consents // 10 + (1 if config.consents % 10 else 0), len(withdrawn))
    once = sum(1 for r in withdrawn if schedule_by_ref.get(r) == 1)
    check("withdrawals with exactly one retention schedule", len(withdrawn), once)
    duplicates = sql_rows(
        stack,
        "retention",
        "SELECT count(*) FROM (SELECT 1 FROM subject_schedule "
        "GROUP BY tenant_id, subject_ref, category, purpose, reason HAVING count(*) > 1) d",
    )
    check("duplicate retention schedules", 0, int(duplicates[0][0]))

    # Demo stores: each task carried out once (ledger rows; side effects logged once per task).
    for store, system in (("crm-store", "crm"), ("analytics-store", "analytics")):
        ledger = sqlite3.connect(str(stack.ledger_path(store)))
        try:
            handled = ledger.execute(
                "SELECT count(*), count(DISTINCT item_id) FROM handled WHERE kind = 'task'"
            ).fetchone()
            unpublished = ledger.execute(
                "SELECT count(*) FROM handled WHERE kind = 'task' AND published_at IS NULL AND event_type IS NOT NULL"
            ).fetchone()[0]
        finally:
            ledger.close()
        executed = (stack.log_dir / f"{store}.log").read_text(errors="replace").count("store.task_done")
        counts[f"{system}_ledger_tasks"] = handled[0]
        counts[f"{system}_executions_logged"] = executed
        check(f"{system}: ledger rows = its DSAR tasks", per_system.get(system, 0), handled[0])
        check(f"{system}: each task carried out once (executions logged = ledger rows)", handled[0], executed)
        check(f"{system}: answers not acknowledged by the broker", 0, unpublished)

    # Notifications: every message DSAR asked for reached the SMTP server once, and DSAR knows it. (notify erases
    # the delivered messages of an erased person, so its own log is not the count to compare with.)
    asked = sql_rows(
        stack,
        "dsar",
        "SELECT count(*), count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'failed') "
        "FROM dsar_notification",
    )
    total, delivered, failed = (int(v) for v in asked[0])
    pending = sql_rows(stack, "notify", "SELECT count(*) FROM message WHERE state IN ('queued', 'retrying')")
    mailbox = stack.smtp.mailbox if stack.smtp else None
    kept = len(list(mailbox.glob("*.eml"))) if mailbox else 0
    repeats = mailbox / ".repeats" if mailbox else None
    counts["notifications"] = {"requested": total, "delivered": delivered, "failed": failed}
    counts["mails_resent_and_recognised"] = len(repeats.read_text().splitlines()) if repeats and repeats.exists() else 0
    check("notifications requested (two per erasure: the code, the completion)", 2 * len(ids), total)
    check("notifications delivered, as the requester sees it", total, delivered)
    check("notifications failed", 0, failed)
    check("notifications still waiting in notify", 0, int(pending[0][0]))
    check("mails in the SMTP server's mailbox (one per notification)", delivered, kept)

    # Dead letters: nothing given up on.
    dead = {s: int(sql_rows(stack, s, "SELECT count(*) FROM dead_letter")[0][0]) for s in SERVICES}
    counts["dead_letters"] = dead
    check("dead-lettered events", 0, sum(dead.values()))
    counts["outbox_rows"] = {s: int(sql_rows(stack, s, "SELECT count(*) FROM outbox")[0][0]) for s in SERVICES}
    return checks, counts


async def run(config: ChaosConfig) -> ChaosReport:
    """Start the stack, run load and faults, check, write the report; stop everything."""
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = config.results_dir / stamp
    report = ChaosReport(
        config={k: str(v) if isinstance(v, Path) else v for k, v in vars(config).items()},
        started_at=datetime.now(UTC).isoformat(),
    )
    stack = ChaosStack(out_dir / "logs")
    progress = Progress()
    try:
        print(f"chaos: starting the stack (logs in {out_dir / 'logs'})", flush=True)
        await asyncio.to_thread(stack.start_all)
        print(
            f"chaos: stack ready in {time.monotonic() - started:.1f} s; load: {config.consents} consent writes, "
            f"{config.erasures} erasures",
            flush=True,
        )
        load = asyncio.create_task(
            run_load(stack.urls, stack.token(), config.consents, config.erasures, config.concurrency, progress)
        )
        report.faults = await run_faults(stack, config, progress, load)
        await asyncio.wait_for(load, timeout=config.drain_timeout_s)
        ends = [t for t in (progress.consents_finished_at, progress.dsars_submitted_at) if t is not None]
        report.counts["load_sent_in_s"] = round(max(ends) - progress.started, 1) if ends else None
        report.counts["consent_retries"] = progress.consent_retries
        report.counts["consent_writes_found_on_lookup"] = progress.consent_found_on_lookup
        report.counts["dsar_retries"] = progress.dsar_retries
        print("chaos: load sent; waiting for every erasure to complete", flush=True)
        drain_began = time.monotonic()
        report.counts["dsar_states"] = await drain(stack, progress, config)
        await asyncio.sleep(5)  # projections fed by the last events
        await _settle(stack, progress, config)
        report.counts["notifications_drain_s"] = await drain_notifications(stack)
        await _outcomes_applied(stack)
        report.counts["drain_s"] = round(time.monotonic() - drain_began, 1)
        report.checks, counts = await asyncio.to_thread(final_checks, stack, progress, config)
        report.counts.update(counts)
        report.counts["broker_losses_detected"] = _count_in_logs(stack, "broker.log_lost")
        report.counts["outbox_replays_logged"] = _count_in_logs(stack, "outbox.replay")
        report.counts["consumer_rewinds_logged"] = _count_in_logs(stack, "consumer.rewound")
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    finally:
        report.unexpected_deaths = stack.unexpected_deaths
        await asyncio.to_thread(stack.stop)
        report.duration_s = round(time.monotonic() - started, 1)
        write_report(report, out_dir)
    return report


async def _outcomes_applied(stack: ChaosStack, timeout: float = 60.0) -> None:
    """Wait (bounded) until the DSAR service has applied an outcome to each of its messages."""
    sql = "SELECT count(*) FILTER (WHERE state NOT IN ('delivered', 'failed')) FROM dsar_notification"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and int(sql_rows(stack, "dsar", sql)[0][0]):
        await asyncio.sleep(1)


async def _settle(stack: ChaosStack, progress: Progress, config: ChaosConfig, timeout: float = 60.0) -> None:
    """Wait (bounded) until the retention schedules caught up with the withdrawals."""
    deadline = time.monotonic() + timeout
    want = len(progress.withdrawn_refs)
    while time.monotonic() < deadline:
        rows = sql_rows(
            stack,
            "retention",
            "SELECT count(DISTINCT subject_ref) FROM subject_schedule "
            "WHERE tenant_id = 'demo' AND purpose = 'newsletter'",
        )
        if int(rows[0][0]) >= want:
            return
        await asyncio.sleep(1)


def _count_in_logs(stack: ChaosStack, needle: str) -> int:
    total = 0
    for path in stack.log_dir.glob("*.log"):
        total += path.read_text(errors="replace").count(needle)
    return total


def write_report(report: ChaosReport, out_dir: Path) -> None:
    """``report.json`` and ``report.md`` in ``out_dir`` (and ``latest.*`` beside it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "ok": report.ok,
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "config": report.config,
        "error": report.error,
        "faults": [vars(f) for f in report.faults],
        "checks": [vars(c) for c in report.checks],
        "counts": report.counts,
        "unexpected_deaths": report.unexpected_deaths,
    }
    text = json.dumps(data, indent=2, default=str)
    (out_dir / "report.json").write_text(text)
    markdown = render_markdown(report)
    (out_dir / "report.md").write_text(markdown)
    (out_dir.parent / "latest.json").write_text(text)
    (out_dir.parent / "latest.md").write_text(markdown)


def render_markdown(report: ChaosReport) -> str:
    """The human-readable report."""
    c = report.config
    lines = [
        f"# Chaos run — {'PASSED' if report.ok else 'FAILED'}",
        "",
        f"Started {report.started_at}, {report.duration_s} s in all. Load: {c['consents']} consent writes and "
        f"{c['erasures']} DSAR erasures ({SYSTEMS} systems each), {c['concurrency']} requests in flight.",
        "",
    ]
    if report.error:
        lines += [f"**Error:** `{report.error}`", ""]
    lines += [
        "## Faults",
        "",
        "| # | fault | target | load in flight (consents done / erasures verified) "
        "| ready after (s) | outboxes drained after (s) | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, f in enumerate(report.faults, 1):
        flight = f"{'yes' if f.load_in_flight else 'no'} ({f.consents_done_at_fault} / {f.dsars_verified_at_fault})"
        lines.append(f"| {n} | {f.kind} | {f.target} | {flight} | {f.ready_s} | {f.drained_s} | {f.detail} |")
    lines += ["", "## Checks", "", "| check | expected | actual | |", "|---|---|---|---|"]
    for ch in report.checks:
        lines.append(f"| {ch.name} | {ch.expected} | {ch.actual} | {'ok' if ch.ok else '**FAIL**'} |")
    lines += ["", "## Counts", "", "```json", json.dumps(report.counts, indent=2, default=str), "```", ""]
    if report.unexpected_deaths:
        lines += ["## Processes that died unasked (restarted by the runner)", ""]
        lines += [f"- {d['process']} (exit {d['exit_code']}) at {d['at']}" for d in report.unexpected_deaths]
        lines.append("")
    return "\n".join(lines)
