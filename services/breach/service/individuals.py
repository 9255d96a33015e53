"""The notice to individuals (GDPR Art. 34): drafted in each language, delivered person by person, settled.

Each person attached with an address gets one delivery through the notify service, in their
language; a person attached by reference only gets an ``unreachable`` delivery with the reason,
so nobody is skipped without a trace. Once every delivery has ended, the timeline says so, a
``BreachIndividualNoticeCompleted`` event is staged and the addresses are purged.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlmodel import col, select

from services.breach.domain.deliveries import DeliveryStatus, all_final, count_by_status
from services.breach.domain.individuals import pick_language
from services.breach.domain.notices import (
    LANGUAGES,
    BreachFacts,
    NoticeDraft,
    NoticeKind,
    build_individuals_notice,
    render_text,
)
from services.breach.models import Delivery, Incident, Notice, TenantSettings
from services.breach.schemas import DeliveriesOut, DeliveryOut, NoticeIn, WordingIn
from services.breach.service import Uow
from services.breach.service import contacts as people
from services.breach.service.timeline import note
from shared.events.catalogue.breach import BreachIndividualNoticeCompleted
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Unprocessable
from shared.runtime.repository import get_or_404
from shared.runtime.views import from_row

TEMPLATE = "breach.notice.individuals"
NO_ADDRESS = "none"
UNREACHABLE = (
    "No address was attached for this person (POST /v1/incidents/{incident}/affected-contacts): tell them by other "
    "means and record it, or make a public communication (Art. 34(3)(c))."
)


def worded(facts: BreachFacts, wording: WordingIn | None) -> BreachFacts:
    """The facts as a notice in one language tells them: its own words where given, else the incident's."""
    if wording is None:
        return facts
    measures = tuple(wording.measures) if wording.measures is not None else None
    return dataclasses.replace(
        facts,
        plain_summary=wording.plain_summary or facts.plain_summary,
        likely_consequences=wording.likely_consequences or facts.likely_consequences,
        measures_taken=measures if measures is not None else facts.measures_taken,
        measures_proposed=() if measures is not None else facts.measures_proposed,
        advice=tuple(wording.advice) if wording.advice is not None else facts.advice,
    )


def on_behalf_of(incident: Incident, tenant: TenantSettings | None, body: NoticeIn) -> str | None:
    """The customer a processor writes for (named in the request, or the incident's only one); None as controller."""
    if incident.role != "processor":
        return None
    customer = body.customer_id or (incident.customers[0] if len(incident.customers) == 1 else None)
    if customer is None or customer not in incident.customers:
        raise Unprocessable(
            "As processor we tell the people on behalf of one of the incident's customers: name it in customer_id.",
            errors=[{"field": "customer_id"}],
        )
    return customer


def customer_name(tenant: TenantSettings | None, customer: str) -> str:
    """How the notice names a customer: the name in the settings, else its id."""
    entry = (tenant.customers.get(customer) if tenant else None) or {}
    return str(entry.get("name") or customer)


def drafts(
    facts: BreachFacts, body: NoticeIn, tenant: TenantSettings | None, customer: str | None
) -> tuple[NoticeDraft, dict[str, str]]:
    """The notice in every language, and the draft in the tenant's language (what ``body`` and sections show)."""
    behalf = customer_name(tenant, customer) if customer else None
    built = {
        language: build_individuals_notice(
            worded(facts, body.wording.get(language)), language=language, on_behalf_of=behalf
        )
        for language in LANGUAGES
    }
    default = pick_language(None, tenant.default_locale if tenant else None)
    return built[default], {language: render_text(draft) for language, draft in built.items()}


async def deliver(uow: Uow, incident: Incident, notice: Notice, refs: list[str], default_locale: str | None) -> None:
    """One delivery per person: mailed through notify in their language when an address is kept, else unreachable."""
    now = uow.now()
    kept = await people.addresses(uow, incident.id)
    for ref in refs:
        address = kept.get(ref)
        delivery = Delivery(
            tenant_id=incident.tenant_id,
            notice_id=notice.id,
            recipient_ref=ref,
            channel="email" if address else NO_ADDRESS,
            status=DeliveryStatus.REQUESTED if address else DeliveryStatus.UNREACHABLE,
            detail=None if address else UNREACHABLE.format(incident=incident.id),
            requested_at=now,
            updated_at=now,
        )
        uow.session.add(delivery)
        if address is None:
            continue
        await uow.stage(
            NotificationRequested(
                notification_id=delivery.id,
                channel="email",
                template=TEMPLATE,
                recipient_ref=ref,
                claim_url=uow.url(f"/v1/notices/{notice.id}/deliveries/{delivery.id}/claim"),
                locale=pick_language(address.get("locale"), default_locale),
            ),
            ref,
        )
    await uow.session.flush()
    await settle(uow, incident, notice)


async def settle(uow: Uow, incident: Incident, notice: Notice) -> bool:
    """Once every delivery of a notice to individuals has ended: note it, tell the bus, purge the addresses."""
    if notice.kind != NoticeKind.INDIVIDUALS or notice.status != "sent":
        return False
    statuses = [d.status for d in await _deliveries(uow, notice.id)]
    if not all_final(statuses):
        return False
    counts = count_by_status(statuses)
    now = uow.now()
    done = {k: counts[k] for k in ("delivered", "failed", "unreachable", "submitted") if counts[k]}
    note(uow, incident, "notice.deliveries_completed", {"notice_id": notice.id, "counts": done})
    await uow.stage(
        BreachIndividualNoticeCompleted(
            incident_id=incident.id,
            notice_id=notice.id,
            delivered=counts["delivered"] + counts["submitted"],
            failed=counts["failed"],
            unreachable=counts["unreachable"],
            completed_at=now,
        ),
        str(incident.id),
    )
    await people.purge(uow, incident, "every delivery of the notice to individuals ended")
    return True


async def deliveries(uow: Uow, notice_id: uuid.UUID) -> DeliveriesOut:
    """A notice's deliveries with how many are in each status, and whether all have ended."""
    notice = await get_or_404(uow, Notice, notice_id)
    rows = await _deliveries(uow, notice.id)
    statuses = [row.status for row in rows]
    return DeliveriesOut(
        notice_id=notice.id,
        total=len(rows),
        counts=count_by_status(statuses),
        complete=all_final(statuses),
        items=[from_row(DeliveryOut, row) for row in rows],
    )


async def _deliveries(uow: Uow, notice_id: uuid.UUID) -> list[Delivery]:
    rows = await uow.session.exec(
        select(Delivery).where(col(Delivery.notice_id) == notice_id).order_by(col(Delivery.requested_at))
    )
    return list(rows.all())
