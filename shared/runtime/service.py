"""The service factory: every privops service is built the same way.

``create_service_app`` wires settings, logging, database, Kafka producer, outbox relay,
consumers, periodic jobs, auth, problem responses, health and metrics. Resources are built in
``lifespan``, never at import time, so tests build apps with their own settings and clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.bus.consumer import ConsumerRunner, Subscription
from shared.bus.outbox import purge_published
from shared.bus.relay import OutboxRelay
from shared.bus.topic_admin import TOPIC_PARTITIONS, create_missing_topics, produced_topics
from shared.events.topics import dead_letter_topic
from shared.rules.clock import Clock, SystemClock
from shared.rules.errors import PROBLEM_JSON
from shared.runtime import audit
from shared.runtime.admin import dead_letters_router
from shared.runtime.audit_api import audit_router
from shared.runtime.auth import TokenVerifier
from shared.runtime.db import REQUEST_CLOSERS, Database
from shared.runtime.evidence import EvidenceSection, evidence_router
from shared.runtime.hotpath import HotPath, HotPathMiddleware
from shared.runtime.jobs import JobContext, JobRunner, PeriodicJob
from shared.runtime.logging import CORRELATION_HEADER, accept_correlation_id, bind_request_context, configure_logging
from shared.runtime.metrics import HTTP_LATENCY, HTTP_REQUESTS, metrics_endpoint
from shared.runtime.problems import install_problem_handlers, refuse_nul
from shared.runtime.settings import ServiceSettings
from shared.runtime.signing import document_keys_router
from shared.runtime.tenant_ends import keep_refreshed, tenant_ends_subscription

log = structlog.get_logger("privops.service")

PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
OUTBOX_RETENTION = timedelta(days=7)
EVIDENCE_TAG = {"name": "evidence", "description": "Evidence of compliance for a period, without personal data"}


@dataclass
class ServiceSpec:
    """Everything that makes one service itself: routes, subscriptions, jobs and documentation."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Sequence[Subscription] = ()
    jobs: Sequence[PeriodicJob] = ()
    hot_paths: Sequence[HotPath] = ()
    # Evidence sections (``shared.runtime.evidence``), served at GET /v1/evidence; None: the service keeps none.
    evidence: Sequence[EvidenceSection] | None = None
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)
    version: str = "0.1.0"
    # A service with tables records ended tenants and refuses their tokens (``shared.runtime.tenant_ends``).
    owns_tables: bool = True


@dataclass
class Runtime:
    """The resources a running service holds (``app.state.runtime``)."""

    settings: ServiceSettings
    database: Database
    producer: AIOKafkaProducer
    clock: Clock
    relay: OutboxRelay
    consumers: list[ConsumerRunner]
    jobs: JobRunner
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # What every process runs, API-only ones too: the ended tenants' refresh (``shared.runtime.tenant_ends``).
    watchers: list[asyncio.Task[None]] = field(default_factory=list)


def builtin_jobs() -> list[PeriodicJob]:
    """Jobs every service runs: seal the audit chain, purge old published outbox rows."""

    async def seal_audit(ctx: JobContext[Any]) -> int:
        async with ctx.database.session() as session:
            return await audit.seal(session)

    async def purge_outbox(ctx: JobContext[Any]) -> int:
        async with ctx.database.session() as session:
            return await purge_published(session, OUTBOX_RETENTION, ctx.clock.now())

    return [
        PeriodicJob("audit.seal", seal_audit, interval_s=1.0),
        PeriodicJob("outbox.purge", purge_outbox, interval_s=3600.0),
    ]


def subscriptions_of(spec: ServiceSpec) -> list[Subscription]:
    """The service's subscriptions, and the one every service runs: ended tenants (their tokens are refused)."""
    return [*spec.subscriptions, *([tenant_ends_subscription()] if spec.owns_tables else [])]


async def ensure_topics(settings: ServiceSettings, topics: set[str], partitions: int = TOPIC_PARTITIONS) -> None:
    """Create missing topics (the broker may have automatic creation switched off)."""
    await create_missing_topics(settings.kafka_bootstrap_servers, {settings.topic(t) for t in topics}, partitions)


async def start_producer(settings: ServiceSettings, attempts: int = 30) -> AIOKafkaProducer:
    """Start the Kafka producer, retrying while the broker comes up."""
    for attempt in range(1, attempts + 1):
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"privops-{settings.service_name}",
            acks="all",
            linger_ms=5,
            enable_idempotence=False,  # unsupported by the dev broker; the outbox and inbox give the guarantees
            max_request_size=4 * 1024 * 1024,
            # Record batches of up to 512 KB (the client's default is 16 KB, some 17 events): the relay
            # fills them itself, and a batch of a few hundred events costs one hand-over, not dozens.
            max_batch_size=512 * 1024,
            request_timeout_ms=15_000,
        )
        try:
            await producer.start()
            return producer
        except Exception as exc:
            await producer.stop()
            if attempt == attempts:
                raise
            log.warning("kafka.producer.retry", attempt=attempt, error=str(exc))
            await asyncio.sleep(1.0)
    raise RuntimeError("unreachable")


async def _producer_for(spec: ServiceSpec, settings: ServiceSettings) -> AIOKafkaProducer:
    """The started Kafka producer (topics created) of a process doing background work.

    An API-only process never talks to Kafka: its events wait in the outbox for the worker's relay.
    It gets a producer object that is never started.
    """
    if not settings.role.runs_background:
        return AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    producer = await start_producer(settings)
    topics = produced_topics(settings.service_name)
    for sub in subscriptions_of(spec):
        topics |= set(sub.topic_names())
    await ensure_topics(settings, topics | {dead_letter_topic(s.group_id(settings)) for s in subscriptions_of(spec)})
    return producer


YOUNG_GC_THRESHOLD = 10_000
_heap_settled = False


def settle_heap() -> None:
    """Once started: keep the collector off the startup objects and off every short-lived request.

    ``gc.freeze()`` moves what exists now (modules, classes, the app: most of the heap) to a
    permanent generation the collector no longer scans, and a larger first-generation threshold
    (10,000 allocations instead of 700) makes collections rarer. Without it, a bulk import or a
    burst of events triggered full collections of 70–90 ms every second or so, each one a pause
    for every request and for the relay.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)


def create_service_app(spec: ServiceSpec, settings: ServiceSettings, *, clock: Clock | None = None) -> FastAPI:
    """Build the FastAPI application of one service."""
    the_clock = clock or SystemClock()

    role = settings.role

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level, settings.log_format)
        database = Database.from_settings(settings)
        producer = await _producer_for(spec, settings)
        relay = OutboxRelay(database, producer, settings)
        consumers = [
            ConsumerRunner(sub, database=database, producer=producer, settings=settings, clock=the_clock)
            for sub in subscriptions_of(spec)
        ]
        job_context = JobContext(database=database, clock=the_clock, settings=settings)
        jobs = JobRunner([*builtin_jobs(), *spec.jobs], job_context)
        runtime = Runtime(settings, database, producer, the_clock, relay, consumers, jobs)
        app.state.runtime = runtime
        app.state.database = database
        app.state.clock = the_clock
        app.state.settings = settings
        if role.serves_api and spec.owns_tables:
            await database.open_direct()
        if role.runs_background:
            runtime.tasks.append(asyncio.create_task(relay.run(), name=f"{spec.name}.relay"))
            runtime.tasks += [asyncio.create_task(c.run(), name=f"{c.group}.consumer") for c in consumers]
            if settings.jobs_enabled:
                runtime.tasks.append(asyncio.create_task(jobs.run(), name=f"{spec.name}.jobs"))
        # Every process, API-only ones too, refuses the tokens of tenants whose contract has ended.
        if spec.owns_tables:
            runtime.watchers.append(asyncio.create_task(keep_refreshed(database, app.state), name=f"{spec.name}.ends"))
        settle_heap()
        log.info("service.started", service=spec.name, role=role.value, public_url=settings.public_url)
        try:
            yield
        finally:
            relay.stop()
            jobs.stop()
            for consumer in consumers:
                consumer.stop()
            _, pending = await asyncio.wait(runtime.tasks, timeout=5.0) if runtime.tasks else (set(), set())
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for watcher in runtime.watchers:
                watcher.cancel()
            await asyncio.gather(*runtime.watchers, return_exceptions=True)
            await producer.stop()
            await database.dispose()
            log.info("service.stopped", service=spec.name)

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        openapi_tags=[
            *spec.openapi_tags,
            *([EVIDENCE_TAG] if spec.evidence is not None else []),
            {"name": "dead letters", "description": "Events the consumer groups gave up on: see, replay, discard"},
            {"name": "audit", "description": "The tenant's audit log and the verification of its hash chain"},
            {"name": "operations", "description": "Health, readiness and metrics"},
        ],
    )
    app.state.token_verifier = TokenVerifier(
        settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        jwks_url=settings.jwks_url,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    app.state.clock = the_clock
    app.state.settings = settings
    install_problem_handlers(app)
    if role.serves_api:  # added first, so it runs inside the request context
        app.add_middleware(HotPathMiddleware, paths=spec.hot_paths, service=spec.name)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    app.include_router(operations_router())
    if role.serves_api and spec.name != "identity":  # the identity service publishes the keys it holds
        app.include_router(document_keys_router())
    # A worker serves health and metrics only; every API gets the dead letters of its consumer groups and
    # its audit log.
    evidence = [evidence_router(spec.evidence)] if spec.evidence is not None else []
    for router in [*spec.routers, *evidence, dead_letters_router(), audit_router(spec.name)] if role.serves_api else ():
        app.include_router(router, dependencies=[Depends(refuse_nul)])
    _document_problems(app)
    return app


def operations_router() -> APIRouter:
    """Liveness, readiness and metrics endpoints."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the database answers (and the broker, where background work runs)")
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime | None = getattr(request.app.state, "runtime", None)
        checks: dict[str, str] = {}
        if runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            async with asyncio.timeout(2.0), runtime.database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        role = runtime.settings.role
        if role.runs_background:
            try:
                async with asyncio.timeout(2.0):
                    ok = await runtime.producer.client.force_metadata_update()
                checks["broker"] = "ok" if ok else "error: no metadata"
            except Exception as exc:
                checks["broker"] = f"error: {type(exc).__name__}"
            checks["outbox_relay"] = "active" if runtime.relay.active else "standby"
        ready = all(checks[name] == "ok" for name in ("database", "broker") if name in checks)
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "role": role.value, "checks": checks},
            status_code=200 if ready else 503,
        )

    router.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    return router


def _document_problems(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for code, response in operation.get("responses", {}).items():
                    if code.startswith(("4", "5")) and "content" in response:
                        content = response["content"]
                        content.pop("application/json", None)
                        content[PROBLEM_JSON] = {"schema": {"$ref": "#/components/schemas/Problem"}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class RequestContextMiddleware:
    """Correlation id in and out, W3C trace context, request metrics (pure ASGI, for speed)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        correlation_id = accept_correlation_id(headers.get(CORRELATION_HEADER))
        bind_request_context(correlation_id, headers.get("traceparent"))
        started = time.perf_counter()
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((CORRELATION_HEADER.encode(), correlation_id.encode()))
            await send(message)

        closers: list[Callable[[], Awaitable[None]]] = []
        scope[REQUEST_CLOSERS] = closers  # what the request opened lazily (a read-only unit's session)
        try:
            await self.app(scope, receive, send_with_context)
        finally:
            for close in closers:
                try:
                    await close()
                except Exception as exc:  # the response is out: a connection that fails to close is the pool's to drop
                    log.warning("request.close_failed", error=str(exc) or type(exc).__name__)
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            if path not in ("/metrics",):
                HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
                HTTP_LATENCY.labels(self.service, scope["method"], path).observe(time.perf_counter() - started)


async def settings_of(request: Request) -> Any:
    """The running service's settings (each service annotates them with its own settings class)."""
    return request.app.state.settings


async def clock_of(request: Request) -> Clock:
    """The service's clock."""
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(clock_of)]
