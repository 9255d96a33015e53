"""One benchmark run: start what is needed, run the selected scenarios in order, write the report.

Whatever happens (a scenario fails, Ctrl-C, SIGTERM), every process started here is stopped by
its PID before the report is written.
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.context import BenchContext
from bench.plots import write_plots
from bench.report import summary_table, write_report
from bench.results import RunReport, ScenarioResult
from bench.scenarios import Scenario, discover, select
from bench.stack import LocalStack, Proc, StackError
from bench.stats import mb
from bench.wrk import Wrk, ensure_wrk, require_loopback, wrk_version
from shared.runtime.auth import SERVICES, admin_scopes, issue_token

RESULTS_ROOT = Path(__file__).parent / "results"
MIN_SCENARIO_S = 20.0
DEFAULT_BUDGET_MIN = 14.0
FULL_BUDGET_MIN = 40.0
SETTLE_S = 2.0


@dataclass
class Options:
    """What the command line asked for."""

    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    quick: bool = False
    full: bool = False
    budget_s: float = 14 * 60.0
    results_root: Path = RESULTS_ROOT
    target_urls: list[str] = field(default_factory=list)
    token: str | None = None
    tenant: str = "bench"
    target_kafka: str | None = None
    target_topic_prefix: str = ""
    peers: list[str] = field(default_factory=list)


def parse_targets(values: list[str]) -> dict[str, str]:
    """``--target-url`` values: ``svc=URL`` for one service, a bare URL for every service not named."""
    default: str | None = None
    named: dict[str, str] = {}
    for value in values:
        service, sep, url = value.partition("=")
        if sep and service in SERVICES:
            named[service] = url.rstrip("/")
        elif "://" in value and not sep:
            default = value.rstrip("/")
        else:
            raise ValueError(f"--target-url {value!r}: use URL or <service>=URL with one of {', '.join(SERVICES)}")
    for url in [*named.values(), *([default] if default else [])]:
        require_loopback(url)
    targets = {s: default for s in SERVICES} if default else {}
    return {**targets, **named}


def log(message: str) -> None:
    """A progress line on stderr (the summary table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    import psutil

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def run(options: Options) -> int:
    """The whole run; returns the exit code (0 unless the harness itself could not run)."""
    begun = time.monotonic()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    scenarios = select(discover(), options.only, options.skip, options.peers)
    _install_peers(options.peers, scenarios)
    targets = parse_targets(options.target_urls)
    if targets and not options.token:
        raise SystemExit("--target-url needs --token (a bearer token the target deployment accepts)")
    run_id = uuid.uuid4().hex[:8]
    out_dir = options.results_root / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    wrk = Wrk(ensure_wrk(), out_dir / "wrk")
    machine["wrk"] = wrk_version(wrk.binary)
    mode = "full" if options.full else "quick" if options.quick else "default"
    log(f"{len(scenarios)} scenarios ({mode} mode), results in {out_dir}")

    stack = LocalStack(out_dir / "logs")
    previous = signal.signal(signal.SIGTERM, _terminate)
    ctx: BenchContext | None = None
    exit_code = 0
    try:
        stack.start_infra()
        log(f"PostgreSQL on 127.0.0.1:{stack.pg.port}, broker on {stack.bootstrap}")
        ctx = BenchContext(
            run_id=run_id,
            out_dir=out_dir,
            wrk=wrk,
            targets=targets,
            token=options.token or "",
            tenant=options.tenant,
            stack=stack,
            kafka_bootstrap=options.target_kafka,
            topic_prefix=options.target_topic_prefix,
            quick=options.quick,
            full=options.full,
        )
        if not targets:
            _start_services(ctx, stack, options, scenarios)
        remaining = options.budget_s - (time.monotonic() - begun)
        asyncio.run(run_scenarios(ctx, scenarios, remaining))
    except KeyboardInterrupt:
        log("interrupted: stopping everything; the report keeps the scenarios that finished")
        exit_code = 130
    except StackError as exc:
        log(f"the stack could not start: {exc}")
        exit_code = 1
    finally:
        killed = stack.stop()
        signal.signal(signal.SIGTERM, previous)
        log("stopped every process of this run" + (f" (killed: {', '.join(killed)})" if killed else ""))

    results = list(ctx.results.values()) if ctx is not None else []
    machine["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    mode = "target: " + ", ".join(f"{k}={v}" for k, v in targets.items()) if targets else "local stack"
    mode += ", --full" if options.full else ", --quick" if options.quick else ""
    report = RunReport(started_at, time.monotonic() - begun, mode, machine, results)
    plots, why_not = write_plots(results, out_dir)
    markdown, json_path = write_report(report, out_dir, plots)
    _link_latest(options.results_root, out_dir)
    print()
    print(summary_table(results))
    print()
    if why_not:
        print(why_not)
    print(f"report: {markdown}\njson:   {json_path}\nplots:  {', '.join(plots) or 'none'}")
    print(f"whole run: {report.duration_s:.0f} s")
    return exit_code


def _install_peers(peers: list[str], scenarios: list[Scenario]) -> None:
    """Install each peer this run compares with before anything is timed (minutes, the first time only)."""
    if "fides" in peers and any(s.peer == "fides" for s in scenarios):
        from bench.peers import fides

        fides.ensure_installed(log)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _start_services(ctx: BenchContext, stack: LocalStack, options: Options, scenarios: list[Scenario]) -> None:
    """Migrate and start the five services as subprocesses; note their idle memory."""
    t0 = time.monotonic()
    stack.migrate()
    services = stack.start_services()
    log(f"services ready in {time.monotonic() - t0:.1f} s: " + ", ".join(f"{n} {p.url}" for n, p in services.items()))
    time.sleep(SETTLE_S)
    ctx.services = services
    ctx.targets = {name: proc.url for name, proc in services.items()}
    ctx.idle_rss = {name: proc.rss_bytes() for name, proc in services.items()}
    ctx.kafka_bootstrap = stack.bootstrap
    ctx.token = issue_token(stack.secrets.jwt_secret, options.tenant, admin_scopes(), now=datetime.now(UTC))
    log("idle RSS: " + ", ".join(f"{n} {mb(v):.0f} MB" for n, v in ctx.idle_rss.items()))
    ctx.idle_cores = asyncio.run(stack.cores_used(3.0))
    log(f"idle CPU of the whole stack: {ctx.idle_cores:.2f} cores (each scenario starts once it is back to that)")


async def run_scenarios(ctx: BenchContext, scenarios: list[Scenario], budget_s: float) -> None:
    """Run the scenarios in order (results in ``ctx.results``), each bounded by its timeout and the budget."""
    deadline = time.monotonic() + budget_s
    for scenario in scenarios:
        left = deadline - time.monotonic()
        begun = time.monotonic()
        if scenario.needs_local_services and not ctx.local:
            result = ScenarioResult.skipped(scenario.name, scenario.title, "needs the services this run starts")
        elif left < MIN_SCENARIO_S:
            result = ScenarioResult.skipped(scenario.name, scenario.title, "time budget of the run exhausted")
        else:
            stack, idle = ctx.stack, ctx.idle_cores
            settled = await stack.settle(idle) if ctx.local and stack is not None and idle is not None else 0.0
            log(f"{scenario.name}: {scenario.title}" + (" (the stack stayed busy for 60 s)" if settled is None else ""))
            result = await _execute(ctx, scenario, min(scenario.limit_s(full=ctx.full), left))
            if settled is None:
                result.notes.append("started on a busy stack: still above its idle CPU use after 60 s")
        result.duration_s = time.monotonic() - begun
        _check_services(ctx, result)
        ctx.results[scenario.name] = result
        log(f"{scenario.name}: {result.status} in {result.duration_s:.1f} s {result.reason}".rstrip())


async def _execute(ctx: BenchContext, scenario: Scenario, limit_s: float) -> ScenarioResult:
    try:
        return await asyncio.wait_for(scenario.execute(ctx), timeout=limit_s)
    except TimeoutError:
        return ScenarioResult.failed(scenario.name, scenario.title, f"timed out after {limit_s:.0f} s")
    except Exception as exc:
        with (ctx.out_dir / "errors.log").open("a") as errors:
            errors.write(f"--- {scenario.name}\n{traceback.format_exc()}\n")
        return ScenarioResult.failed(
            scenario.name, scenario.title, f"{type(exc).__name__}: {exc} (traceback in errors.log)"
        )


def _check_services(ctx: BenchContext, result: ScenarioResult) -> None:
    dead: list[Proc] = [p for p in ctx.services.values() if not p.alive()]
    for proc in dead:
        result.notes.append(f"{proc.name} exited with {proc.process.returncode}; see logs/{proc.name}.log")


def _link_latest(root: Path, out_dir: Path) -> None:
    latest = root / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(out_dir.name)
    except OSError:
        pass
