"""Helpers for the breach service's integration tests: a running service, events read back from the broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaProducer
from sqlmodel import col, func, select

from deploy.local.infra import free_port
from services.breach.app import create_app
from shared.bus.outbox import OutboxMessage, build_envelope
from shared.events.catalogue import Event
from shared.events.envelope import CloudEvent
from shared.rules.clock import ManualClock
from tests.support.stack import Infra, RunningService, auth, eventually, read_topic, run_service

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRITER = ("breach:write",)
ADMIN = ("breach:admin",)
CLAIM = ("notify:claim",)
REF_A, REF_B = "a" * 64, "b" * 64

INCIDENT = {
    "title": "Customer table exported",
    "description": "A phished support account exported the customer table.",
    "detected_at": "2026-03-02T07:30:00Z",
    "aware_at": "2026-03-02T08:00:00Z",
    "reporter": "security-oncall",
    "nature": ["confidentiality"],
    "systems": ["crm"],
    "data_categories": ["contact details", "payment card (last 4 digits)"],
    "data_subject_categories": ["customers"],
    "approximate_subjects": 1200,
    "jurisdictions": ["eu-gdpr"],
    "containment": "Account disabled at 08:20 UTC.",
    "measures_taken": ["Support account disabled and sessions revoked"],
    "likely_consequences": "Phishing aimed at the customers whose e-mail addresses were exported.",
}


# The tenant's notice settings: the contact point, the authority, two customers, French by default.
SETTINGS: dict[str, Any] = {
    "contact": {"name": "Jeanne Martin", "email": "dpo@acme.test", "phone": "+33 1 23 45 67 89"},
    "authorities": {"eu-gdpr": {"name": "CNIL", "email": "notifications@cnil.test", "locale": "fr"}},
    "customers": {
        "cust-1": {"name": "Globex privacy", "email": "privacy@globex.test", "locale": "en"},
        "cust-2": {"email": "dpo@initech.test"},
    },
    "default_locale": "fr",
}


@contextlib.asynccontextmanager
async def breach_service(
    infra: Infra, topic_prefix: str, *, configured: bool = True, **overrides: Any
) -> AsyncIterator[RunningService]:
    """The breach service on a fresh database, with a manual clock at NOW and jobs run by hand.

    ``configured``: tenant acme's notice settings are SETTINGS (put through the API, as an admin would).
    """
    settings = infra.settings("breach", infra.fresh_database("breach"), topic_prefix, jobs_enabled=False, **overrides)
    async with run_service("breach", settings, ManualClock(NOW)) as svc:
        if configured:
            response = await svc.client.put("/v1/settings", json=SETTINGS, headers=auth("acme", *ADMIN))
            assert response.status_code == 200, response.text
        yield svc


@contextlib.asynccontextmanager
async def serve_breach(infra: Infra, topic_prefix: str, **overrides: Any) -> AsyncIterator[RunningService]:
    """The breach service over real HTTP on 127.0.0.1 (its claim and link URLs reachable by another service).

    A manual clock at NOW, jobs run by hand, tenant acme's notice settings are SETTINGS.
    """
    port = free_port()
    values = {"public_url": f"http://127.0.0.1:{port}", "jobs_enabled": False} | overrides
    settings = infra.settings("breach", infra.fresh_database("breach"), topic_prefix, **values)
    clock = ManualClock(NOW)
    app = create_app(settings, clock=clock)  # type: ignore[arg-type]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=30.0) as client:
            svc = RunningService("breach", app, client, settings, clock)
            response = await client.put("/v1/settings", json=SETTINGS, headers=auth("acme", *ADMIN))
            assert response.status_code == 200, response.text
            yield svc
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def staged(svc: RunningService, topic: str, event_type: str | None = None) -> int:
    """How many events the service has staged for a topic (optionally of one type)."""
    async with svc.runtime.database.session() as session:
        statement = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.topic) == topic)
        if event_type:
            statement = statement.where(col(OutboxMessage.event_type) == event_type)
        return int((await session.exec(statement)).one())


async def published(svc: RunningService, topic: str) -> list[CloudEvent]:
    """Every event the service staged for ``topic``, read back from the real broker once the relay sent it."""

    async def all_sent() -> int:
        async with svc.runtime.database.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.topic) == topic))).all()
        return len(rows) if rows and all(row.published_at for row in rows) else 0

    count = await eventually(all_sent)
    records = await read_topic(svc.settings.kafka_bootstrap_servers, svc.settings.topic(topic), expect=count)
    assert len(records) == count
    return [CloudEvent.from_kafka(list(r.headers), r.value) for r in records]


async def produce(
    svc: RunningService, event: Event, tenant: str = "acme", source: str = "/privops/test", times: int = 1
) -> None:
    """Publish an event to the broker as another service would (``times``: the same envelope, redelivered)."""
    envelope = build_envelope(event, source=source, tenant_id=tenant, subject=None, now=NOW)
    producer = AIOKafkaProducer(bootstrap_servers=svc.settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(
                svc.settings.topic(event.topic),
                value=envelope.data_bytes(),
                key=tenant.encode(),
                headers=envelope.to_kafka_headers(),
            )
    finally:
        await producer.stop()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body
