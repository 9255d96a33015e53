"""The load the faults land on: consent writes and DSAR erasures through the public APIs.

Clients behave as careful product backends do: a write whose outcome is unknown (the connection
broke, the service answered 5xx) is looked up before it is retried, so a duplicate in the
platform's data can only come from the platform. DSAR requests carry an ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_PAUSE_S = 0.5


@dataclass
class Progress:
    """What the load achieved so far."""

    consents_done: int = 0
    consent_refs: dict[int, str] = field(default_factory=dict)  # write number -> subject_ref
    withdrawn_refs: set[str] = field(default_factory=set)
    consent_retries: int = 0
    consent_found_on_lookup: int = 0
    dsar_opened: int = 0
    dsar_verified: int = 0
    dsar_ids: dict[int, str] = field(default_factory=dict)
    dsar_retries: int = 0
    started: float = field(default_factory=time.monotonic)
    consents_finished_at: float | None = None
    dsars_submitted_at: float | None = None


def consent_body(i: int) -> dict[str, Any]:
    """Write ``i``: a new subject each time; one in ten is a withdrawal (retention schedules it)."""
    return {
        "subject": {"kind": "email", "value": f"chaos-consent-{i}@example.test"},
        "purpose": "newsletter",
        "decision": "withdrawn" if i % 10 == 0 else "granted",
        "channel": "web",
        "collector": "chaos-run",
    }


async def _lookup_consent(client: httpx.AsyncClient, url: str, i: int) -> str | None:
    """The subject_ref if write ``i`` is recorded, None if not; retried until the service answers."""
    body = {"subject": consent_body(i)["subject"]}
    while True:
        try:
            response = await client.post(f"{url}/v1/subjects/history", json=body)
            if response.status_code == 200:
                data = response.json()
                return str(data["subject_ref"]) if data["records"] else None
        except httpx.HTTPError:
            pass
        await asyncio.sleep(RETRY_PAUSE_S)


async def write_consent(client: httpx.AsyncClient, url: str, i: int, progress: Progress) -> None:
    """Record write ``i`` exactly once, whatever fails on the way."""
    body = consent_body(i)
    while True:
        unknown = False
        try:
            response = await client.post(f"{url}/v1/consents", json=body)
            if response.status_code == 201:
                ref = str(response.json()["subject_ref"])
                break
            if response.status_code < 500 and response.status_code not in (401, 408, 429):
                raise RuntimeError(f"consent write {i} refused: {response.status_code} {response.text[:300]}")
            unknown = True
        except httpx.ConnectError:
            unknown = False  # never reached the service: safe to send again
        except httpx.HTTPError:
            unknown = True
        progress.consent_retries += 1
        if unknown:
            found = await _lookup_consent(client, url, i)
            if found is not None:
                progress.consent_found_on_lookup += 1
                ref = found
                break
        await asyncio.sleep(RETRY_PAUSE_S)
    progress.consent_refs[i] = ref
    if body["decision"] == "withdrawn":
        progress.withdrawn_refs.add(ref)
    progress.consents_done += 1


async def open_erasure(client: httpx.AsyncClient, url: str, i: int, progress: Progress) -> None:
    """Open erasure ``i`` (idempotent key) and verify the identity manually (operator), retrying through faults."""
    body = {
        "type": "erasure",
        "jurisdiction": "eu-gdpr",
        "identifiers": [{"kind": "email", "value": f"chaos-dsar-{i}@example.test"}],
        "channel": "web",
    }
    key = f"chaos-{i}-{uuid.uuid5(uuid.NAMESPACE_URL, str(i)).hex[:8]}"
    request_id = await _until_ok(
        lambda: client.post(f"{url}/v1/requests", json=body, headers={"Idempotency-Key": key}), (200, 201), progress
    )
    rid = str(request_id["id"])
    progress.dsar_ids[i] = rid
    progress.dsar_opened += 1
    manual = {"evidence_ref": f"CHAOS-{i}", "note": "chaos run: identity checked by an operator"}
    while True:
        try:
            response = await client.post(f"{url}/v1/requests/{rid}/verification/manual", json=manual)
            if response.status_code == 200:
                break
            if response.status_code == 409:  # an earlier attempt went through: check where it stands
                state = (await client.get(f"{url}/v1/requests/{rid}")).json().get("state")
                if state not in ("received", "awaiting_verification"):
                    break
            elif response.status_code < 500:
                raise RuntimeError(f"verification of {rid} refused: {response.status_code} {response.text[:300]}")
        except httpx.HTTPError:
            pass
        progress.dsar_retries += 1
        await asyncio.sleep(RETRY_PAUSE_S)
    progress.dsar_verified += 1


async def _until_ok(call: Any, ok: tuple[int, ...], progress: Progress) -> dict[str, Any]:
    while True:
        try:
            response = await call()
            if response.status_code in ok:
                result: dict[str, Any] = response.json()
                return result
            if response.status_code < 500:
                raise RuntimeError(f"refused: {response.status_code} {response.text[:300]}")
        except httpx.HTTPError:
            pass
        progress.dsar_retries += 1
        await asyncio.sleep(RETRY_PAUSE_S)


async def run_load(
    urls: dict[str, str], token: str, consents: int, erasures: int, concurrency: int, progress: Progress
) -> None:
    """Send every consent write and every erasure with bounded concurrency."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(headers=headers, timeout=30.0, limits=limits) as client:
        gate = asyncio.Semaphore(concurrency)
        dsar_gate = asyncio.Semaphore(max(2, concurrency // 2))

        async def consent(i: int) -> None:
            async with gate:
                await write_consent(client, urls["consent"], i, progress)

        async def erasure(i: int) -> None:
            async with dsar_gate:
                await open_erasure(client, urls["dsar"], i, progress)

        async def all_consents() -> None:
            await asyncio.gather(*(consent(i) for i in range(consents)))
            progress.consents_finished_at = time.monotonic()

        async def all_erasures() -> None:
            await asyncio.gather(*(erasure(i) for i in range(erasures)))
            progress.dsars_submitted_at = time.monotonic()

        await asyncio.gather(all_consents(), all_erasures())
