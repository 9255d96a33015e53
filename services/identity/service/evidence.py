"""The identity service's evidence: the tenant's document keys and who holds access, by kind and role.

Accountability (GDPR Art. 5(2) and 32(1)(b), https://eur-lex.europa.eu/eli/reg/2016/679/oj): which
keys signed the tenant's documents, and how many clients and people may act, with which scopes or
roles. People are counted, never named.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from services.identity.domain.keys import KeyUse
from services.identity.models import Client, SigningKey, UserAccount
from services.identity.service import Uow


async def document_keys_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Every document key of the tenant: its kid, when made and retired (all stay published)."""
    rows = (
        await uow.session.exec(
            select(SigningKey)
            .where(col(SigningKey.tenant_id) == uow.tenant_id, col(SigningKey.use) == KeyUse.DOCUMENT.value)
            .order_by(col(SigningKey.created_at))
        )
    ).all()
    return {"keys": [{"kid": k.kid, "created_at": k.created_at, "retired_at": k.retired_at} for k in rows]}


async def access_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """The tenant's enabled clients (id, kind, scopes) and its enabled people counted by role."""
    clients = (
        await uow.session.exec(
            select(Client)
            .where(col(Client.tenant_id) == uow.tenant_id, col(Client.disabled_at).is_(None))
            .order_by(col(Client.client_id))
        )
    ).all()
    people = (
        await uow.session.exec(
            select(UserAccount).where(
                col(UserAccount.tenant_id) == uow.tenant_id, col(UserAccount.disabled_at).is_(None)
            )
        )
    ).all()
    return {
        "clients": [{"client_id": c.client_id, "kind": c.kind, "scopes": sorted(c.scopes)} for c in clients],
        "people_by_role": dict(sorted(Counter(role for p in people for role in p.roles).items())),
    }


EVIDENCE = [document_keys_evidence, access_evidence]
