"""Public routes: the per-tenant subprocessor list and change feed, and a customer's answer to its notice.

The tenant is addressed by its id in the path (``/public/{tenant}/subprocessors.json``): the list
is meant to be linked from the tenant's privacy policy. Only published data is shown — active
subprocessors and changes that took effect; nothing proposed, no customer, no contact. A
customer answers a notice with the token the notice carries (``X-Notice-Token``), no account needed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Header, Response
from sqlmodel import col, select

from services.subprocessor.api.deps import SettingsDep
from services.subprocessor.domain import ChangeKind
from services.subprocessor.domain.keys import check_notice_token
from services.subprocessor.domain.notices import KIND_TEXT, public_entry
from services.subprocessor.models import ChangeNotice, Customer, Objection, Subprocessor, SubprocessorChange
from services.subprocessor.schemas import AcknowledgementOut, NoticeObjectionIn, ObjectionOut
from services.subprocessor.service import changes as change_service
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service import objections as objection_service
from services.subprocessor.settings import SubprocessorSettings
from shared.rules.errors import NotFound, Unauthorized
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(
    prefix="/public",
    tags=["public"],
    responses={code: PROBLEM_RESPONSES[code] for code in (400, 401, 404, 409, 410, 422)},
)
ATOM = "http://www.w3.org/2005/Atom"
NoticeToken = Annotated[str | None, Header(alias="X-Notice-Token", description="The token carried by the notice")]


def _tenant(tenant: str) -> str:
    if not TENANT_PATTERN.match(tenant):
        raise NotFound(f"No published list for {tenant!r}.")
    return tenant


@router.get("/{tenant}/subprocessors.json", summary="The tenant's published subprocessor list (JSON)")
async def subprocessor_list(tenant: str, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Active subprocessors: entity, service, purposes, data categories, locations and transfer mechanisms."""
    rows = await session.exec(
        select(Subprocessor)
        .where(col(Subprocessor.tenant_id) == _tenant(tenant), col(Subprocessor.status) == "active")
        .order_by(col(Subprocessor.name))
    )
    subs = list(rows.all())
    base = f"{settings.public_url.rstrip('/')}/public/{tenant}"
    return {
        "tenant": tenant,
        "updated_at": max((s.updated_at for s in subs), default=None),
        "feed": f"{base}/subprocessors.atom",
        "subprocessors": [{"id": str(s.id), **public_entry(s.model_dump()), "since": s.updated_at} for s in subs],
    }


def _atom(tenant: str, settings: SubprocessorSettings, entries: list[tuple[SubprocessorChange, Subprocessor]]) -> bytes:
    base = f"{settings.public_url.rstrip('/')}/public/{tenant}"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    updated: datetime | None = max((c.closed_at for c, _ in entries if c.closed_at), default=None)
    child(feed, "id", f"{base}/subprocessors.atom")
    child(feed, "title", f"Subprocessor changes of {tenant}")
    child(feed, "updated", (updated.isoformat() if updated else "1970-01-01T00:00:00+00:00"))
    child(feed, "link", rel="self", href=f"{base}/subprocessors.atom")
    child(feed, "link", rel="alternate", href=f"{base}/subprocessors.json", type="application/json")
    child(child(feed, "author"), "name", tenant)
    for change, sub in entries:
        entry = child(feed, "entry")
        child(entry, "id", f"urn:uuid:{change.id}")
        child(entry, "title", f"{KIND_TEXT[ChangeKind(change.kind)]}: {sub.name}")
        child(entry, "updated", change.closed_at.isoformat() if change.closed_at else None)
        child(entry, "category", term=change.kind)
        child(entry, "summary", change.summary)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


@router.get(
    "/{tenant}/subprocessors.atom",
    summary="The tenant's subprocessor changes (Atom feed)",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
async def change_feed(tenant: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Changes that took effect, newest first (proposals are told to customers, not published)."""
    rows = await session.exec(
        select(SubprocessorChange, Subprocessor)
        .join(Subprocessor, col(Subprocessor.id) == col(SubprocessorChange.subprocessor_id))
        .where(col(SubprocessorChange.tenant_id) == _tenant(tenant), col(SubprocessorChange.state) == "effective")
        .order_by(col(SubprocessorChange.closed_at).desc())
        .limit(100)
    )
    body = _atom(tenant, settings, [(change, sub) for change, sub in rows.all()])
    return Response(body, media_type="application/atom+xml")


async def _notice(
    session: SessionDep, notice_id: uuid.UUID, token: str | None, settings: SubprocessorSettings
) -> ChangeNotice:
    if not token:
        raise Unauthorized("Answering a notice needs the X-Notice-Token header the notice carries.")
    notice = await session.get(ChangeNotice, notice_id)
    key = settings.signing_key.get_secret_value().encode()
    if notice is None or not check_notice_token(key, notice.tenant_id, notice.id, token):
        raise NotFound(f"No notice {notice_id} for this token.")
    return notice


@router.post("/notices/{notice_id}/acknowledgement", response_model=AcknowledgementOut, summary="Acknowledge a notice")
async def acknowledge_notice(
    notice_id: uuid.UUID, session: SessionDep, clock: ClockDep, settings: SettingsDep, token: NoticeToken = None
) -> dict[str, Any]:
    """The customer confirms it received the notice (kept in the notice's history as proof)."""
    notice = await _notice(session, notice_id, token, settings)
    await notice_service.acknowledge(
        session, notice, via="notice_link", actor="customer", clock=clock, settings=settings
    )
    return {
        "notice_id": notice.id,
        **notice.model_dump(include={"acknowledged_at", "delivered_at", "objection_deadline"}),
    }


@router.post(
    "/notices/{notice_id}/objection", status_code=201, response_model=ObjectionOut, summary="Object to a change"
)
async def object_by_notice(
    notice_id: uuid.UUID,
    body: NoticeObjectionIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    token: NoticeToken = None,
) -> Objection:
    """The customer objects, with a reason, within its window; the change is held for it."""
    notice = await _notice(session, notice_id, token, settings)
    change = await change_service.get_change(session, notice.tenant_id, notice.change_id, lock=True)
    customer = await session.get(Customer, notice.customer_id)
    assert customer is not None
    return await objection_service.object_to_change(
        session,
        change,
        customer.id,
        body.reason,
        via="notice_link",
        actor=f"customer:{customer.reference}",
        clock=clock,
        settings=settings,
    )
