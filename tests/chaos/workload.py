"""The load the faults land on: consent writes and DSAR erasures through the public APIs.

Clients behave as careful product backends do: a write whose outcome is unknown (the connection
broke, the service answered 5xx) is looked up before it is retried, so a duplicate in the
platform's data can only come from the platform. DSAR requests carry an ``Idempotency-Key``.

The configured counts are a minimum: while the runner's faults are still coming the load keeps
sending more of the same (new subjects, new numbers) with fewer workers and a pause between two
items, so that every fault lands on requests in flight and the platform can still drain. Every HTTP
request is counted while it is outstanding (``Progress.in_flight``).
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_PAUSE_S = 0.5
HOLD_EVERY = 10  # one erasure subject in ten is under a legal hold
WITHDRAWAL_EVERY = 10  # one consent write in ten is a withdrawal
PEOPLE_COLLECTOR = "chaos-run-people"


@dataclass(frozen=True)
class LoadPlan:
    """How much to send, and how hard."""

    consents: int  # the minimum of consent writes
    erasures: int  # the minimum of erasures
    concurrency: int  # consent writes side by side until the minimum (erasures: half as many)
    extra_consent_workers: int = 4  # once the minimum is sent and faults are still coming
    extra_erasure_workers: int = 1
    extra_consent_pause_s: float = 0.2  # each extra worker's pause between two items
    extra_erasure_pause_s: float = 1.5  # an erasure costs a task in each of 8 systems, a certificate and two mails


@dataclass
class Stream:
    """One kind of item the load sends: how many at least, how many handed out so far, and when."""

    minimum: int = 0
    sent: int = 0  # items handed out (every one below it is done when the load has ended)
    minimum_sent_at: float | None = None
    finished_at: float | None = None

    @property
    def extra(self) -> int:
        """Items sent beyond the minimum, while faults were still coming."""
        return max(0, self.sent - self.minimum)


@dataclass
class Progress:
    """What the load achieved so far; ``more_wanted`` is the runner's word that faults are still coming."""

    more_wanted: bool = True
    in_flight: int = 0  # HTTP requests sent and not yet answered
    requests: int = 0
    consents: Stream = field(default_factory=Stream)
    erasures: Stream = field(default_factory=Stream)
    consents_done: int = 0
    consent_refs: dict[int, str] = field(default_factory=dict)  # write number -> subject_ref
    withdrawn_refs: set[str] = field(default_factory=set)
    consent_retries: int = 0
    consent_found_on_lookup: int = 0
    dsar_opened: int = 0
    dsar_verified: int = 0
    dsar_ids: dict[int, str] = field(default_factory=dict)
    dsar_retries: int = 0
    people_refs: dict[str, str] = field(default_factory=dict)  # email of a demo person -> subject_ref (withdrawn)
    started: float = field(default_factory=time.monotonic)

    async def call(self, request: Awaitable[httpx.Response]) -> httpx.Response:
        """Send one HTTP request, counted as in flight until it is answered or fails."""
        self.in_flight += 1
        self.requests += 1
        try:
            return await request
        finally:
            self.in_flight -= 1


def consent_body(i: int) -> dict[str, Any]:
    """Write ``i``: a new subject each time; one in ten is a withdrawal (retention schedules it)."""
    return {
        "subject": {"kind": "email", "value": f"chaos-consent-{i}@example.test"},
        "purpose": "newsletter",
        "decision": "withdrawn" if i % WITHDRAWAL_EVERY == 0 else "granted",
        "channel": "web",
        "collector": "chaos-run",
    }


def erasure_email(i: int) -> str:
    """The email of erasure ``i``'s subject."""
    return f"chaos-dsar-{i}@example.test"


def held(i: int) -> bool:
    """True for the erasure subjects the run places a legal hold on (among the configured minimum)."""
    return i % HOLD_EVERY == 0


async def _lookup_consent(client: httpx.AsyncClient, url: str, body: dict[str, Any], progress: Progress) -> str | None:
    """The subject_ref if the write of ``body`` is recorded, None if not; retried until the service answers."""
    query = {"subject": body["subject"]}
    while True:
        try:
            response = await progress.call(client.post(f"{url}/v1/subjects/history", json=query))
            if response.status_code == 200:
                data = response.json()
                return str(data["subject_ref"]) if data["records"] else None
        except httpx.HTTPError:
            pass
        await asyncio.sleep(RETRY_PAUSE_S)


async def record_consent(client: httpx.AsyncClient, url: str, body: dict[str, Any], progress: Progress) -> str:
    """Record one consent write exactly once, whatever fails on the way; its subject_ref."""
    while True:
        unknown = False
        try:
            response = await progress.call(client.post(f"{url}/v1/consents", json=body))
            if response.status_code == 201:
                return str(response.json()["subject_ref"])
            if response.status_code < 500 and response.status_code not in (401, 408, 429):
                raise RuntimeError(f"consent write refused: {response.status_code} {response.text[:300]}")
            unknown = True
        except httpx.ConnectError:
            unknown = False  # never reached the service: safe to send again
        except httpx.HTTPError:
            unknown = True
        progress.consent_retries += 1
        if unknown:
            found = await _lookup_consent(client, url, body, progress)
            if found is not None:
                progress.consent_found_on_lookup += 1
                return found
        await asyncio.sleep(RETRY_PAUSE_S)


async def write_consent(client: httpx.AsyncClient, url: str, i: int, progress: Progress) -> None:
    """Record write ``i`` exactly once."""
    body = consent_body(i)
    ref = await record_consent(client, url, body, progress)
    progress.consent_refs[i] = ref
    if body["decision"] == "withdrawn":
        progress.withdrawn_refs.add(ref)
    progress.consents_done += 1


async def withdraw_people(url: str, token: str, emails: list[str], progress: Progress) -> None:
    """Withdraw the newsletter consent of demo people the CRM holds: their subscription must go (a sweep)."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as client:
        for email in emails:
            body = {
                "subject": {"kind": "email", "value": email},
                "purpose": "newsletter",
                "decision": "withdrawn",
                "channel": "web",
                "collector": PEOPLE_COLLECTOR,
            }
            progress.people_refs[email] = await record_consent(client, url, body, progress)


async def open_erasure(client: httpx.AsyncClient, url: str, i: int, progress: Progress) -> None:
    """Open erasure ``i`` (idempotent key) and verify the identity manually (operator), retrying through faults."""
    body = {
        "type": "erasure",
        "jurisdiction": "eu-gdpr",
        "identifiers": [{"kind": "email", "value": erasure_email(i)}],
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
            response = await progress.call(client.post(f"{url}/v1/requests/{rid}/verification/manual", json=manual))
            if response.status_code == 200:
                break
            if response.status_code == 409:  # an earlier attempt went through: check where it stands
                state = (await progress.call(client.get(f"{url}/v1/requests/{rid}"))).json().get("state")
                if state not in ("received", "awaiting_verification"):
                    break
            elif response.status_code < 500:
                raise RuntimeError(f"verification of {rid} refused: {response.status_code} {response.text[:300]}")
        except httpx.HTTPError:
            pass
        progress.dsar_retries += 1
        await asyncio.sleep(RETRY_PAUSE_S)
    progress.dsar_verified += 1


async def _until_ok(
    call: Callable[[], Awaitable[httpx.Response]], ok: tuple[int, ...], progress: Progress
) -> dict[str, Any]:
    while True:
        try:
            response = await progress.call(call())
            if response.status_code in ok:
                result: dict[str, Any] = response.json()
                return result
            if response.status_code < 500:
                raise RuntimeError(f"refused: {response.status_code} {response.text[:300]}")
        except httpx.HTTPError:
            pass
        progress.dsar_retries += 1
        await asyncio.sleep(RETRY_PAUSE_S)


Send = Callable[[int], Awaitable[None]]


async def _stream(
    stream: Stream, progress: Progress, workers: int, extra_workers: int, pause_s: float, send: Send
) -> None:
    """Send items 0, 1, 2 … with ``workers`` side by side until the stream's minimum; then, while faults are
    still coming, go on with the first ``extra_workers`` of them, each pausing ``pause_s`` between two items."""

    def extra_wanted(number: int) -> bool:
        return progress.more_wanted and number < extra_workers

    async def worker(number: int) -> None:
        while True:
            if stream.sent >= stream.minimum:
                if not extra_wanted(number):
                    return
                await asyncio.sleep(pause_s)
                if not extra_wanted(number):  # the faults ended during the pause
                    return
            item = stream.sent
            stream.sent += 1
            if stream.sent == stream.minimum:
                stream.minimum_sent_at = time.monotonic()
            await send(item)

    await asyncio.gather(*(worker(n) for n in range(max(workers, extra_workers))))
    stream.finished_at = time.monotonic()


async def run_load(urls: dict[str, str], token: str, plan: LoadPlan, progress: Progress) -> None:
    """Send the consent writes and the erasures; more of both until the runner says the faults are over."""
    progress.consents.minimum, progress.erasures.minimum = plan.consents, plan.erasures
    headers = {"Authorization": f"Bearer {token}"}
    connections = plan.concurrency * 2 + plan.extra_consent_workers + plan.extra_erasure_workers
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, timeout=30.0, limits=limits) as client:

        async def consent(i: int) -> None:
            await write_consent(client, urls["consent"], i, progress)

        async def erasure(i: int) -> None:
            await open_erasure(client, urls["dsar"], i, progress)

        await asyncio.gather(
            _stream(
                progress.consents,
                progress,
                plan.concurrency,
                plan.extra_consent_workers,
                plan.extra_consent_pause_s,
                consent,
            ),
            _stream(
                progress.erasures,
                progress,
                max(2, plan.concurrency // 2),
                plan.extra_erasure_workers,
                plan.extra_erasure_pause_s,
                erasure,
            ),
        )


async def place_holds(url: str, token: str, refs: dict[int, str], progress: Progress) -> dict[int, str]:
    """Place a legal hold on each erasure subject of ``refs`` (number -> subject_ref); the hold ids by number.

    A hold naming the person only (no category, system or matter) keeps all of their data, everywhere:
    their erasure answers exempt in every system, GDPR Art. 17(3)(e)
    (https://eur-lex.europa.eu/eli/reg/2016/679/oj).
    """
    holds: dict[int, str] = {}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as client:
        for i, ref in refs.items():
            body = {"subject_ref": ref, "reason": f"Chaos run: litigation case CHAOS-{i}, court order of 2026-12-01"}
            created = await _until_ok(functools.partial(client.post, f"{url}/v1/holds", json=body), (201,), progress)
            holds[i] = str(created["id"])
    return holds
