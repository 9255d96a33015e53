"""Claim checks: what a requested message says and to whom, fetched from the service that asked.

The bus never carries an address: notify fetches it from the event's claim URL with a short-lived
token of the event's tenant holding ``notify:claim`` (and nothing else), at delivery time, so an
address erased in between is never used.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notify.service import Uow
from shared.runtime.tokens import TokenRequestFailed, service_tokens

CLAIM_SCOPE = "notify:claim"
# The message is gone for good: expired, withdrawn, or its recipient erased.
FINAL_STATUSES = (404, 410)


class Claim(BaseModel):
    """What a claim URL answers (the same for every service)."""

    model_config = ConfigDict(extra="ignore")

    notification_id: str
    channel: Literal["email", "webhook"]
    template: str
    locale: str | None = None
    to: str | None = None
    to_name: str | None = None
    webhook_url: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class ClaimFailed(Exception):
    """The claim could not be fetched: ``final`` when retrying cannot help."""

    def __init__(self, reason: str, *, final: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final
        self.status = status


async def claim_token(uow: Uow) -> str:
    """A short-lived token of the unit's tenant holding ``notify:claim`` only (from the identity service)."""
    return await service_tokens(uow.settings).token(uow.tenant_id, [CLAIM_SCOPE])


async def fetch_claim(uow: Uow, client: httpx.AsyncClient, claim_url: str) -> Claim:
    """The claim behind ``claim_url``; ``ClaimFailed`` (final on 404/410 or a malformed answer)."""
    try:
        token = await claim_token(uow)
    except TokenRequestFailed as exc:  # the identity service is down or refuses: a passing fault, retried
        raise ClaimFailed(f"no token for the claim: {exc}", final=False) from None
    try:
        response = await client.get(
            claim_url, headers={"Authorization": f"Bearer {token}"}, timeout=uow.settings.claim_timeout_s
        )
    except httpx.HTTPError as exc:
        raise ClaimFailed(f"claim unreachable: {type(exc).__name__}", final=False) from None
    status = response.status_code
    if status in FINAL_STATUSES:
        raise ClaimFailed(f"claim answered {status}: {_detail(response)}", final=True, status=status)
    if status >= 300:
        # 5xx, 408, 429 are passing; 401/403 is the origin not granting notify:claim yet (a deployment
        # fix), so it is retried too, and the message fails when retries run out.
        raise ClaimFailed(f"claim answered {status}: {_detail(response)}", final=False, status=status)
    try:
        return Claim.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise ClaimFailed(f"claim answer is not a claim: {str(exc)[:300]}", final=True, status=status) from None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or body.get("title") or "")[:200] if isinstance(body, dict) else ""
