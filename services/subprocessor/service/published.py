"""What a tenant publishes without a token: its active subprocessors and the changes that took effect.

Only published data is shown: nothing proposed, no customer, no contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlmodel import col, func, select

from services.subprocessor.domain import ChangeKind
from services.subprocessor.domain.notices import KIND_TEXT, public_entry
from services.subprocessor.models import Subprocessor, SubprocessorChange
from services.subprocessor.service import Uow
from shared.rules.errors import NotFound

ATOM = "http://www.w3.org/2005/Atom"
FEED_LENGTH = 100
PUBLISHED = ("active", "retired")


async def subprocessor_list(uow: Uow) -> dict[str, Any]:
    """Active subprocessors: entity, service, purposes, data categories, locations and transfer mechanisms."""
    rows = await uow.session.exec(
        select(Subprocessor)
        .where(col(Subprocessor.tenant_id) == uow.tenant_id, col(Subprocessor.status) == "active")
        .order_by(col(Subprocessor.name))
    )
    subs = list(rows.all())
    return {
        "tenant": uow.tenant_id,
        "updated_at": max((s.updated_at for s in subs), default=None),
        "feed": uow.url(f"/public/{uow.tenant_id}/subprocessors.atom"),
        "subprocessors": [{"id": str(s.id), **public_entry(s.model_dump()), "since": s.updated_at} for s in subs],
    }


async def change_feed(uow: Uow) -> bytes:
    """The Atom feed of changes that took effect, newest first: 404 when the tenant has published no subprocessor."""
    # Retired subprocessors were published once: their removal stays in the feed.
    newest = await uow.session.exec(
        select(func.max(Subprocessor.updated_at)).where(
            col(Subprocessor.tenant_id) == uow.tenant_id, col(Subprocessor.status).in_(PUBLISHED)
        )
    )
    published_at = newest.one()
    if published_at is None:
        raise NotFound(f"No published subprocessor list for {uow.tenant_id!r}.")
    rows = await uow.session.exec(
        select(SubprocessorChange, Subprocessor)
        .join(Subprocessor, col(Subprocessor.id) == col(SubprocessorChange.subprocessor_id))
        .where(col(SubprocessorChange.tenant_id) == uow.tenant_id, col(SubprocessorChange.state) == "effective")
        .order_by(col(SubprocessorChange.closed_at).desc())
        .limit(FEED_LENGTH)
    )
    return _atom(uow, [(change, sub) for change, sub in rows.all()], published_at)


def _atom(uow: Uow, entries: list[tuple[SubprocessorChange, Subprocessor]], published_at: datetime) -> bytes:
    """The feed is as recent as its newest entry, or, before any change, as its newest subprocessor."""
    tenant = uow.tenant_id
    base = uow.url(f"/public/{tenant}")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    updated = max((c.closed_at for c, _ in entries if c.closed_at), default=published_at)
    child(feed, "id", f"{base}/subprocessors.atom")
    child(feed, "title", f"Subprocessor changes of {tenant}")
    child(feed, "updated", updated.isoformat())
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
