"""The controller customer's approval of a processor's notice to individuals (GDPR Art. 34, Art. 28(3)(f)).

As processor, the tenant tells the people affected "in the name and on behalf of the Customer and
with the latter's consent". The consent reaches us two ways, both kept as evidence (who, when, how):

* a link mailed to the customer's notice contact (``POST /v1/notices/{id}/approval-request``): a
  signed, expiring token; the page shows the notice and takes approve or decline with a name;
* an answer received by other means, recorded by our DPO (``POST /v1/notices/{id}/approval``).

As controller, the tenant's DPO sends the notice: that is the approval, and none is asked for.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import structlog
from sqlmodel import col, func, select

from services.breach.domain.errors import ApprovalClosed, ApprovalNotApplicable
from services.breach.domain.incidents import require_open
from services.breach.domain.individuals import (
    ApprovalLink,
    ApprovalMethod,
    ApprovalStatus,
    approval_required,
    approval_token,
    pick_language,
    read_approval_token,
)
from services.breach.models import AffectedSubject, Incident, Notice, NoticeApproval
from services.breach.schemas import ApprovalClaimOut, ApprovalIn, DecisionIn, PublicApprovalOut
from services.breach.service import Uow
from services.breach.service.individuals import customer_name
from services.breach.service.settings import current
from services.breach.service.timeline import note
from shared.bus.notifications import Outcome
from shared.events.catalogue.breach import BreachIndividualNoticeApproved, BreachIndividualNoticeDeclined
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Gone, NotFound, Unprocessable
from shared.runtime.repository import find, get_or_404

log = structlog.get_logger("privops.breach.approvals")

TEMPLATE = "breach.notice.approval"
LINK_ACTOR = "customer-link"
_MAIL_RANK = {"requested": 0, "sent": 1, "delivered": 2, "failed": 2}


async def _approvable(uow: Uow, notice_id: uuid.UUID) -> tuple[Notice, Incident]:
    notice = await get_or_404(uow, Notice, notice_id, lock=True)
    incident = await get_or_404(uow, Incident, notice.incident_id, lock=True)
    require_open(incident.status)
    if not approval_required(incident.role, notice.kind) or notice.customer_id is None:
        raise ApprovalNotApplicable(
            "only a notice to individuals drafted as processor is approved by the customer; as controller, "
            "sending the notice is the DPO's own decision"
        )
    if notice.status != "draft":
        raise ApprovalClosed(f"notice {notice.id} was already sent")
    return notice, incident


def _link(uow: Uow, approval: NoticeApproval) -> str:
    assert approval.expires_at is not None
    secret = uow.settings.signing_key.get_secret_value()
    token = approval_token(secret, ApprovalLink(approval.tenant_id, approval.id, approval.expires_at))
    return uow.url(f"/v1/public/notice-approvals/{token}")


async def request_approval(uow: Uow, notice_id: uuid.UUID) -> NoticeApproval:
    """Mail the customer's notice contact a link to approve or decline the notice (through notify)."""
    notice, incident = await _approvable(uow, notice_id)
    assert notice.customer_id is not None
    if notice.approval_status != ApprovalStatus.PENDING:
        raise ApprovalClosed(f"the customer already {notice.approval_status} notice {notice.id}")
    tenant = await current(uow)
    entry = (tenant.customers.get(notice.customer_id) if tenant else None) or {}
    if not entry.get("email"):
        raise Unprocessable(
            f"No notice contact is set for customer {notice.customer_id}: add it to the breach settings "
            "(PUT /v1/settings, customers), or record the approval received by other means.",
            errors=[{"field": "customer_id"}],
        )
    now = uow.now()
    approval = NoticeApproval(
        tenant_id=incident.tenant_id,
        notice_id=notice.id,
        customer_id=notice.customer_id,
        method=ApprovalMethod.LINK,
        status=ApprovalStatus.PENDING,
        requested_by=uow.actor,
        requested_at=now,
        expires_at=now + timedelta(hours=uow.settings.approval_link_hours),
        mail_status="requested",
    )
    uow.session.add(approval)
    await uow.session.flush()
    await uow.stage(
        NotificationRequested(
            notification_id=approval.id,
            channel="email",
            template=TEMPLATE,
            recipient_ref=notice.customer_id,
            claim_url=uow.url(f"/v1/notice-approvals/{approval.id}/claim"),
            locale=pick_language(entry.get("locale"), tenant.default_locale if tenant else None),
        ),
        str(incident.id),
    )
    detail = {"notice_id": notice.id, "approval_id": approval.id, "customer_id": notice.customer_id}
    note(uow, incident, "notice.approval_requested", detail | {"expires_at": approval.expires_at})
    return approval


async def record(uow: Uow, notice_id: uuid.UUID, body: ApprovalIn) -> NoticeApproval:
    """Record the customer's answer received by other means (who, when, how); a decline keeps its reason."""
    notice, incident = await _approvable(uow, notice_id)
    assert notice.customer_id is not None
    approval = NoticeApproval(
        tenant_id=incident.tenant_id,
        notice_id=notice.id,
        customer_id=notice.customer_id,
        method=ApprovalMethod.RECORDED,
        requested_by=uow.actor,
        requested_at=uow.now(),
        means=body.means,
        customer_reference=body.customer_reference,
        recorded_by=uow.actor,
    )
    uow.session.add(approval)
    status = ApprovalStatus.APPROVED if body.decision == "approved" else ApprovalStatus.DECLINED
    await _decide(uow, notice, incident, approval, status, body.name, body.email, body.reason, body.received_at)
    return approval


async def _decide(
    uow: Uow,
    notice: Notice,
    incident: Incident,
    approval: NoticeApproval,
    status: ApprovalStatus,
    name: str,
    email: str | None,
    reason: str | None,
    at: Any = None,
) -> None:
    now = uow.now()
    decided_at = at or now
    approval.status, approval.decided_at = status.value, decided_at
    approval.decided_by_name, approval.decided_by_email = name, email
    approval.reason = reason if status is ApprovalStatus.DECLINED else None
    notice.approval_status = status.value
    uow.session.add_all([approval, notice])
    await uow.session.flush()
    detail = {
        "notice_id": notice.id,
        "approval_id": approval.id,
        "customer_id": approval.customer_id,
        "method": approval.method,
        "decided_by": name,
        "decided_at": decided_at,
    }
    if status is ApprovalStatus.APPROVED:
        note(uow, incident, "notice.approved", detail)
        event: BreachIndividualNoticeApproved | BreachIndividualNoticeDeclined = BreachIndividualNoticeApproved(
            incident_id=incident.id,
            notice_id=notice.id,
            customer_id=approval.customer_id,
            method=approval.method,
            approved_at=decided_at,
        )
    else:
        note(uow, incident, "notice.declined", detail | {"reason": reason})
        event = BreachIndividualNoticeDeclined(
            incident_id=incident.id,
            notice_id=notice.id,
            customer_id=approval.customer_id,
            method=approval.method,
            declined_at=decided_at,
        )
    await uow.stage(event, str(incident.id))


async def approvals_of(uow: Uow, notice_id: uuid.UUID) -> list[NoticeApproval]:
    """Every approval asked for or recorded for a notice, oldest first."""
    await get_or_404(uow, Notice, notice_id)
    rows = await uow.session.exec(
        select(NoticeApproval)
        .where(col(NoticeApproval.notice_id) == notice_id)
        .order_by(col(NoticeApproval.requested_at), col(NoticeApproval.id))
    )
    return list(rows.all())


async def claim(uow: Uow, approval_id: uuid.UUID) -> ApprovalClaimOut:
    """Where the approval link's mail goes and what it says (scope notify:claim); 410 once decided or expired."""
    approval = await get_or_404(uow, NoticeApproval, approval_id)
    if approval.status != ApprovalStatus.PENDING or (approval.expires_at and approval.expires_at <= uow.now()):
        raise Gone(f"The approval {approval.id} was decided or its link expired: nothing to mail.")
    notice = await get_or_404(uow, Notice, approval.notice_id)
    if notice.approval_status != ApprovalStatus.PENDING:
        raise Gone(f"The customer's answer to notice {notice.id} was already recorded: nothing to mail.")
    incident = await get_or_404(uow, Incident, notice.incident_id)
    tenant = await current(uow)
    entry = (tenant.customers.get(approval.customer_id) if tenant else None) or {}
    if not entry.get("email"):
        raise Gone(f"No notice contact is set for customer {approval.customer_id} any more.")
    locale = pick_language(entry.get("locale"), tenant.default_locale if tenant else None)
    contact = notice.contact or {}
    return ApprovalClaimOut(
        notification_id=approval.id,
        template=TEMPLATE,
        locale=locale,
        to=entry["email"],
        to_name=entry.get("name"),
        context={
            "reference": incident.reference,
            "incident_title": incident.title,
            "controller": customer_name(tenant, approval.customer_id),
            "processor": uow.settings.organisation,
            "body": notice.bodies.get(locale) or notice.body,
            "url": _link(uow, approval),
            "expires_at": approval.expires_at,
            "recipients": await _people(uow, incident.id),
            "contact": {k: contact.get(k) for k in ("name", "email", "phone")},
        },
    )


async def record_mail_outcome(uow: Uow, outcome: Outcome) -> bool:
    """What notify reports of an approval link's mail; False when the notification is not an approval's."""
    approval = await find(uow, NoticeApproval, outcome.notification_id, lock=True)
    if approval is None:
        return False
    before = approval.mail_status or "requested"
    if _MAIL_RANK[outcome.kind] > _MAIL_RANK[before] or (outcome.kind == "failed" and before != "failed"):
        approval.mail_status, approval.mail_detail = outcome.kind, outcome.reason
        uow.session.add(approval)
        uow.audit(
            f"breach.approval.mail_{outcome.kind}", "notice_approval", approval.id, {"attempts": outcome.attempts}
        )
    return True


async def _by_token(link: Uow, token: str, *, lock: bool = False) -> tuple[Uow, NoticeApproval]:
    found = read_approval_token(link.settings.signing_key.get_secret_value(), token)
    if found is None:
        raise NotFound("No such approval link, or the link is wrong.")
    uow = link.for_tenant(found.tenant_id, LINK_ACTOR)
    approval = await find(uow, NoticeApproval, found.approval_id, lock=lock)
    if approval is None or approval.expires_at is None:
        raise NotFound("No such approval link, or the link is wrong.")
    return uow, approval


async def public_view(link: Uow, token: str) -> PublicApprovalOut:
    """The notice behind a customer's approval link (the signed token is the credential); 410 once expired."""
    uow, approval = await _by_token(link, token)
    _require_unexpired(uow, approval)
    return await _view(uow, approval)


def _require_unexpired(uow: Uow, approval: NoticeApproval) -> None:
    assert approval.expires_at is not None
    if approval.expires_at <= uow.now():
        raise Gone("This approval link has expired: ask the sender for a new one.")


async def public_decide(link: Uow, token: str, body: DecisionIn) -> PublicApprovalOut:
    """The customer approves or declines at the link: once, before it expires, while the notice is a draft."""
    uow, approval = await _by_token(link, token, lock=True)
    _require_unexpired(uow, approval)
    if approval.status != ApprovalStatus.PENDING:
        raise ApprovalClosed(f"this approval was already {approval.status}")
    notice, incident = await _approvable(uow, approval.notice_id)
    if notice.approval_status != ApprovalStatus.PENDING:  # answered by other means meanwhile
        raise ApprovalClosed(f"the customer's answer was already recorded: {notice.approval_status}")
    status = ApprovalStatus.APPROVED if body.decision == "approve" else ApprovalStatus.DECLINED
    await _decide(uow, notice, incident, approval, status, body.name, body.email, body.reason)
    log.info("breach.approval.decided", approval_id=str(approval.id), status=status.value)
    return await _view(uow, approval)


async def _view(uow: Uow, approval: NoticeApproval) -> PublicApprovalOut:
    notice = await get_or_404(uow, Notice, approval.notice_id)
    incident = await get_or_404(uow, Incident, notice.incident_id)
    tenant = await current(uow)
    return PublicApprovalOut(
        reference=incident.reference,
        incident_title=incident.title,
        customer=customer_name(tenant, approval.customer_id),
        processor=uow.settings.organisation,
        status=approval.status,
        expires_at=approval.expires_at,
        recipients=await _people(uow, incident.id),
        bodies=notice.bodies or {"en": notice.body},
    )


async def _people(uow: Uow, incident_id: uuid.UUID) -> int:
    result = await uow.session.exec(
        select(func.count()).select_from(AffectedSubject).where(col(AffectedSubject.incident_id) == incident_id)
    )
    return int(result.one())
