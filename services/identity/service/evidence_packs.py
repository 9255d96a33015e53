"""Evidence packs: every service's evidence for a tenant and period in one ZIP, its manifest signed by the tenant.

A processor makes available to its customer all information necessary to demonstrate compliance and
contributes to audits (GDPR Art. 28(3)(h)); a controller demonstrates compliance (Art. 5(2)),
https://eur-lex.europa.eu/eli/reg/2016/679/oj. The identity service asks each service in
``service_urls`` for ``GET /v1/evidence`` with a short token of the tenant holding ``evidence:read``
only, adds its own evidence, and signs the manifest with the tenant's document key, like a
certificate of erasure. A service that does not answer is named in the manifest with the reason,
and the pack says it is not complete: nothing is left out silently.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import structlog

from services.identity.domain import tokens as rules
from services.identity.service import Uow
from services.identity.service.crypto import sign
from services.identity.service.evidence import EVIDENCE
from services.identity.service.keys import document_signing_key
from services.identity.service.signatures import tenant_issuer
from services.identity.service.tokens import sign_access_token
from shared.rules import evidence_pack as pack
from shared.rules.errors import NotFound
from shared.rules.scopes import EVIDENCE_READ
from shared.runtime.evidence import collect
from shared.runtime.http import http_client

log = structlog.get_logger("privops.identity.evidence")
ACTOR = "service:identity"


@dataclass(frozen=True)
class EvidencePack:
    """A built pack: its id, its tenant and the ZIP's bytes."""

    pack_id: str
    tenant: str
    content: bytes
    complete: bool


async def build_pack(uow: Uow, tenant: str | None, since: date, until: date) -> EvidencePack:
    """The signed evidence pack of the unit's tenant for the period (another tenant's: 404, as a missing one)."""
    if tenant is not None and tenant != uow.tenant_id:
        raise NotFound(f"No evidence of tenant {tenant!r} for this token.")
    own = await collect(uow, EVIDENCE, since, until)  # also checks the period (422 before any call)
    token, _ = await sign_access_token(uow, subject=ACTOR, scopes=[EVIDENCE_READ], client_id=uow.settings.service_name)
    answers = await asyncio.gather(
        *(_evidence_of(uow, url, token, since, until) for url in uow.settings.service_urls.values())
    )
    outcomes = {"identity": pack.ServiceOutcome("answered", sections=tuple(own.sections))}
    files = pack.service_files("identity", own.model_dump(mode="json"))
    for name, (outcome, answer) in zip(uow.settings.service_urls, answers, strict=True):
        outcomes[name] = outcome
        if answer is not None:
            files |= pack.service_files(name, answer)
    files[pack.README] = pack.README_TEXT.encode()
    pack_id = str(uuid.uuid4())
    document = pack.manifest(
        pack_id=pack_id,
        tenant=uow.tenant_id,
        since=since.isoformat(),
        until=until.isoformat(),
        generated_at=uow.now(),
        services=outcomes,
        files=files,
    )
    manifest_bytes = pack.canonical_json(document)
    claims = rules.document_claims(
        pack.manifest_claims(document, manifest_bytes), tenant_issuer(uow, uow.tenant_id), uow.now()
    )
    jws = sign(await document_signing_key(uow), pack.TYP, claims)
    missing = sorted(name for name, outcome in outcomes.items() if outcome.status != "answered")
    uow.audit(
        "evidence_pack.built",
        "evidence_pack",
        pack_id,
        {"since": since.isoformat(), "until": until.isoformat(), "files": len(files), "missing": missing},
    )
    log.info("identity.evidence_pack.built", tenant=uow.tenant_id, pack_id=pack_id, missing=missing)
    return EvidencePack(pack_id, uow.tenant_id, pack.archive(files, manifest_bytes, jws), not missing)


async def _evidence_of(
    uow: Uow, base_url: str, token: str, since: date, until: date
) -> tuple[pack.ServiceOutcome, dict[str, Any] | None]:
    """One service's answer to ``GET /v1/evidence``, or why there is none (never raises)."""
    url = base_url.rstrip("/") + "/v1/evidence"
    params = {"since": since.isoformat(), "until": until.isoformat()}
    try:
        async with http_client(timeout=uow.settings.evidence_timeout_s) as client:
            response = await client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return pack.ServiceOutcome("unavailable", f"{type(exc).__name__}: {str(exc)[:200]}"), None
    if response.status_code != 200:
        return pack.ServiceOutcome("failed", f"HTTP {response.status_code}: {response.text[:200]}"), None
    try:
        answer: dict[str, Any] = response.json()
        sections = tuple(answer["sections"])
    except (ValueError, KeyError, TypeError) as exc:
        return pack.ServiceOutcome("failed", f"not an evidence answer: {exc}"), None
    if answer.get("tenant") != uow.tenant_id:
        return pack.ServiceOutcome("failed", f"answered for tenant {answer.get('tenant')!r}"), None
    return pack.ServiceOutcome("answered", sections=sections), answer
