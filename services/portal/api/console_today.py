"""What the home page adds from the newer areas: authorities' demands waiting for a decision or whose deferral
ends soon, and contract ends waiting for a second person."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.portal.api.deps import Portal, Session
from services.portal.service.backends import BackendError

UNDECIDED = ("received", "under_review", "challenged")


async def demands_waiting(portal: Portal, session: Session, now: datetime, days: int) -> list[dict[str, Any]]:
    """Open demands not decided yet, and those whose deferral of the customer's notice ends within ``days``."""
    demands = await portal.backends.as_person(
        session.token, "GET", "/v1/demands", service="subprocessor", params={"limit": 200}
    )
    soon = now + timedelta(days=days)
    waiting = []
    for demand in demands:
        ending = [
            d["until"]
            for d in demand.get("deferrals", [])
            if not d.get("ended_at") and datetime.fromisoformat(d["until"]) <= soon
        ]
        if demand["status"] in UNDECIDED or (ending and demand.get("notification") == "deferred"):
            waiting.append(demand | {"deferral_ends": min(ending) if ending else None})
    return waiting


async def ends_to_confirm(portal: Portal, session: Session) -> list[dict[str, Any]]:
    """Contract ends waiting for a second person (none where the DSAR service has no contract ends yet)."""
    try:
        ends: list[dict[str, Any]] = await portal.backends.as_person(session.token, "GET", "/v1/contract-ends")
    except BackendError as exc:
        if exc.status == 404:
            return []
        raise
    return [e for e in ends if e.get("state") == "requested"]
