"""The notify service's surroundings in tests: a real SMTP server, a claim stub and a webhook receiver on loopback.

The SMTP server is the local stack's (aiosmtpd, STARTTLS with a self-signed certificate, AUTH),
with a script of replies per recipient (a 550, a 451 once). The claim stub answers claim URLs as
the services do and keeps the tokens it was shown; the webhook receiver checks Standard Webhooks
signatures with nothing but the standard library, as a customer's endpoint would.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jwt
from aiokafka import AIOKafkaProducer
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from deploy.local.smtp import Credentials, MailboxHandler, self_signed, server_tls, start_smtp
from shared.bus.outbox import build_envelope
from shared.bus.packs import partition_key
from shared.events.catalogue import Event, decode
from shared.events.envelope import CloudEvent
from shared.events.topics import NOTIFICATION_OUTCOMES
from tests.support.stack import JWT_SECRET, Infra, read_topic, serve_http

LOGIN = Credentials("notify", "smtp-password-for-tests")


class ScriptedMailbox(MailboxHandler):
    """The local mailbox, answering RCPT for some addresses with scripted replies (each used once, in order)."""

    def __init__(self, folder: Path, script: dict[str, list[str]]) -> None:
        super().__init__(folder)
        self.script = script

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """A scripted reply when one is left for ``address``; else accept it."""
        replies = self.script.get(address.lower())
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class Smtp:
    """A running SMTP server and where its mail lands."""

    port: int
    mailbox: Path
    ca_file: Path

    def mails(self) -> list[EmailMessage]:
        """Every mail kept, oldest first, parsed."""
        out = []
        for path in sorted(self.mailbox.glob("*.eml")):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
        return out

    def settings(self) -> dict[str, Any]:
        """The notify settings that reach this server over STARTTLS with its login."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": True,
            "smtp_username": LOGIN.username,
            "smtp_password": LOGIN.password,
            "smtp_ca_file": str(self.ca_file),
        }


@contextlib.contextmanager
def smtp_server(folder: Path, script: dict[str, list[str]] | None = None) -> Iterator[Smtp]:
    """The local stack's SMTP server with STARTTLS and AUTH, its replies scripted per recipient."""
    cert, key = self_signed(folder / "tls")
    mailbox = folder / "mailbox"
    controller = start_smtp(
        mailbox, credentials=LOGIN, tls=server_tls(cert, key), handler=ScriptedMailbox(mailbox, script or {})
    )
    try:
        yield Smtp(controller.port, mailbox, cert)
    finally:
        controller.stop()


@dataclass
class Stub:
    """A claim stub and a webhook receiver in one small HTTP server on loopback."""

    claims: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # status, body when 200
    tokens: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    webhooks: list[tuple[dict[str, str], bytes, bool]] = field(default_factory=list)
    base_url: str = ""

    def claim_url(self, notification_id: uuid.UUID) -> str:
        """Where a requested message of ``notification_id`` is claimed."""
        return f"{self.base_url}/claims/{notification_id}"

    def app(self) -> FastAPI:
        """The HTTP side: ``GET /claims/{id}`` and ``POST /hook``."""
        app = FastAPI()

        @app.get("/claims/{notification_id}")
        async def claim(notification_id: str, request: Request) -> Response:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            self.tokens.append(jwt.decode(token, JWT_SECRET, algorithms=["HS256"]))
            status, body = self.claims.get(notification_id, (404, {}))
            return JSONResponse(body if status == 200 else {"detail": "gone"}, status_code=status)

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            ok = bool(self.secrets) and all(verifies(s, headers, body) for s in self.secrets)
            self.webhooks.append((headers, body, ok))
            return Response(status_code=204 if ok else 401)

        return app


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification with the standard library only: one v1 signature matches."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(datetime.now(UTC).timestamp() - int(headers["webhook-timestamp"])) < 300
    given = [s.removeprefix("v1,") for s in headers["webhook-signature"].split() if s.startswith("v1,")]
    return fresh and any(hmac.compare_digest(expected, g) for g in given)


@contextlib.asynccontextmanager
async def stub_server() -> AsyncIterator[Stub]:
    """The stub served on a free loopback port."""
    stub = Stub()
    async with serve_http(stub.app()) as url:
        stub.base_url = url
        yield stub


async def publish(infra: Infra, prefix: str, event: Event, tenant: str, source: str, subject: str) -> None:
    """Publish ``event`` as the service ``source`` would (its outbox relay's envelope, key and headers)."""
    now = datetime.now(UTC)
    envelope = build_envelope(event, source=f"/privops/{source}", tenant_id=tenant, subject=subject, now=now)
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            prefix + event.topic,
            envelope.data_bytes(),
            key=partition_key(tenant, subject).encode(),
            headers=envelope.to_kafka_headers(),
        )
    finally:
        await producer.stop()


async def outcomes(infra: Infra, prefix: str, expect: int) -> list[tuple[str, Event]]:
    """The outcome events on the topic: (CloudEvents subject, typed event), in order."""
    records = await read_topic(infra.broker.bootstrap, prefix + NOTIFICATION_OUTCOMES, expect=expect)
    out = []
    for record in records:
        envelope = CloudEvent.from_kafka(record.headers, record.value)
        out.append((envelope.subject or "", decode(envelope)))
    return out


def parts(mail: EmailMessage) -> dict[str, Any]:
    """The text and HTML parts of a multipart/alternative mail, with their transfer encodings."""
    assert mail.get_content_type() == "multipart/alternative"
    found: dict[str, Any] = {}
    for part in mail.iter_parts():
        assert isinstance(part, EmailMessage)
        found[part.get_content_type()] = {
            "content": part.get_content(),
            "charset": part.get_content_charset(),
            "cte": part["Content-Transfer-Encoding"],
        }
    return found


def as_json(body: bytes) -> dict[str, Any]:
    """A webhook body."""
    data: dict[str, Any] = json.loads(body)
    return data
