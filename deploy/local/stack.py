"""``privops up``: PostgreSQL, the broker, the SMTP server, every service and the demo stores, supervised together.

The broker keeps everything in memory, and consumers silently skip messages after a broker
restart, so the broker and the services always start and stop together: if any supervised
process dies, the whole stack stops (exit code 1). Ctrl-C or SIGTERM stops it cleanly (0).
PostgreSQL's data folder is kept in the state folder, so the data survives restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx

from deploy.local.clients import (
    CLI_CLIENT,
    PORTAL_CLIENT,
    PORTAL_CONSOLE_CLIENT,
    TokenError,
    client_specs,
    request_token,
    service_client_env,
    store_client_env,
    write_bootstrap,
)
from deploy.local.console import Endpoint, LogStream, make_console, print_summary
from deploy.local.demo import DEMO_TENANT, DPO_EMAIL, seed_demo_tenant
from deploy.local.infra import LOOPBACK, Broker, Postgres, start_broker, start_postgres
from deploy.local.mailserver import SMTP_PORT, LocalSmtp, wait_for_smtp
from deploy.local.secrets import LocalSecrets, load_local_secrets
from deploy.local.supervisor import (
    Child,
    Interrupted,
    RunFile,
    StopFlag,
    is_running,
    pick_ports,
    spawn,
    stop_children,
    tail,
)
from shared.runtime.auth import SERVICES, admin_scopes

READY_TIMEOUT_S = 60.0
SMTP_READY_TIMEOUT_S = 15.0
STOP_GRACE_S = 10.0
POLL_INTERVAL_S = 0.25
# Tokens of the local stack last a working day, so the token the summary prints serves a session of curl.
LOCAL_TOKEN_TTL = timedelta(hours=12)
EXAMPLE_REQUEST = ("retention", "/v1/schedules")


@dataclass(frozen=True)
class ExtraProcess:
    """A process started after the services are ready, such as a demo data store of ``examples/``.

    It runs as ``python -m <module> <args…>`` with ``env`` on top of the stack's environment, which
    also carries ``PRIVOPS_<SERVICE>_URL`` for every service and ``PRIVOPS_KAFKA_BOOTSTRAP_SERVERS``;
    a demo store gets its own client credentials (``PRIVOPS_IDENTITY_URL``, ``PRIVOPS_CLIENT_ID``,
    ``PRIVOPS_CLIENT_SECRET``). Its output is logged and streamed like a service's, and if it dies
    the stack stops, as for a service.
    """

    name: str
    module: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def demo_stores(state_dir: Path) -> list[ExtraProcess]:
    """The demo data stores of ``examples/`` (they use the SDK and register themselves with DSAR)."""
    stores = state_dir / "stores"
    return [
        ExtraProcess("crm-store", "examples.crm", env={"CRM_LEDGER": str(stores / "crm-ledger.sqlite3")}),
        ExtraProcess(
            "analytics-store",
            "examples.analytics",
            env={
                "ANALYTICS_DB_PATH": str(stores / "analytics.sqlite3"),
                "ANALYTICS_LEDGER": str(stores / "analytics-ledger.sqlite3"),
            },
        ),
    ]


class StackFailed(Exception):
    """The stack cannot start or keep running; the message says why."""


DEFAULT_BASE_PORT = 8001


def run_stack(state_dir: Path, base_port: int = DEFAULT_BASE_PORT) -> int:
    """Run the local stack until Ctrl-C or SIGTERM (exit code 0) or until a process dies (1)."""
    stack = LocalStack(state_dir.absolute())
    with StopFlag() as stop:
        try:
            stack.start(base_port, stop)
            return stack.watch(stop)
        except Interrupted as interrupt:
            stack.stream.note(f"{interrupt} during start-up: stopping", style="yellow")
            return 0
        except StackFailed as exc:
            stack.stream.note(str(exc), style="bold red")
            return 1
        finally:
            stack.stop()


class LocalStack:
    """The running parts of the stack, started in order and stopped in reverse."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log_dir = state_dir / "logs"
        self.console = make_console()
        self.stream = LogStream(self.console)
        self.run_file = RunFile(state_dir / "stack.json")
        self.postgres: Postgres | None = None
        self.broker: Broker | None = None
        self.broker_log: IO[bytes] | None = None
        self.smtp: LocalSmtp | None = None
        self.children: list[Child] = []
        self.started = time.monotonic()

    def start(self, base_port: int, stop: StopFlag) -> None:
        """Start everything, waiting until every service is ready; print the summary."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            leftovers = self.run_file.claim()
        except RuntimeError as exc:
            raise StackFailed(str(exc)) from None
        if leftovers:
            self.stream.note(f"ended processes left by a crashed run: {', '.join(leftovers)}", style="yellow")
        # Ports first: the portal's console client registers its callback URL in the bootstrap file.
        ports = dict(zip(SERVICES, pick_ports(base_port, len(SERVICES)), strict=True))
        (portal_port,) = pick_ports(base_port + len(SERVICES), 1)
        portal_url = f"http://{LOOPBACK}:{portal_port}"
        specs = client_specs(DEMO_TENANT, portal_url)
        secrets = load_local_secrets(self.state_dir, [spec.client_id for spec in specs])
        bootstrap = write_bootstrap(self.state_dir / "identity-clients.json", specs, secrets.clients)
        stop.check()
        self._step("PostgreSQL", self._start_postgres)
        stop.check()
        self._step("broker", self._start_broker)
        stop.check()
        self._step("migrations", lambda: self._migrate(secrets))
        stop.check()
        # The usual mail-sink port for the usual stack; another stack (a test's) keeps to its own range, so
        # two stacks starting at once never both see 1025 free and race for it.
        smtp_port = SMTP_PORT if base_port == DEFAULT_BASE_PORT else base_port + len(SERVICES) + 1
        self._step("SMTP server", lambda: self._start_smtp(secrets, smtp_port))
        stop.check()
        public_urls = {service: f"http://{LOOPBACK}:{port}" for service, port in ports.items()}
        for service, port in ports.items():
            args = ["-m", "deploy.cli", "serve", service, "--host", LOOPBACK, "--port", str(port)]
            with_portal = {**public_urls, "portal": portal_url}  # the mailed links of dsar and subprocessor
            env = service_environment(
                service, port, self._postgres(), self._broker(), secrets, self._smtp(), with_portal, bootstrap
            )
            if service == "consent":  # notice messages asking for renewal link to the privacy center
                env["CONSENT_PORTAL_URL"] = portal_url
            self._spawn(service, args, env, secrets, url=f"http://{LOOPBACK}:{port}")
            self.run_file.record_url(service, public_urls[service])
        self._wait_ready(stop)
        token = self._admin_token(secrets)
        urls = {child.name: child.url for child in self.children if child.url}
        try:
            seed_demo_tenant(
                urls,
                token,
                note=lambda text: self.stream.note(text, style="green"),
                warn=lambda text: self.stream.note(text, style="yellow"),
                dpo_password=secrets.demo_dpo_password,
            )
        except (RuntimeError, httpx.HTTPError) as exc:
            raise StackFailed(str(exc)) from None
        # The portal has no table: it is not one of SERVICES (no migrations, no outbox), and starts once
        # the services it calls are ready and the demo tenant (with its DPO) exists.
        args = ["-m", "uvicorn", "services.portal.app:create_app", "--factory", "--host", LOOPBACK]
        args += ["--port", str(portal_port), "--no-access-log", "--log-level", "warning"]
        env = portal_environment(portal_port, self._postgres(), self._broker(), secrets, public_urls)
        self._spawn("portal", args, env, secrets, url=portal_url)
        self.run_file.record_url("portal", portal_url)
        self._wait_ready(stop)
        (self.state_dir / "stores").mkdir(exist_ok=True)
        for extra in demo_stores(self.state_dir):
            env = {**extra.env, **store_client_env(extra.name, public_urls["identity"], secrets.clients)}
            self._spawn(extra.name, ["-m", extra.module, *extra.args], env, secrets, url=None)
        self._print_summary(secrets)

    def watch(self, stop: StopFlag) -> int:
        """Supervise until a stop is requested (0) or a process dies (1)."""
        while True:
            try:
                stop.sleep(0.5)
            except Interrupted as interrupt:
                self.stream.note(f"{interrupt}: stopping the stack", style="yellow")
                return 0
            dead = self._first_dead()
            if dead is not None:
                name, reason, log = dead
                self.console.rule(f"[bold red]{name} {reason}: stopping the whole stack", style="red")
                self.console.print(log, markup=False, highlight=False, soft_wrap=True)
                self.console.rule(style="red")
                return 1

    def stop(self) -> None:
        """Stop the processes (grace period, then SIGKILL), the broker, then PostgreSQL."""
        if not self.run_file.claimed:
            return  # nothing was started
        begun = time.monotonic()
        killed = stop_children(self.children, grace=STOP_GRACE_S)
        if killed:
            self.stream.note(f"killed after {STOP_GRACE_S:.0f} s: {', '.join(killed)}", style="yellow")
        self.children = []
        processes_done = time.monotonic()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        if self.broker_log is not None:
            self.broker_log.close()
            self.broker_log = None
        postgres_begun = time.monotonic()
        if self.postgres is not None:
            if is_running(self.postgres.pid):
                self.postgres.stop()
            self.postgres = None
        self.run_file.release()
        done = time.monotonic()
        self.stream.note(
            f"stopped in {done - begun:.1f} s (services {processes_done - begun:.1f} s, "
            f"broker {postgres_begun - processes_done:.1f} s, PostgreSQL {done - postgres_begun:.1f} s)"
        )

    def _step(self, what: str, action: Callable[[], str]) -> None:
        begun = time.monotonic()
        try:
            detail = action()
        except StackFailed:
            raise
        except Exception as exc:
            raise StackFailed(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        self.stream.note(f"{what}: {detail} ({time.monotonic() - begun:.1f} s)")

    def _start_postgres(self) -> str:
        self.postgres = start_postgres(self.state_dir / "pgdata")
        created = self.postgres.create_databases([*SERVICES, "portal"])  # the portal's: for its health check
        return f"127.0.0.1:{self.postgres.port}, databases created: {', '.join(created) or 'none (all present)'}"

    def _start_broker(self) -> str:
        log_path = self.log_dir / "broker.log"
        self.broker_log = log_path.open("wb")
        self.broker = start_broker(log=self.broker_log)
        self.run_file.record("broker", self.broker.process.pid)
        return self.broker.bootstrap

    def _start_smtp(self, secrets: LocalSecrets, wanted: int) -> str:
        # Its own process, supervised like a service: notify must find it before it sends anything.
        (port,) = pick_ports(wanted, 1)
        self.smtp = LocalSmtp.in_state_dir(self.state_dir, port)  # makes the certificate before notify reads it
        args = ["-m", "deploy.cli", "smtp", "--state-dir", str(self.state_dir), "--port", str(port)]
        self._spawn("smtp", args, {}, secrets, url=None)
        child = self.children[-1]
        try:
            wait_for_smtp(LOOPBACK, port, SMTP_READY_TIMEOUT_S, alive=lambda: child.exited() is None)
        except (RuntimeError, TimeoutError) as exc:
            child.reader.join(timeout=1.0)
            raise StackFailed(f"SMTP server: {exc}; end of its log:\n{tail(child.log_path)}") from None
        return f"{LOOPBACK}:{port}, STARTTLS and AUTH, mailbox {self.smtp.mailbox}"

    def _migrate(self, secrets: LocalSecrets) -> str:
        # In-process and sequential: about 0.1 s per service once imported, where a subprocess
        # per service pays about 1 s of imports each.
        from shared.runtime.migrations import upgrade

        assert self.postgres is not None
        for service in SERVICES:
            try:
                # The data kept in .privops/pgdata may hold references to re-key: the services' key.
                upgrade(service, self.postgres.url(service), subject_key=secrets.subject_hash_key)
            except Exception as exc:
                raise StackFailed(f"migrations of {service} failed: {type(exc).__name__}: {exc}") from exc
        return "every service at head"

    def _spawn(
        self, name: str, args: list[str], env: Mapping[str, str], secrets: LocalSecrets, url: str | None
    ) -> None:
        log_path = self.log_dir / f"{name}.log"
        environment = {**self._environment(secrets), **env}
        child = spawn(name, [sys.executable, *args], environment, log_path, self.stream.line, url)
        self.children.append(child)
        self.run_file.record(name, child.pid)

    def _environment(self, secrets: LocalSecrets) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["_TYPER_STANDARD_TRACEBACK"] = "1"  # plain tracebacks: they read better in a log file
        env["PRIVOPS_KAFKA_BOOTSTRAP_SERVERS"] = self._broker().bootstrap
        env["PRIVOPS_POSTGRES_URL"] = self._postgres().url("postgres", "postgresql")
        env["PRIVOPS_TENANTS"] = DEMO_TENANT
        env["PRIVOPS_SUBJECT_HASH_KEY"] = secrets.subject_hash_key  # demo stores: recognise held subjects in sweeps
        env["PRIVOPS_BROKER_EPOCH"] = "true"  # demo stores: the broker forgets its log when it restarts
        for child in self.children:
            if child.url:
                env[f"PRIVOPS_{child.name.upper()}_URL"] = child.url
        return env

    def _wait_ready(self, stop: StopFlag) -> None:
        waiting = {child.name: child for child in self.children if child.url}
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                dead = self._first_dead()
                if dead is not None:
                    name, reason, log = dead
                    raise StackFailed(f"{name} {reason} during start-up; end of its log:\n{log}")
                for name, child in list(waiting.items()):
                    try:
                        if client.get(f"{child.url}/readyz").status_code == 200:
                            del waiting[name]
                    except httpx.HTTPError:
                        pass
                if waiting and time.monotonic() > deadline:
                    report = "\n".join(f"--- {n} ({c.log_path}):\n{tail(c.log_path)}" for n, c in waiting.items())
                    raise StackFailed(
                        f"not ready after {READY_TIMEOUT_S:.0f} s: {', '.join(waiting)} (/readyz is not 200)\n{report}"
                    )
                if waiting:
                    stop.sleep(POLL_INTERVAL_S)

    def _first_dead(self) -> tuple[str, str, str] | None:
        """The first process that ended: its name, how it ended, and the end of its log."""
        for child in self.children:
            code = child.exited()
            if code is not None:
                child.reader.join(timeout=1.0)
                return child.name, exit_reason(code), tail(child.log_path)
        if self.broker is not None and self.broker.process.poll() is not None:
            return "broker", exit_reason(self.broker.process.returncode), tail(self.log_dir / "broker.log")
        if self.postgres is not None and not is_running(self.postgres.pid):
            return "PostgreSQL", "stopped", tail(self.postgres.data_dir / "log")
        return None

    def _print_summary(self, secrets: LocalSecrets) -> None:
        postgres, broker, smtp = self._postgres(), self._broker(), self._smtp()
        token = self._admin_token(secrets)
        urls = {child.name: child.url for child in self.children}
        service, path = EXAMPLE_REQUEST
        print_summary(
            self.console,
            [Endpoint(child.name, child.url) for child in self.children],
            [
                ("PostgreSQL", postgres.url("<service>", "postgresql")),
                ("Kafka bootstrap", broker.bootstrap),
                (
                    "SMTP",
                    f"{smtp.host}:{smtp.port} (STARTTLS with {smtp.cert}; AUTH as {smtp.username}, "
                    f"password in {self.state_dir / 'secrets.json'})",
                ),
                ("mailbox", f"{smtp.mailbox}/ (one .eml file per message the platform sent)"),
                (
                    "portal",
                    f"{urls.get('portal')}/p/{DEMO_TENANT} (privacy center); {urls.get('portal')}/console as "
                    f"{DPO_EMAIL}, password demo_dpo_password in {self.state_dir / 'secrets.json'}",
                ),
                ("logs", f"{self.log_dir}/<name>.log (PostgreSQL: {postgres.data_dir}/log)"),
            ],
            token,
            f'curl -s -H "Authorization: Bearer $PRIVOPS_TOKEN" {urls[service]}{path}',
        )
        self.stream.note(
            f"privops is ready in {time.monotonic() - self.started:.1f} s; Ctrl-C stops everything", style="bold green"
        )

    def _admin_token(self, secrets: LocalSecrets) -> str:
        """A demo-tenant admin token from the identity service, with the CLI's client credentials."""
        identity = next(child.url for child in self.children if child.name == "identity")
        assert identity is not None
        try:
            return request_token(identity, CLI_CLIENT, secrets.clients[CLI_CLIENT], DEMO_TENANT, admin_scopes())
        except TokenError as exc:
            raise StackFailed(str(exc)) from None

    def _postgres(self) -> Postgres:
        assert self.postgres is not None, "PostgreSQL is not started"
        return self.postgres

    def _smtp(self) -> LocalSmtp:
        assert self.smtp is not None, "the SMTP server is not started"
        return self.smtp

    def _broker(self) -> Broker:
        assert self.broker is not None, "the broker is not started"
        return self.broker


def exit_reason(code: int) -> str:
    """``exited with code 3`` or ``was killed by SIGKILL``."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def service_environment(
    service: str,
    port: int,
    postgres: Postgres,
    broker: Broker,
    secrets: LocalSecrets,
    smtp: LocalSmtp,
    public_urls: Mapping[str, str] | None = None,
    bootstrap: Path | None = None,
) -> dict[str, str]:
    """The environment variables one service reads (prefix ``<SERVICE>_``); notify also gets the SMTP server's.

    The identity service gets its key-encryption key and the clients' bootstrap file; every other
    service its own client credentials and the identity service's URL (no shared token secret).
    """
    prefix = f"{service.upper()}_"
    urls = dict(public_urls or {})
    portal = urls.pop("portal", None)
    values = {
        "DATABASE_URL": postgres.url(service),
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "SUBJECT_HASH_KEY": secrets.subject_hash_key,
        "SIGNING_KEY": secrets.signing_key,
        "PUBLIC_URL": f"http://{LOOPBACK}:{port}",
        "ENVIRONMENT": "local",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        # Short group joins: a memory-only broker restarts with the stack, so rebalances are rare.
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        # Tansu forgets its log when it restarts: heartbeat markers notice, relays replay, consumers rewind.
        "BROKER_EPOCH": "true",
    }
    if portal and service in ("dsar", "subprocessor"):
        values["PORTAL_URL"] = portal  # a package's link, a change notice's answer page
    if service == "identity":
        values["KEY_ENCRYPTION_KEY"] = secrets.identity_key_encryption_key
        values["BOOTSTRAP_FILE"] = str(bootstrap) if bootstrap else ""
        values["TOKEN_TTL_S"] = str(int(LOCAL_TOKEN_TTL.total_seconds()))
        # An evidence pack gathers every other service's evidence.
        values["SERVICE_URLS"] = json.dumps({name: url for name, url in urls.items() if name != "identity"})
    if service == "notify":
        values |= smtp.notify_settings()
        # Alerts link to the object in the service that owns it.
        values["SERVICE_URLS"] = json.dumps({name: url for name, url in urls.items() if name != "identity"})
    environment = {prefix + key: value for key, value in values.items()}
    if service != "identity" and "identity" in urls:
        environment |= service_client_env(service, urls["identity"], secrets.clients)
    return environment


def portal_environment(
    port: int, postgres: Postgres, broker: Broker, secrets: LocalSecrets, public_urls: Mapping[str, str]
) -> dict[str, str]:
    """The portal's environment (prefix ``PORTAL_``): the services' URLs and its two identity clients."""
    values = {
        "DATABASE_URL": postgres.url("portal"),
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "SUBJECT_HASH_KEY": secrets.subject_hash_key,
        "SIGNING_KEY": secrets.signing_key,
        "PUBLIC_URL": f"http://{LOOPBACK}:{port}",
        "ENVIRONMENT": "local",
        "LOG_FORMAT": "json",
        "IDENTITY_URL": public_urls["identity"],
        "CLIENT_ID": PORTAL_CLIENT,
        "CLIENT_SECRET": secrets.clients[PORTAL_CLIENT],
        "CONSOLE_CLIENT_ID": PORTAL_CONSOLE_CLIENT,
        "CONSOLE_CLIENT_SECRET": secrets.clients[PORTAL_CONSOLE_CLIENT],
        "DSAR_URL": public_urls["dsar"],
        "CONSENT_URL": public_urls["consent"],
        "SUBPROCESSOR_URL": public_urls["subprocessor"],
        "BREACH_URL": public_urls["breach"],
        "RETENTION_URL": public_urls["retention"],
        "NOTIFY_URL": public_urls["notify"],
    }
    return {f"PORTAL_{key}": value for key, value in values.items()}
