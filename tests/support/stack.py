"""Test harness: the real PostgreSQL and broker, fresh databases, services run in-process."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
import socket
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from deploy.local.infra import Broker, Postgres, free_port
from deploy.local.supervisor import port_is_free
from shared.rules.clock import Clock, ManualClock
from shared.runtime.auth import issue_token
from shared.runtime.settings import ServiceSettings

SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify", "identity")
JWT_SECRET = "test-jwt-secret-" + "x" * 32
SUBJECT_KEY = "test-subject-key-" + "y" * 32
SIGNING_KEY = "test-signing-key-" + "z" * 32
KEY_ENCRYPTION_KEY = "test-key-encryption-key-" + "k" * 32  # the identity service's; others ignore it


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of a service."""
    module = importlib.import_module(f"services.{service}.settings")
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")


@dataclass
class Infra:
    """The session's PostgreSQL cluster and broker, plus migrated template databases."""

    postgres: Postgres
    broker: Broker
    templates: dict[str, str] = field(default_factory=dict)

    def fresh_database(self, service: str) -> str:
        """A new database for ``service`` with every migration applied (copied from its template)."""
        name = f"{service}_{uuid.uuid4().hex[:10]}"
        self.postgres.create_databases([name], template=self.templates[service])
        return self.postgres.url(name)

    def settings(self, service: str, database_url: str, topic_prefix: str, **overrides: Any) -> ServiceSettings:
        """Settings of ``service`` for a test: real database and broker, short consumer timeouts."""
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap_servers": self.broker.bootstrap,
            "jwt_secret": JWT_SECRET,
            "subject_hash_key": SUBJECT_KEY,
            "signing_key": SIGNING_KEY,
            "key_encryption_key": KEY_ENCRYPTION_KEY,
            "environment": "test",
            "topic_prefix": topic_prefix,
            "consumer_session_timeout_ms": 2000,
            "consumer_retry_backoff_s": 0.05,
            "relay_poll_interval_s": 0.2,
            "db_pool_size": 5,
            "log_level": "WARNING",
            "broker_epoch": True,  # the tests' broker is Tansu, which forgets its log when it restarts
        }
        values.update(overrides)
        return settings_class(service)(**values)


def token(tenant: str, *scopes: str, secret: str = JWT_SECRET, **kwargs: Any) -> str:
    """A bearer token for tests."""
    return issue_token(secret, tenant, scopes, now=datetime.now(UTC), **kwargs)


def auth(tenant: str, *scopes: str) -> dict[str, str]:
    """Authorization header for ``tenant`` with ``scopes``."""
    return {"Authorization": f"Bearer {token(tenant, *scopes)}"}


@dataclass
class RunningService:
    """A service running in-process with its lifespan (relay, consumers, jobs) and an HTTP client."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    clock: Clock

    @property
    def runtime(self) -> Any:
        """The service's resources (database, producer, relay, consumers, jobs)."""
        return self.app.state.runtime

    async def wait_consumers_ready(self, timeout: float = 15.0) -> None:
        """Wait until every consumer group has joined and has partitions assigned."""
        async with asyncio.timeout(timeout):
            for consumer in self.runtime.consumers:
                await consumer.started.wait()
                while consumer.consumer is None or not consumer.consumer.assignment():
                    await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def run_service(
    service: str, settings: ServiceSettings, clock: Clock | None = None
) -> AsyncIterator[RunningService]:
    """Start ``service`` in-process (exactly what uvicorn runs) and stop it at the end."""
    module = importlib.import_module(f"services.{service}.app")
    the_clock = clock or ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app: FastAPI = module.create_app(settings, clock=the_clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield RunningService(service, app, client, settings, the_clock)


def consecutive_free_ports(count: int) -> int:
    """A port ``p`` with ``p … p + count - 1`` free right now (the stack falls back to free ports anyway).

    Taken below the kernel's ephemeral range (32768 and up): there, the outgoing connections the
    stack opens while starting could take one of these ports between the check and the bind.
    """
    for _ in range(50):
        base = random.randrange(20_000, 32_000 - count)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    return free_port()


def loopback_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1 (a free port by default): its URL is known before the app is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    return sock


def socket_url(sock: socket.socket) -> str:
    """The base URL of a loopback socket."""
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def serve_http(app: FastAPI, sock: socket.socket | None = None, *, port: int = 0) -> AsyncIterator[str]:
    """Serve an app already started (``run_service``) over real HTTP on 127.0.0.1; yield its base URL.

    For clients that need a socket (the synchronous client of ``privops consent import``, services calling
    each other). ``sock`` (``loopback_socket``) or ``port`` when the URL must be known before the app is built.
    """
    import uvicorn

    sock = sock or loopback_socket(port)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield socket_url(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


async def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 15.0) -> list[Any]:
    """Read ``expect`` records from the start of ``topic`` (no consumer group)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expect:
                batch = await consumer.getmany(timeout_ms=200)
                for items in batch.values():
                    records.extend(items)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records


async def eventually(check: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll an async ``check`` until it returns a truthy value; fail with the last value on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)


def unique_prefix() -> str:
    """A topic prefix unique to one test, so tests never read each other's events."""
    return f"t{uuid.uuid4().hex[:8]}."


def all_services() -> Iterable[str]:
    """Names of the services."""
    return SERVICES
