"""The ASGI handlers of the hot paths (``shared.runtime.hotpath``): the same answers as the routes, or ``None``.

A handler answers only what it fully understands and returns ``None`` for anything else: the request
then goes on, unchanged, to its FastAPI route (``api/checks.py``, ``api/consents.py``), which also
renders every error.
"""

from __future__ import annotations

import re

import asyncpg
from pydantic import ValidationError

from services.consent.models import ConsentRecord
from services.consent.schemas.consents import SUBJECT_REF, ConsentIn, ConsentOut
from services.consent.service.consents import DecisionRequest
from services.consent.service.hot.cache import cached_purpose
from services.consent.service.hot.checks import MAX_PURPOSES, check_now, check_out
from services.consent.service.hot.direct import Direct
from services.consent.service.hot.write import WRITE_DECISION, decision_params
from shared.rules.errors import ServiceUnavailable
from shared.runtime.auth import Principal
from shared.runtime.hotpath import HotAnswer, HotPath, HotRequest

_SUBJECT_REF = re.compile(SUBJECT_REF)


async def fast_check_by_ref(request: HotRequest) -> HotAnswer | None:
    """``GET /v1/checks``: the route's answer, or ``None`` for the route."""
    refs, purposes = request.query.get("subject_ref"), request.query.get("purpose")
    direct: Direct | None = getattr(request.state, "direct", None)
    if direct is None or not refs or len(refs) != 1 or not _SUBJECT_REF.match(refs[0]):
        return None
    if not purposes or len(purposes) > MAX_PURPOSES:
        return None
    now = direct.clock.now()
    answers = await check_now(direct.pool, request.principal.tenant_id, refs[0], purposes, now)
    return 200, check_out(refs[0], now, answers).model_dump_json().encode()


async def fast_record_consent(request: HotRequest) -> HotAnswer | None:
    """``POST /v1/consents``: one statement, or ``None`` for the route.

    A request with ``Sec-GPC``, a body the schema refuses, a receipt to mail (``receipt_to``), an address
    (``contact_email``), or a purpose
    whose rules are not cached yet goes to the route (which caches the rules for the next request).
    """
    direct: Direct | None = getattr(request.state, "direct", None)
    if direct is None or "sec-gpc" in request.headers:
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None  # the route decides what other media types get
    try:
        body = ConsentIn.model_validate_json(request.body)
    except ValidationError:
        return None
    if body.receipt_to is not None or body.contact_email is not None:
        return None  # the receipt's mail and the address are written with the decision, in the route's transaction
    record = await record_direct(direct, request.principal, body)
    if record is None:
        return None
    return 201, ConsentOut.model_validate(record).model_dump_json().encode()


def _unknown_outcome() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The connection to the database was lost while the decision was being written; "
        "read the subject's history before sending it again."
    )


async def record_direct(direct: Direct, principal: Principal, body: ConsentIn) -> ConsentRecord | None:
    """``record_consent`` as one autocommitted statement on the direct pool, or ``None`` when it cannot be done so.

    ``None`` (nothing written) when the purpose's rules are not cached or moved on since they were,
    or when the database refused the statement: ``record_consent`` then does it the usual way. Once
    the statement is sent, a lost connection leaves the outcome unknown: that is a 503, never a retry.
    """
    clock = direct.clock
    try:
        request = DecisionRequest.of(body, direct.settings, clock, tenant=principal.tenant_id)
        rules = cached_purpose(direct.engine, principal.tenant_id, body.purpose)
        if rules is None:
            return None
        record = request.record(principal.tenant_id, rules, clock.now())
        params = decision_params(
            record, rules.revision, actor=principal.subject, clock=clock, service=direct.settings.service_name
        )
    except Exception:  # nothing written yet: ``record_consent`` checks again and gives the answer (422 …)
        return None
    pool = direct.pool
    try:
        connection = await pool.acquire()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return None
    try:
        written = await connection.fetchrow(WRITE_DECISION, *params)
    except asyncpg.PostgresConnectionError as exc:
        raise _unknown_outcome() from exc
    except asyncpg.PostgresError:
        return None  # refused by the server: the statement changed nothing
    except (OSError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise _unknown_outcome() from exc
    finally:
        await pool.release(connection)
    return record if written is not None else None


HOT_PATHS = [
    HotPath("GET", "/v1/checks", "consent:read", fast_check_by_ref),
    HotPath("POST", "/v1/consents", "consent:write", fast_record_consent, replayable=False),
]
