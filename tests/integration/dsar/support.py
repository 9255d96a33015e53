"""The DSAR service on a real loopback port (stores call its claim URLs over HTTP), and its messages.

DSAR sends no mail itself: a message's content is read as the notify service reads it, by claim.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from deploy.local.infra import free_port
from services.dsar.app import create_app
from services.dsar.settings import DsarSettings
from services.notify.domain import Message, TemplateCatalogue
from shared.rules.clock import ManualClock
from tests.support.notifications import claim
from tests.support.stack import Infra, auth

TENANT = "acme"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
WRITE = auth(TENANT, "dsar:write")
ADMIN = auth(TENANT, "dsar:admin")
READ = auth(TENANT, "dsar:read")


@dataclass
class Dsar:
    """A running DSAR service: its HTTP client, settings, clock and runtime."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: DsarSettings
    clock: ManualClock

    @property
    def url(self) -> str:
        """The service's base URL."""
        return self.settings.public_url

    @property
    def runtime(self) -> Any:
        """Database, relay, consumers and jobs."""
        return self.app.state.runtime

    async def wait_consumers_ready(self, timeout: float = 20.0) -> None:
        """Wait until every consumer group has partitions assigned."""
        async with asyncio.timeout(timeout):
            for consumer in self.runtime.consumers:
                await consumer.started.wait()
                while consumer.consumer is None or not consumer.consumer.assignment():
                    await asyncio.sleep(0.05)

    async def messages(self, request_id: str) -> list[dict[str, Any]]:
        """The messages about a request, oldest first, with their delivery state."""
        response = await self.client.get(f"/v1/requests/{request_id}/messages", headers=READ)
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result

    async def claimed(self, request_id: str, template: str, tenant: str = TENANT) -> dict[str, Any]:
        """The newest message of ``template`` about a request, claimed as the notify service claims it."""
        ids = [m["id"] for m in await self.messages(request_id) if m["template"] == template]
        assert ids, f"no {template} message about request {request_id}"
        return await claim(self.client, f"/v1/notifications/{ids[-1]}/claim", tenant)

    async def code_for(self, request_id: str) -> str:
        """The newest verification code sent for a request."""
        claimed = await self.claimed(request_id, "dsar.verification_code")
        code: str = claimed["context"]["code"]
        return code

    async def open(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST a request and return its JSON (asserting 201)."""
        response = await self.client.post("/v1/requests", json=body, headers=headers or WRITE)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def request(self, request_id: str) -> dict[str, Any]:
        """GET one request."""
        response = await self.client.get(f"/v1/requests/{request_id}", headers=READ)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@contextlib.asynccontextmanager
async def serve_dsar(
    infra: Infra, topic_prefix: str, clock: ManualClock | None = None, **overrides: Any
) -> AsyncIterator[Dsar]:
    """Run the DSAR service with uvicorn on 127.0.0.1 (lifespan, relay, consumers, jobs) and stop it."""
    port = free_port()
    values = {"public_url": f"http://127.0.0.1:{port}", "jobs_enabled": False}
    settings = infra.settings("dsar", infra.fresh_database("dsar"), topic_prefix, **{**values, **overrides})
    assert isinstance(settings, DsarSettings)
    the_clock = clock or ManualClock(START)
    app = create_app(settings, clock=the_clock)
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
            yield Dsar(app, client, settings, the_clock)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def render(claimed: dict[str, Any]) -> Message:
    """A claimed message as the notify service renders it, in its language (the context must be enough)."""
    return TemplateCatalogue().render(claimed["template"], claimed["locale"], claimed["context"])


def request_body(kind: str = "erasure", jurisdiction: str = "eu-gdpr", **extra: Any) -> dict[str, Any]:
    """A request for Ada (email and user id) of the given type."""
    return {
        "type": kind,
        "jurisdiction": jurisdiction,
        "identifiers": [{"kind": "email", "value": "Ada@Example.com"}, {"kind": "user_id", "value": "u-1001"}],
        **extra,
    }
