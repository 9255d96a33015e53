"""Sending a portability package to the receiving controller: signed, retried with back-off, then given up.

Each send is a ``POST`` of the ZIP to the endpoint the request named, with its RFC 9530
``Content-Digest`` and a compact JWS (``Privops-Signature``) made by the identity service with the
tenant's document key, whose claims bind that digest, the manifest's SHA-256, the transfer and the
endpoint; the keys to verify it are at ``Privops-Jwks-Url``. docs/portability.md is the receiver's
side of this contract.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlmodel import col, select

from services.dsar.domain.portability import InvalidEndpoint, check_resolved, is_retryable, next_attempt_at
from services.dsar.models import ExportPackage, PortabilityTransfer
from services.dsar.schemas.portability import MANIFEST
from services.dsar.service import Job, Uow
from services.dsar.service.completion import maybe_complete
from services.dsar.service.packages import sha256_hex
from services.dsar.service.requests import get_request
from services.dsar.settings import DsarSettings
from shared.events.catalogue.dsar import DsarPortabilityTransferFailed, DsarPortabilityTransferred
from shared.runtime.http import http_client
from shared.runtime.jobs import claim
from shared.runtime.signing import SigningFailed, document_signer

log = structlog.get_logger("privops.dsar.transfers")
# The JWS "typ" of a portability package's signature (RFC 7515 §4.1.9).
TYP = "portability-package+jwt"
SIGNATURE_HEADER = "Privops-Signature"
JWKS_HEADER = "Privops-Jwks-Url"
TRANSFER_HEADER = "Privops-Transfer-Id"
RECEIPT_CHARS = 2000
BATCH = 20


@dataclass(frozen=True)
class Attempt:
    """What one send came to: the receiver's status (None: no answer), its answer, or the error."""

    status: int | None
    receipt: str | None = None
    receipt_id: str | None = None
    error: str | None = None
    refused: bool = False  # not sent, and sending later would not help (a private address, a deleted package)

    @property
    def delivered(self) -> bool:
        """True when the receiver acknowledged the package (a 2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """True when sending again may succeed."""
        return not self.delivered and not self.refused and is_retryable(self.status)


def manifest_sha256(content: bytes) -> str:
    """The SHA-256 (hex) of the package's manifest.json, as the signature binds it."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return sha256_hex(archive.read(MANIFEST))


def transfer_claims(transfer: PortabilityTransfer, content: bytes, attempt: int) -> dict[str, Any]:
    """What the JWS carries: the transfer, the endpoint it is meant for and the digests of what is sent."""
    return {
        "jti": f"{transfer.id}:{attempt}",
        "sub": f"request:{transfer.request_id}",
        "aud": transfer.endpoint,
        "transfer_id": str(transfer.id),
        "request_id": str(transfer.request_id),
        "package_id": str(transfer.package_id),
        "recipient": transfer.controller,
        "content_digest": transfer.content_digest,
        "content_length": len(content),
        "manifest_sha256": manifest_sha256(content),
        "attempt": attempt,
    }


async def _resolve(host: str, port: int, allow_loopback: bool) -> None:
    """Refuse a host that resolves to a private address now (its name may have changed since intake)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    check_resolved(host, [str(info[4][0]) for info in infos], allow_loopback=allow_loopback)


def _receipt_id(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if isinstance(body, dict):
        for key in ("receipt_id", "receipt", "id"):
            if isinstance(body.get(key), str | int):
                return str(body[key])[:255]
    return None


async def send_package(settings: DsarSettings, tenant: str, transfer: PortabilityTransfer, content: bytes) -> Attempt:
    """POST the package once to the receiving controller, signed; what the receiver answered."""
    parts = urlsplit(transfer.endpoint)
    host = parts.hostname or ""
    try:
        await _resolve(host, parts.port or (443 if parts.scheme == "https" else 80), settings.portability_loopback)
    except (InvalidEndpoint, OSError) as exc:
        # A name that does not resolve now may resolve later; a private address stays refused.
        return Attempt(None, error=f"not sent: {str(exc)[:500]}", refused=isinstance(exc, InvalidEndpoint))
    signer = document_signer(settings)
    try:
        jws = await signer.sign(tenant, TYP, transfer_claims(transfer, content, transfer.attempts + 1))
    except SigningFailed as exc:
        return Attempt(None, error=f"not signed yet: {str(exc)[:300]}")
    headers = {
        "Content-Type": "application/zip",
        "Content-Digest": transfer.content_digest,
        SIGNATURE_HEADER: jws,
        JWKS_HEADER: signer.jwks_url(tenant),
        TRANSFER_HEADER: str(transfer.id),
        "Idempotency-Key": str(transfer.id),  # the same on every attempt: a receiver recognises a repeat
        "User-Agent": "privops-dsar",
    }
    try:
        # No redirects (a redirect could lead anywhere, the private network included) and no proxies from the env.
        async with (
            http_client(timeout=settings.portability_timeout_s, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", transfer.endpoint, content=content, headers=headers) as response,
        ):
            status, text = response.status_code, await _start_of(response)
    except httpx.HTTPError as exc:
        return Attempt(None, error=f"{type(exc).__name__}: {str(exc)[:300]}")
    if 200 <= status < 300:
        return Attempt(status, receipt=text, receipt_id=_receipt_id(text))
    return Attempt(status, receipt=text, error=f"HTTP {status}: {text[:300]}")


async def _start_of(response: httpx.Response) -> str:
    """The start of the receiver's answer: what is kept of it, never more read into memory (it may be huge)."""
    raw = b""
    async for chunk in response.aiter_bytes():
        raw += chunk
        if len(raw) >= RECEIPT_CHARS * 4:
            break
    return raw.decode("utf-8", errors="replace")[:RECEIPT_CHARS]


async def attempt_transfer(uow: Uow, transfer: PortabilityTransfer) -> None:
    """Send a due transfer once and record it; on its end (acknowledged, refused, out of tries) complete the request."""
    request = await get_request(uow, transfer.request_id, for_update=True)
    if request.state != "in_progress":
        transfer.state, transfer.next_attempt_at = "cancelled", None
        uow.session.add(transfer)
        uow.audit("transfer.cancelled", "dsar_request", request.id, {"state": request.state})
        return
    package = await uow.session.get(ExportPackage, transfer.package_id)
    if package is None or package.content is None:
        result = Attempt(None, error="not sent: the package's content was deleted when it expired", refused=True)
    else:
        result = await send_package(uow.settings, uow.tenant_id, transfer, package.content)
    now = uow.now()
    transfer.attempts += 1
    transfer.last_attempt_at = now
    transfer.response_status = result.status
    entry = {"at": now.isoformat(), "status": result.status, "error": result.error, "receipt": result.receipt}
    transfer.history = [*transfer.history, entry]
    detail = {"transfer_id": str(transfer.id), "attempt": transfer.attempts, "status": result.status}
    uow.audit("transfer.attempted", "dsar_request", request.id, detail | {"error": result.error})
    if result.delivered:
        await _delivered(uow, transfer, result, request.subject_ref)
    else:
        settings = uow.settings
        retry_at = (
            next_attempt_at(
                transfer.attempts,
                now,
                max_attempts=settings.portability_max_attempts,
                base=timedelta(seconds=settings.portability_retry_base_s),
                cap=timedelta(seconds=settings.portability_retry_max_s),
            )
            if result.retryable
            else None
        )
        transfer.next_attempt_at = retry_at
        if retry_at is None:
            await _failed(uow, transfer, result, request.subject_ref)
        log.info("dsar.transfer.retry" if retry_at else "dsar.transfer.failed", transfer_id=str(transfer.id))
    uow.session.add(transfer)
    await uow.session.flush()
    if transfer.state != "pending":
        await maybe_complete(uow, request.id, locked=request)


def _about(transfer: PortabilityTransfer) -> dict[str, Any]:
    """The fields every portability event carries about its transfer."""
    return {
        "transfer_id": transfer.id,
        "request_id": transfer.request_id,
        "package_id": transfer.package_id,
        "controller": transfer.controller,
        "attempts": transfer.attempts,
    }


async def _delivered(uow: Uow, transfer: PortabilityTransfer, result: Attempt, subject: str) -> None:
    now = uow.now()
    transfer.state, transfer.delivered_at, transfer.next_attempt_at = "delivered", now, None
    transfer.receipt, transfer.receipt_id = result.receipt, result.receipt_id
    assert result.status is not None
    await uow.stage(
        DsarPortabilityTransferred(
            **_about(transfer),
            status_code=result.status,
            receipt_id=result.receipt_id,
            transferred_at=now,
        ),
        subject,
    )
    uow.audit("transfer.delivered", "dsar_request", transfer.request_id, {"receipt_id": result.receipt_id})
    log.info("dsar.transfer.delivered", transfer_id=str(transfer.id), attempts=transfer.attempts)


async def _failed(uow: Uow, transfer: PortabilityTransfer, result: Attempt, subject: str) -> None:
    now = uow.now()
    transfer.state, transfer.failed_at = "failed", now
    transfer.failure_reason = result.error or "no answer"
    transfer.receipt = result.receipt
    await uow.stage(
        DsarPortabilityTransferFailed(
            **_about(transfer),
            status_code=result.status,
            reason=transfer.failure_reason[:500],
            failed_at=now,
        ),
        subject,
    )
    uow.audit("transfer.failed", "dsar_request", transfer.request_id, {"reason": transfer.failure_reason[:500]})


async def deliver_transfers(ctx: Job) -> int:
    """Send the portability packages that are due (new ones, and retries whose back-off has passed)."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        due = await claim(
            session,
            select(PortabilityTransfer)
            .where(col(PortabilityTransfer.state) == "pending", col(PortabilityTransfer.next_attempt_at) <= now)
            .order_by(col(PortabilityTransfer.next_attempt_at)),
            BATCH,
        )
        for transfer in due:
            await attempt_transfer(ctx.unit_of_work(session, transfer.tenant_id, "job:portability-transfer"), transfer)
        return len(due)
