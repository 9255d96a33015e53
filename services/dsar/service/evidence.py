"""The DSAR service's evidence: the data map, request statistics and certificates of erasure, no personal data.

What a controller shows to demonstrate it answers rights requests (GDPR Art. 5(2), 12(3) and 17,
https://eur-lex.europa.eu/eli/reg/2016/679/oj) and what a processor makes available to its customer
(Art. 28(3)(e) and (h)). Systems' owners and contacts are left out: they may name people.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from services.dsar.domain.statistics import Answered, timeliness
from services.dsar.models import DataSystem, DsarRequest, ErasureCertificate
from services.dsar.service import Uow
from shared.rules import keys
from shared.runtime.evidence import counted, within


async def data_map_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Every registered system: what it holds, why, who receives it, where it goes and how long it is kept."""
    rows = (
        await uow.session.exec(
            select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id).order_by(col(DataSystem.key))
        )
    ).all()
    return {
        "systems": [
            {
                "key": s.key,
                "name": s.name,
                "description": s.description,
                "data_categories": s.data_categories,
                "purposes": s.purposes,
                "recipients": s.recipients,
                "transfer_safeguards": s.transfer_safeguards,
                "retention": s.retention,
                "source": s.source,
                "actions": s.actions,
                "manual": s.manual,
                "active": s.active,
                "registered_at": s.created_at,
                "updated_at": s.updated_at,
            }
            for s in rows
        ]
    }


async def requests_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Requests received in the period by type, state and jurisdiction; those closed in it: on time, median days."""
    mine = col(DsarRequest.tenant_id) == uow.tenant_id
    received = within(DsarRequest.received_at, since, until)

    async def grouped(*columns: Any) -> dict[str, int]:
        query = select(*columns, func.count()).where(mine, received)  # type: ignore[call-overload]
        return counted((await uow.session.exec(query.group_by(*columns).order_by(*columns))).all())

    closed = (
        await uow.session.exec(
            select(DsarRequest.received_at, DsarRequest.due_at, DsarRequest.closed_at).where(
                mine, within(DsarRequest.closed_at, since, until)
            )
        )
    ).all()
    answered = [Answered(r, d, c) for r, d, c in closed if c is not None]
    return {
        "received": sum((await grouped(DsarRequest.request_type)).values()),
        "by_type": await grouped(DsarRequest.request_type),
        "by_state": await grouped(DsarRequest.state),
        "by_jurisdiction": await grouped(DsarRequest.regime_id),
        "by_type_and_outcome": await grouped(DsarRequest.request_type, DsarRequest.outcome),
        "closed_in_period": timeliness(answered),
    }


async def erasure_certificates_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The certificates of erasure issued in the period: ids, outcome, signing key and the SHA-256 of each JWS.

    The JWS itself names the person by reference, so it stays in the DSAR service: whoever holds a
    certificate checks it is the one listed here by its hash (``GET /v1/requests/{id}/certificate``).
    """
    rows = (
        await uow.session.exec(
            select(ErasureCertificate)
            .where(
                col(ErasureCertificate.tenant_id) == uow.tenant_id, within(ErasureCertificate.issued_at, since, until)
            )
            .order_by(col(ErasureCertificate.issued_at))
        )
    ).all()
    return {
        "certificates": [
            {
                "certificate_id": str(c.id),
                "request_id": str(c.request_id),
                "outcome": c.document.get("outcome"),
                "systems": len(c.document.get("systems", [])),
                "issued_at": c.issued_at,
                "signed_at": c.signed_at,
                "algorithm": c.algorithm,
                "kid": _kid(c.signature),
                "jws_sha256": hashlib.sha256(c.signature.encode()).hexdigest() if c.signature else None,
            }
            for c in rows
        ]
    }


def _kid(signature: str | None) -> str | None:
    if not signature or signature.count(".") != 2:
        return None
    try:
        return keys.header(signature).get("kid")
    except keys.SignatureInvalid:
        return None


EVIDENCE = [data_map_evidence, requests_evidence, erasure_certificates_evidence]
