"""A receiving controller for portability tests: checks a package as docs/portability.md tells receivers to.

It runs on 127.0.0.1 (uvicorn, in the test's event loop) and, for every POST, verifies the
``Privops-Signature`` JWS with a standard JWT library against the key set it was told to trust,
the body against ``Content-Digest`` and the signed digest, the manifest against the signed SHA-256,
every file against the manifest and ``checksums.sha256``, and ``personal-data.json`` against the
published JSON Schema. It answers 200 with a receipt id, 401/422 with the reason, or 500 for as
many first calls as it is told to fail.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deploy.local.infra import free_port

TYP = "portability-package+jwt"


class Rejected(Exception):
    """The package does not verify: the receiver answers ``status`` with the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Delivery:
    """One POST the receiver got, and what it answered."""

    headers: dict[str, str]
    body: bytes
    status: int
    answer: dict[str, Any]


@dataclass
class Receiver:
    """The receiving controller's state: what to trust, how many calls to fail, what it received."""

    jwks_url: str  # the sender's published keys, pinned (the header only says where they are)
    schema_url: str
    fail_first: int = 0
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    accepted: dict[str, bytes] = field(default_factory=dict)  # transfer id -> the ZIP

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.fail_first > 0:
            self.fail_first -= 1
            status, answer = 500, {"error": "temporarily unavailable"}
        else:
            try:
                claims = await self.verify(headers, body)
            except Rejected as exc:
                status, answer = exc.status, {"error": str(exc)}
            else:
                self.accepted[claims["transfer_id"]] = body
                status, answer = 200, {"receipt_id": f"rcpt-{len(self.accepted)}", "status": "accepted"}
        self.deliveries.append(Delivery(headers, body, status, answer))
        return JSONResponse(answer, status_code=status)

    async def verify(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """The signed claims when everything checks out; ``Rejected`` with the first thing that does not."""
        token = headers.get("privops-signature")
        if not token:
            raise Rejected(401, "no Privops-Signature")
        async with httpx.AsyncClient() as client:
            jwks = (await client.get(self.jwks_url)).json()
            schema = (await client.get(self.schema_url)).json()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != TYP:
                raise Rejected(401, f"typ {header.get('typ')!r}")
            key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=["EdDSA"], audience=self.url)
        except (jwt.PyJWTError, KeyError) as exc:
            raise Rejected(401, f"signature: {type(exc).__name__}: {exc}") from exc
        digest = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
        if headers.get("content-digest") != digest or claims["content_digest"] != digest:
            raise Rejected(422, "the body does not match its signed digest")
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
            manifest_bytes = archive.read("manifest.json")
        except (zipfile.BadZipFile, KeyError) as exc:
            raise Rejected(422, f"not a package: {exc}") from exc
        if hashlib.sha256(manifest_bytes).hexdigest() != claims["manifest_sha256"]:
            raise Rejected(422, "manifest.json is not the signed one")
        manifest = json.loads(manifest_bytes)
        for entry in manifest["files"]:
            if hashlib.sha256(archive.read(entry["path"])).hexdigest() != entry["sha256"]:
                raise Rejected(422, f"{entry['path']}: checksum mismatch")
        for line in archive.read("checksums.sha256").decode().splitlines():
            checksum, path = line.split("  ", 1)
            if hashlib.sha256(archive.read(path)).hexdigest() != checksum:
                raise Rejected(422, f"{path}: checksum mismatch")
        try:
            jsonschema.validate(json.loads(archive.read(manifest["document"])), schema)
        except jsonschema.ValidationError as exc:
            raise Rejected(422, f"personal-data.json: {exc.message}") from exc
        return claims


@contextlib.asynccontextmanager
async def run_receiver(receiver: Receiver) -> AsyncIterator[Receiver]:
    """Serve ``receiver`` on 127.0.0.1 at ``/portability/in`` until the block ends."""
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}/portability/in"
    app = Starlette(routes=[Route("/portability/in", receiver.handle, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
