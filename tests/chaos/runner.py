"""The chaos run: load in flight, faults in turn, recovery timed, then every count checked.

Faults (in this order, interleaved so that each lands on load): SIGKILL of each service, demo
store and the SMTP server (restarted at once, as a supervisor would), a restart of the
memory-only broker (everything it held is lost), and ``pg_ctl stop -m immediate`` + start of
PostgreSQL. Every erasure sends two mails through notify (the code, the completion): each must
reach the SMTP server once, and the DSAR service must see it delivered.
Recovery time: from the fault until every ``/readyz`` answers 200 (and a restarted store has
rejoined its group) and no outbox holds an event committed more than a second ago.

The load goes on past its configured counts until the last fault is over, so that every fault lands
on HTTP requests in flight (a fault is injected at a moment when at least one is outstanding, and
the run fails if one landed with none). Before the load, a legal hold is placed on one erasure
subject in ten; one consent write in ten is a withdrawal, whose data the demo stores sweep a second
later (the chaos stack shortens retention's grace period), and two demo people withdraw their
newsletter consent. Another tenant's contract ends during the faults, and its CRM store is killed
during the purge (``tests/chaos/contract_end.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.checks import SYSTEMS, Check, final_checks
from tests.chaos.contract_end import (
    ContractEndRun,
    contract_end_checks,
    contract_end_lines,
    end_and_kill,
    wait_completed,
)
from tests.chaos.contract_end import seed as seed_ended_tenant
from tests.chaos.drain import (
    erasures_completed,
    holds_known_to_dsar,
    notifications_sent,
    outcomes_applied,
    schedules_caught_up,
    sweeps_settled,
)
from tests.chaos.stack import ENDED_STORES, STORES, ChaosStack
from tests.chaos.workload import LoadPlan, Progress, erasure_email, held, place_holds, run_load, withdraw_people

FAULT_ORDER = (
    ("kill", "consent"),
    ("kill", "notify"),  # early, so that messages are being sent when it dies
    ("broker", "broker"),
    ("kill", "smtp"),
    ("kill", "dsar"),
    ("kill", "identity"),  # tokens in hand keep working; new ones, and signatures, wait for it
    ("postgres", "postgres"),
    ("kill", "retention"),
    ("kill", "crm-store"),
    ("contract-end", "crm-store-ended"),  # another tenant's contract ends: its CRM is killed during the purge
    ("kill", "breach"),
    ("kill", "analytics-store"),
    ("kill", "subprocessor"),
)
# Demo people the CRM holds (examples/crm/store.py PEOPLE) who withdraw their newsletter consent: a sweep
# must remove their subscription. The other two keep theirs.
PEOPLE_WITHDRAWING = ("alan@example.com", "katherine@example.com")


@dataclass
class ChaosConfig:
    """Sizes and limits of one run."""

    consents: int = 10_000
    erasures: int = 1_000
    concurrency: int = 16
    extra_consent_workers: int = 4  # after the configured counts, until the faults are over
    extra_erasure_workers: int = 1
    extra_consent_pause_s: float = 0.2
    extra_erasure_pause_s: float = 1.5
    first_fault_after_s: float = 8.0
    pause_between_faults_s: float = 3.0
    recovery_timeout_s: float = 120.0
    drain_timeout_s: float = 420.0
    in_flight_wait_s: float = 10.0  # how long a fault may wait for a request in flight
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
    in_flight: int = 0  # HTTP requests outstanding when the fault was injected
    waited_for_flight_s: float = 0.0
    consents_done_at_fault: int = 0
    dsars_verified_at_fault: int = 0


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


async def inject(stack: ChaosStack, kind: str, target: str, ended: ContractEndRun) -> str:
    """Inject one fault; return what was done."""
    if kind == "contract-end":
        return await end_and_kill(stack, ended)
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
            if ready and fault.target in (*STORES, *ENDED_STORES):
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


async def until_in_flight(progress: Progress, timeout: float) -> float:
    """Wait (bounded) for a moment when at least one HTTP request of the load is outstanding; the seconds waited."""
    began = time.monotonic()
    while progress.in_flight == 0 and time.monotonic() - began < timeout:
        await asyncio.sleep(0.002)
    return round(time.monotonic() - began, 3)


async def run_faults(
    stack: ChaosStack, config: ChaosConfig, progress: Progress, results: list[FaultResult], ended: ContractEndRun
) -> None:
    """Inject every fault in turn (into ``results``), each on requests in flight, waiting for recovery after each."""
    await asyncio.sleep(config.first_fault_after_s)
    for kind, target in FAULT_ORDER:
        store_offset = stack.log_offset(target) if target in (*STORES, *ENDED_STORES) else 0
        waited = await until_in_flight(progress, config.in_flight_wait_s)
        fault = FaultResult(
            kind,
            target,
            datetime.now(UTC).isoformat(),
            "",
            in_flight=progress.in_flight,
            waited_for_flight_s=waited,
            consents_done_at_fault=progress.consents_done,
            dsars_verified_at_fault=progress.dsar_verified,
        )
        results.append(fault)  # kept in the report even if the platform never comes back
        began = time.monotonic()
        fault.detail = await inject(stack, kind, target, ended)
        print(f"chaos: {kind} {target} ({fault.in_flight} requests in flight): {fault.detail}", flush=True)
        await wait_recovered(stack, fault, store_offset, began, config.recovery_timeout_s)
        print(f"chaos:   ready after {fault.ready_s} s, outboxes drained after {fault.drained_s} s", flush=True)
        await asyncio.sleep(config.pause_between_faults_s)


async def run(config: ChaosConfig) -> ChaosReport:
    """Start the stack, place the holds, run load and faults, drain, check, write the report; stop everything."""
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = config.results_dir / stamp
    report = ChaosReport(
        config={k: str(v) if isinstance(v, Path) else v for k, v in vars(config).items()},
        started_at=datetime.now(UTC).isoformat(),
    )
    # 30 s at the quick size (100 erasures), 125 s at the full one (1,000): the stores' backlog of tasks.
    stack = ChaosStack(out_dir / "logs", sweep_answer_timeout_s=max(30, config.erasures // 8))
    progress = Progress()
    ended = ContractEndRun()
    holds: dict[int, str] = {}
    load: asyncio.Future[Any] | None = None
    try:
        print(f"chaos: starting the stack (logs in {out_dir / 'logs'})", flush=True)
        await asyncio.to_thread(stack.start_all)
        token = stack.token()
        subjects = {i: stack.subject_ref("email", erasure_email(i)) for i in range(config.erasures) if held(i)}
        holds = await place_holds(stack.urls["retention"], token, subjects, progress)
        report.counts["holds_known_to_dsar_after_s"] = await holds_known_to_dsar(stack, len(holds))
        await asyncio.to_thread(seed_ended_tenant, stack)
        print(
            f"chaos: stack ready in {time.monotonic() - started:.1f} s, {len(holds)} legal holds placed; load: at "
            f"least {config.consents} consent writes and {config.erasures} erasures, more until the faults are over",
            flush=True,
        )
        progress.started = time.monotonic()
        plan = LoadPlan(
            config.consents,
            config.erasures,
            config.concurrency,
            config.extra_consent_workers,
            config.extra_erasure_workers,
            config.extra_consent_pause_s,
            config.extra_erasure_pause_s,
        )
        load = asyncio.gather(
            run_load(stack.urls, token, plan, progress),
            withdraw_people(stack.urls["consent"], token, list(PEOPLE_WITHDRAWING), progress),
        )
        try:
            await run_faults(stack, config, progress, report.faults, ended)
        finally:
            progress.more_wanted = False  # the faults are over: finish what is in flight, send nothing more
        await asyncio.wait_for(load, timeout=config.drain_timeout_s)
        report.counts["load"] = load_counts(progress)
        print("chaos: load sent; waiting for every erasure to complete", flush=True)
        drain_began = time.monotonic()
        report.counts["dsar_states"] = await erasures_completed(stack, progress, config.drain_timeout_s)
        await asyncio.sleep(5)  # projections fed by the last events
        await schedules_caught_up(stack, progress)
        report.counts["sweeps_drain_s"] = await sweeps_settled(stack)
        report.counts["notifications_drain_s"] = await notifications_sent(stack)
        await outcomes_applied(stack)
        await wait_completed(stack, ended)
        report.counts["drain_s"] = round(time.monotonic() - drain_began, 1)
        report.checks, counts = await asyncio.to_thread(final_checks, stack, progress, holds)
        report.checks.append(fault_check(report.faults))
        ended_checks, report.counts["contract_end"] = await asyncio.to_thread(contract_end_checks, stack, ended)
        report.checks += ended_checks
        report.counts.update(counts)
        report.counts["broker_losses_detected"] = _count_in_logs(stack, "broker.log_lost")
        report.counts["outbox_replays_logged"] = _count_in_logs(stack, "outbox.replay")
        report.counts["consumer_rewinds_logged"] = _count_in_logs(stack, "consumer.rewound")
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    finally:
        if load is not None and not load.done():
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await load
        report.unexpected_deaths = stack.unexpected_deaths
        await asyncio.to_thread(stack.stop)
        report.duration_s = round(time.monotonic() - started, 1)
        write_report(report, out_dir)
    return report


def load_counts(progress: Progress) -> dict[str, Any]:
    """What the load sent: the minimum, the extra sent while faults were still coming, the time taken."""

    def since_start(at: float | None) -> float | None:
        return round(at - progress.started, 1) if at is not None else None

    streams = {"consent_writes": progress.consents, "erasures": progress.erasures}
    counts: dict[str, Any] = {
        name: {"minimum": s.minimum, "sent": s.sent, "extra": s.extra, "all_sent_in_s": since_start(s.finished_at)}
        for name, s in streams.items()
    }
    ends = [s.minimum_sent_at for s in streams.values() if s.minimum_sent_at is not None]
    counts["minimum_sent_in_s"] = since_start(max(ends)) if len(ends) == len(streams) else None
    counts["http_requests"] = progress.requests
    counts["consent_retries"] = progress.consent_retries
    counts["consent_writes_found_on_lookup"] = progress.consent_found_on_lookup
    counts["dsar_retries"] = progress.dsar_retries
    counts["demo_people_withdrawn"] = sorted(progress.people_refs)
    return counts


def fault_check(faults: list[FaultResult]) -> Check:
    """Every fault must land on requests in flight: the faults that found none."""
    idle = [f"{n} {f.kind} {f.target}" for n, f in enumerate(faults, 1) if f.in_flight == 0]
    return Check("faults injected with no request in flight", [], idle, not idle and len(faults) == len(FAULT_ORDER))


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
    load = report.counts.get("load") or {}
    consents, erasures = load.get("consent_writes") or {}, load.get("erasures") or {}
    lines = [
        f"# Chaos run — {'PASSED' if report.ok else 'FAILED'}",
        "",
        f"Started {report.started_at}, {report.duration_s} s in all. Load: {c['consents']} consent writes and "
        f"{c['erasures']} DSAR erasures ({SYSTEMS} systems each) at {c['concurrency']} requests in flight, then "
        f"more at {c['extra_consent_workers']} + {c['extra_erasure_workers']} workers until the last fault: "
        f"{consents.get('sent', '?')} consent writes ({consents.get('extra', '?')} extra) and "
        f"{erasures.get('sent', '?')} erasures ({erasures.get('extra', '?')} extra) sent in all. "
        f"{report.counts.get('legal_holds_placed', 0)} erasure subjects under a legal hold; one consent write in "
        "ten is a withdrawal, swept per person by the demo stores during the run.",
        "",
    ]
    if report.error:
        lines += [f"**Error:** `{report.error}`", ""]
    lines += [
        "## Faults",
        "",
        "| # | fault | target | in flight | done so far (consents / erasures verified) "
        "| ready after (s) | outboxes drained after (s) | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, f in enumerate(report.faults, 1):
        flight = f"{f.in_flight} requests"
        done = f"{f.consents_done_at_fault} / {f.dsars_verified_at_fault}"
        lines.append(f"| {n} | {f.kind} | {f.target} | {flight} | {done} | {f.ready_s} | {f.drained_s} | {f.detail} |")
    lines += contract_end_lines(report.counts.get("contract_end") or {})
    lines += ["", "## Checks", "", "| check | expected | actual | |", "|---|---|---|---|"]
    for ch in report.checks:
        lines.append(f"| {ch.name} | {ch.expected} | {ch.actual} | {'ok' if ch.ok else '**FAIL**'} |")
    lines += ["", "## Counts", "", "```json", json.dumps(report.counts, indent=2, default=str), "```", ""]
    if report.unexpected_deaths:
        lines += ["## Processes that died unasked (restarted by the runner)", ""]
        lines += [f"- {d['process']} (exit {d['exit_code']}) at {d['at']}" for d in report.unexpected_deaths]
        lines.append("")
    return "\n".join(lines)
