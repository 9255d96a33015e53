"""Portability to another controller: the package of a request that names a receiving endpoint is sent there.

"The data subject shall have the right to have the personal data transmitted directly from one
controller to another, where technically feasible" (GDPR Art. 20(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Such a request stays in progress once its stores have
answered: its package is built and a transfer is scheduled; ``transfer_delivery`` sends it, signed,
and the request completes when the receiver acknowledges it or the transfer fails (the person then
gets a download link instead, the other half of the right, Art. 20(1)).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from services.dsar.models import DsarRequest, DsarTask, ExportPackage, PortabilityTransfer
from services.dsar.schemas.portability import AttemptOut, PackageRecipient, TransferOut
from services.dsar.service import Uow
from services.dsar.service.packages import build_package, reissue_link
from services.dsar.service.requests import get_request
from shared.rules.errors import Gone


@dataclass(frozen=True)
class PackageAnswer:
    """The package that answers a request and the message that tells the person."""

    package_id: uuid.UUID
    template: str
    context: dict[str, Any]


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` of a body: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def transfer_target(request: DsarRequest) -> PackageRecipient | None:
    """The controller a portability request asks its data to be sent to, when it names an endpoint."""
    details = request.details_summary
    endpoint, name = details.get("target_endpoint"), details.get("target_controller")
    if request.request_type != "portability" or not endpoint or not name:
        return None
    return PackageRecipient(name=name, endpoint=endpoint)


async def transfer_of(uow: Uow, request_id: uuid.UUID) -> PortabilityTransfer | None:
    """The transfer of one of the tenant's requests, if it has one."""
    statement = select(PortabilityTransfer).where(
        col(PortabilityTransfer.request_id) == request_id, col(PortabilityTransfer.tenant_id) == uow.tenant_id
    )
    return (await uow.session.exec(statement)).first()


async def package_answer(uow: Uow, request: DsarRequest, tasks: list[DsarTask]) -> PackageAnswer | None:
    """Build the package of an access or portability request and say how it reaches the person.

    None while the package is on its way to the receiving controller: the first call schedules the
    transfer, and the transfer's end completes the request.
    """
    target = transfer_target(request)
    if target is None:
        built, link = await build_package(uow, request, tasks)
        return PackageAnswer(built.id, "dsar.package_ready", {"url": link, "expires_at": built.expires_at})
    transfer = await transfer_of(uow, request.id)
    if transfer is None:
        await schedule_transfer(uow, request, tasks, target)
        return None
    if transfer.state == "pending":
        return None
    if transfer.state == "delivered":
        context: dict[str, Any] = {
            "controller": transfer.controller,
            "delivered_at": transfer.delivered_at,
            "receipt_id": transfer.receipt_id,
        }
        return PackageAnswer(transfer.package_id, "dsar.portability_transferred", context)
    package = await uow.session.get(ExportPackage, transfer.package_id)
    url: str | None = None
    expires_at: datetime | None = None
    if package is not None:
        with contextlib.suppress(Gone):  # the content expired meanwhile: the message asks the person to write back
            url, expires_at = reissue_link(uow, package)
    context = {"controller": transfer.controller, "attempts": transfer.attempts, "url": url, "expires_at": expires_at}
    return PackageAnswer(transfer.package_id, "dsar.portability_failed", context)


async def schedule_transfer(
    uow: Uow, request: DsarRequest, tasks: list[DsarTask], target: PackageRecipient
) -> PortabilityTransfer:
    """Build the package for the receiving controller and schedule its first send (the delivery job sends it)."""
    package, _ = await build_package(uow, request, tasks, recipient=target)
    assert package.content is not None
    now = uow.now()
    transfer = PortabilityTransfer(
        tenant_id=uow.tenant_id,
        request_id=request.id,
        package_id=package.id,
        controller=target.name,
        endpoint=target.endpoint,
        content_digest=content_digest(package.content),
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(transfer)
    uow.audit(
        "transfer.scheduled",
        "dsar_request",
        request.id,
        {"transfer_id": str(transfer.id), "controller": target.name, "endpoint": target.endpoint},
    )
    return transfer


async def list_transfers(uow: Uow, request_id: uuid.UUID) -> list[TransferOut]:
    """The transfers of one of the tenant's requests (404 for another tenant's or a missing request)."""
    await get_request(uow, request_id)
    transfer = await transfer_of(uow, request_id)
    return [] if transfer is None else [transfer_out(transfer)]


def transfer_out(transfer: PortabilityTransfer) -> TransferOut:
    """The API shape of a transfer with its attempts."""
    return TransferOut(
        **transfer.model_dump(exclude={"tenant_id", "history"}),
        history=[AttemptOut(**attempt) for attempt in transfer.history],
    )
