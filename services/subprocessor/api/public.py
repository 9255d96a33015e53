"""Public routes: the per-tenant subprocessor list and change feed, and a customer's answer to its notice.

The tenant is addressed by its id in the path (``/public/{tenant}/subprocessors.json``): the list
is meant to be linked from the tenant's privacy policy. A customer reads and answers a notice with
the token the notice carries (``X-Notice-Token``), no account needed: the portal's notice page does
so. No bearer token names a tenant here, so each route builds its unit of work for the tenant it
resolved.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from services.subprocessor.api.deps import Public
from services.subprocessor.domain.keys import check_notice_token
from services.subprocessor.models import ChangeNotice, Customer, Objection
from services.subprocessor.schemas import AcknowledgementOut, NoticeObjectionIn, ObjectionOut, PublicNoticeOut
from services.subprocessor.service import Uow, published
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service import objections as objection_service
from shared.rules.errors import NotFound, Unauthorized
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/public",
    tags=["public"],
    responses={code: PROBLEM_RESPONSES[code] for code in (400, 401, 404, 409, 410, 422)},
)
NoticeToken = Annotated[str | None, Header(alias="X-Notice-Token", description="The token carried by the notice")]
READER = "public"


def _published(public: Uow, tenant: str) -> Uow:
    if not TENANT_PATTERN.match(tenant):
        raise NotFound(f"No published list for {tenant!r}.")
    return public.for_tenant(tenant, READER)


async def _answering(public: Uow, notice_id: uuid.UUID, token: str | None) -> tuple[Uow, ChangeNotice]:
    """The notice the token opens, and a unit of work of its tenant acting as its customer."""
    if not token:
        raise Unauthorized("Answering a notice needs the X-Notice-Token header the notice carries.")
    notice = await public.session.get(ChangeNotice, notice_id)
    key = public.settings.signing_key.get_secret_value().encode()
    if notice is None or not check_notice_token(key, notice.tenant_id, notice.id, token):
        raise NotFound(f"No notice {notice_id} for this token.")
    customer = await public.session.get(Customer, notice.customer_id)
    assert customer is not None  # a notice's customer is a foreign key
    return public.for_tenant(notice.tenant_id, f"customer:{customer.reference}"), notice


@router.get("/{tenant}/subprocessors.json", summary="The tenant's published subprocessor list (JSON)")
async def subprocessor_list(tenant: str, public: Public) -> dict[str, Any]:
    """Active subprocessors: entity, service, purposes, data categories, locations and transfer mechanisms."""
    return await published.subprocessor_list(_published(public, tenant))


@router.get(
    "/{tenant}/subprocessors.atom",
    summary="The tenant's subprocessor changes (Atom feed)",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
async def change_feed(tenant: str, public: Public) -> Response:
    """Changes that took effect, newest first; 404 when the tenant has published no subprocessor yet."""
    return Response(await published.change_feed(_published(public, tenant)), media_type="application/atom+xml")


@router.get("/notices/{notice_id}", response_model=PublicNoticeOut, summary="Read a notice as its customer")
async def read_notice(notice_id: uuid.UUID, public: Public, token: NoticeToken = None) -> PublicNoticeOut:
    """The change, its date, the end of the customer's objection window and its objection, for the notice's token."""
    uow, notice = await _answering(public, notice_id, token)
    return await notice_service.public_view(uow, notice)


@router.post("/notices/{notice_id}/acknowledgement", response_model=AcknowledgementOut, summary="Acknowledge a notice")
async def acknowledge_notice(notice_id: uuid.UUID, public: Public, token: NoticeToken = None) -> dict[str, Any]:
    """The customer confirms it received the notice (kept in the notice's history as proof)."""
    uow, notice = await _answering(public, notice_id, token)
    await notice_service.acknowledge(uow, notice, via="notice_link")
    return {
        "notice_id": notice.id,
        **notice.model_dump(include={"acknowledged_at", "delivered_at", "objection_deadline"}),
    }


@router.post(
    "/notices/{notice_id}/objection", status_code=201, response_model=ObjectionOut, summary="Object to a change"
)
async def object_by_notice(
    notice_id: uuid.UUID, body: NoticeObjectionIn, public: Public, token: NoticeToken = None
) -> Objection:
    """The customer objects, with a reason, within its window; the change is held for it."""
    uow, notice = await _answering(public, notice_id, token)
    return await objection_service.record_objection(
        uow, notice.change_id, notice.customer_id, body.reason, via="notice_link"
    )
