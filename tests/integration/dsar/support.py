"""The DSAR service on a real loopback port (stores call its claim URLs over HTTP), and its mailbox."""

from __future__ import annotations

import asyncio
import contextlib
import email
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from deploy.local.infra import free_port
from services.dsar.app import create_app
from services.dsar.settings import DsarSettings
from shared.rules.clock import ManualClock
from tests.support.stack import Infra, auth

TENANT = "acme"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
WRITE = auth(TENANT, "dsar:write")
ADMIN = auth(TENANT, "dsar:admin")
READ = auth(TENANT, "dsar:read")


@dataclass
class Dsar:
    """A running DSAR service: its HTTP client, settings, clock, runtime and mailbox."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: DsarSettings
    clock: ManualClock
    mailbox: Path

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

    def mails(self) -> list[email.message.Message]:
        """Every message the mailbox transport wrote, oldest first."""
        files = sorted(self.mailbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes()) for p in files]

    def mails_about(self, request_id: str) -> list[email.message.Message]:
        """Messages mentioning a request id."""
        return [m for m in self.mails() if request_id in str(m.get_payload(decode=True), "utf-8")]

    async def mail_with_subject(self, request_id: str, words: str, timeout: float = 15.0) -> str:
        """The body of the first mail about a request whose subject contains ``words`` (waits for the sender)."""
        async with asyncio.timeout(timeout):
            while True:
                for message in self.mails_about(request_id):
                    if words in str(message["Subject"]):
                        return str(message.get_payload(decode=True), "utf-8")
                await asyncio.sleep(0.1)

    async def code_for(self, request_id: str, timeout: float = 15.0) -> str:
        """The newest verification code mailed for a request (waits for the sender)."""
        async with asyncio.timeout(timeout):
            while True:
                for message in reversed(self.mails_about(request_id)):
                    match = re.search(r"give this code: (\d{6})", str(message.get_payload(decode=True), "utf-8"))
                    if match:
                        return match.group(1)
                await asyncio.sleep(0.1)

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
    infra: Infra, topic_prefix: str, tmp_path: Path, clock: ManualClock | None = None, **overrides: Any
) -> AsyncIterator[Dsar]:
    """Run the DSAR service with uvicorn on 127.0.0.1 (lifespan, relay, consumers, jobs) and stop it."""
    port = free_port()
    mailbox = tmp_path / "mailbox"
    values = {"public_url": f"http://127.0.0.1:{port}", "mailbox_dir": str(mailbox), "jobs_enabled": False}
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
            yield Dsar(app, client, settings, the_clock, mailbox)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def request_body(kind: str = "erasure", jurisdiction: str = "eu-gdpr", **extra: Any) -> dict[str, Any]:
    """A request for Ada (email and user id) of the given type."""
    return {
        "type": kind,
        "jurisdiction": jurisdiction,
        "identifiers": [{"kind": "email", "value": "Ada@Example.com"}, {"kind": "user_id", "value": "u-1001"}],
        **extra,
    }
