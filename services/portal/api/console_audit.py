"""The console's audit log: each service's entries for the tenant, filtered, and the verification of its hash chain.

Every service keeps an append-only, hash-chained log of what was changed or read and by whom
(``GET /v1/audit``, ``GET /v1/audit/verification``, scope ``<service>:read``): what the controller
shows to demonstrate compliance (GDPR Art. 5(2), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import failed, page, to_login
from services.portal.api.deps import PortalDep, session_of
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SERVICES = {
    "dsar": "Rights requests",
    "breach": "Breaches",
    "consent": "Consent",
    "retention": "Retention",
    "subprocessor": "Subprocessors",
}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PAGE_SIZE = 200  # entries per page of the log
Text = Annotated[str, Query(max_length=255)]


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    portal: PortalDep,
    service: Annotated[str, Query(max_length=16)] = "dsar",
    action: Text = "",
    entity_type: Text = "",
    entity_id: Text = "",
    actor: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    verify: Annotated[str, Query(max_length=3)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="entries older than this id")] = None,
) -> Response:
    """One service's audit entries for the tenant, newest first; the chain verified on demand."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    readable = {k: v for k, v in SERVICES.items() if session.may(f"{k}:read")}
    chosen = service if service in readable else next(iter(readable), "")
    filters = {"action": action, "entity_type": entity_type, "entity_id": entity_id, "actor": actor}
    # One more than a page: whether there are older entries to link to (the service pages by id, newest first).
    params: dict[str, Any] = {k: v for k, v in filters.items() if v} | {"limit": PAGE_SIZE + 1}
    if before is not None:
        params["before"] = before
    if DAY.match(since):
        params["since"] = f"{since}T00:00:00+00:00"
    if DAY.match(until):
        params["until"] = f"{until}T00:00:00+00:00"
    entries: list[dict[str, Any]] = []
    verification = None
    if chosen:
        try:
            entries = await portal.backends.as_person(session.token, "GET", "/v1/audit", service=chosen, params=params)
            if verify:
                verification = await portal.backends.as_person(
                    session.token, "GET", "/v1/audit/verification", service=chosen
                )
        except BackendError as exc:
            return failed(portal, session, request, exc)
    return page(
        portal,
        session,
        "console/audit.html",
        services=readable,
        chosen=chosen,
        filters=filters | {"since": since, "until": until},
        entries=entries[:PAGE_SIZE],
        verification=verification,
        older_href=_older_href(request.url.query, entries[PAGE_SIZE - 1]["id"]) if len(entries) > PAGE_SIZE else None,
        newest_href=_older_href(request.url.query, None) if before is not None else None,
    )


def _older_href(query: str, before: int | None) -> str:
    """This page's filters, from the entries older than ``before`` (None: the newest again)."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("before", "verify")]
    return "/console/audit?" + urlencode([*kept, *([("before", str(before))] if before is not None else [])])
