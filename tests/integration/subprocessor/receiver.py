"""A real webhook receiver on 127.0.0.1 that verifies notice signatures like a customer would."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from services.subprocessor.domain import SIGNATURE_HEADER, SignatureError, verify
from shared.rules.clock import Clock


@dataclass
class Delivery:
    """One request the receiver got, and whether its signature verified."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookReceiver:
    """Minimal HTTP/1.1 server: one secret per path, optional forced failures per path."""

    clock: Clock
    secrets: dict[str, str] = field(default_factory=dict)
    fail_next: dict[str, int] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        """The receiver's address."""
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def received(self, path: str) -> list[Delivery]:
        """The deliveries to one path."""
        return [d for d in self.deliveries if d.path == path]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            path = request_line.split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            verified = False
            try:
                verify(self.secrets[path], body, headers[SIGNATURE_HEADER.lower()], now=self.clock.now())
                verified = True
            except (SignatureError, KeyError):
                verified = False
            status = 200 if verified else 401
            if verified and self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                status = 503
            self.deliveries.append(Delivery(path, headers, body, verified, status))
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()
