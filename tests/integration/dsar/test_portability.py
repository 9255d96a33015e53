"""Portability to another controller (GDPR Art. 20(2)): the package is sent, signed, to the receiving endpoint.

A receiver on 127.0.0.1 checks each package as docs/portability.md tells receivers to (the signature
against the published keys, the digests, the manifest and checksums, the JSON Schema) and acknowledges it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.events.catalogue.dsar import DsarTaskCompleted
from shared.events.topics import DSAR_EVENTS
from shared.runtime.signing import tenant_jwks_path
from tests.integration.dsar.receiver import Receiver, Rejected, run_receiver
from tests.integration.dsar.support import ADMIN, READ, WRITE, Dsar, request_body, serve_dsar
from tests.integration.dsar.test_manual_tasks import is_problem, read_records
from tests.integration.dsar.test_tasks import as_system, register, send_result, the_tasks
from tests.support.stack import Infra, auth, eventually

pytestmark = pytest.mark.integration

JOB = "dsar.portability-transfer"
SCHEMA_DOC = Path(__file__).parents[3] / "docs" / "schemas" / "portability-package.json"
RECORDS = [
    {"table": "contacts", "name": "Ada Lovelace", "email": "ada@example.com", "tags": ["vip"]},
    {"table": "orders", "order": "A-17", "total": 12.5},
]


def receiver_for(dsar: Dsar, tenant: str = "acme", fail_first: int = 0) -> Receiver:
    """A receiver that trusts ``tenant``'s published document keys on the DSAR service."""
    return Receiver(
        jwks_url=dsar.url + tenant_jwks_path(tenant),
        schema_url=dsar.url + "/v1/schemas/portability-package.json",
        fail_first=fail_first,
    )


async def portability_request(dsar: Dsar, endpoint: str) -> dict[str, Any]:
    """A portability request to Globex Bank's endpoint, verified by an operator (the crm system's task fans out)."""
    details = {"target_controller": "Globex Bank", "target_endpoint": endpoint}
    created = await dsar.open(request_body("portability", details=details, verification="manual"))
    verified = await dsar.client.post(
        f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "ID-1"}, headers=ADMIN
    )
    assert verified.status_code == 200, verified.text
    return created


async def store_answers(infra: Infra, dsar: Dsar, request_id: str) -> None:
    """The crm store claims its task, uploads the records and reports the task done over the broker."""
    task = (await the_tasks(dsar, request_id))["crm"]
    assert (await dsar.client.get(f"/v1/tasks/{task['id']}/claim", headers=as_system("crm"))).status_code == 200
    export = {"system": "crm", "format": "json", "records": RECORDS}
    uploaded = await dsar.client.put(f"/v1/tasks/{task['id']}/export", json=export, headers=as_system("crm"))
    assert uploaded.status_code == 200, uploaded.text
    done = DsarTaskCompleted(
        task_id=uuid.UUID(task["id"]),
        request_id=uuid.UUID(request_id),
        system="crm",
        outcome="done",
        records_affected=len(RECORDS),
        completed_at=datetime.now(UTC),
    )
    await send_result(infra, dsar, done)


async def transfers(dsar: Dsar, request_id: str) -> list[dict[str, Any]]:
    response = await dsar.client.get(f"/v1/requests/{request_id}/transfers", headers=READ)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def scheduled(dsar: Dsar, request_id: str) -> list[dict[str, Any]] | None:
    return await transfers(dsar, request_id) or None


async def test_a_package_reaches_the_receiver_signed_after_a_failed_first_try(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    overrides = {"portability_loopback": True, "portability_retry_base_s": 60.0}
    async with serve_dsar(infra, topic_prefix, **overrides) as dsar:
        await dsar.wait_consumers_ready()
        async with run_receiver(receiver_for(dsar, fail_first=1)) as receiver:
            await register(dsar, "crm", ["access", "portability"])
            created = await portability_request(dsar, receiver.url)
            request_id = created["id"]
            assert created["details"]["target_endpoint"] == receiver.url
            await store_answers(infra, dsar, request_id)
            (pending,) = await eventually(lambda: scheduled(dsar, request_id))
            assert (pending["state"], pending["attempts"], pending["controller"]) == ("pending", 0, "Globex Bank")
            assert (await dsar.request(request_id))["state"] == "in_progress"  # answered once the receiver has it

            assert await dsar.runtime.jobs.run_once(JOB) == 1  # the receiver fails (500)
            (once,) = await transfers(dsar, request_id)
            assert (once["state"], once["attempts"], once["response_status"]) == ("pending", 1, 500)
            assert once["history"][0]["error"].startswith("HTTP 500")
            assert await dsar.runtime.jobs.run_once(JOB) == 0  # not before its back-off
            dsar.clock.advance(timedelta(seconds=61))
            assert await dsar.runtime.jobs.run_once(JOB) == 1

            (delivered,) = await transfers(dsar, request_id)
            assert (delivered["state"], delivered["attempts"], delivered["response_status"]) == ("delivered", 2, 200)
            assert [a["status"] for a in delivered["history"]] == [500, 200]
            assert delivered["receipt_id"] == "rcpt-1"
            assert json.loads(delivered["receipt"]) == {"receipt_id": "rcpt-1", "status": "accepted"}
            assert [d.status for d in receiver.deliveries] == [500, 200]
            package = receiver.accepted[delivered["id"]]
            assert delivered["content_digest"] == receiver.deliveries[-1].headers["content-digest"]

            done = await dsar.request(request_id)
            assert (done["state"], done["outcome"], done["package_id"]) == (
                "completed",
                "complete",
                delivered["package_id"],
            )
            assert done["transfer"]["state"] == "delivered"
            told = await dsar.claimed(request_id, "dsar.portability_transferred")
            assert told["context"]["controller"] == "Globex Bank"
            assert told["context"]["receipt_id"] == "rcpt-1"
            assert "dsar.package_ready" not in {m["template"] for m in await dsar.messages(request_id)}
            events = await eventually(lambda: _with(infra, dsar, "io.privops.dsar.portability.transferred"))
            assert (events[0]["attempts"], events[0]["receipt_id"]) == (2, "rcpt-1")

            await _tampering_is_refused(receiver, receiver.deliveries[-1].headers, package)


async def _tampering_is_refused(receiver: Receiver, headers: dict[str, str], package: bytes) -> None:
    """Re-sent with one byte changed, another signature or to another endpoint, the package is refused."""
    sent = {k: v for k, v in headers.items() if k.startswith("privops-") or k in ("content-digest", "content-type")}
    async with httpx.AsyncClient() as client:
        again = await client.post(receiver.url, content=package, headers=sent)
        assert again.status_code == 200  # unchanged, it still verifies
        changed = package[:-40] + bytes([package[-40] ^ 1]) + package[-39:]
        tampered = await client.post(receiver.url, content=changed, headers=sent)
        assert tampered.status_code == 422 and "digest" in tampered.json()["error"]
        head, payload, signature = sent["privops-signature"].split(".")
        forged_claims = json.loads(_unb64(payload)) | {"content_digest": _digest(changed)}
        forged = ".".join([head, _b64(json.dumps(forged_claims).encode()), signature])
        digest = _digest(changed)
        refused = await client.post(
            receiver.url,
            content=changed,
            headers=sent | {"privops-signature": forged, "content-digest": digest},
        )
        assert refused.status_code == 401 and "signature" in refused.json()["error"]
    # Replayed to another controller, the signature names the endpoint it was meant for (``aud``).
    other = Receiver(jwks_url=receiver.jwks_url, schema_url=receiver.schema_url, url=receiver.url + "/other")
    with pytest.raises(Rejected, match="Audience"):
        await other.verify(headers, package)


def _digest(body: bytes) -> str:
    import base64
    import hashlib

    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _with(infra: Infra, dsar: Dsar, event_type: str) -> list[dict[str, Any]] | None:
    records = await read_records(infra, dsar, DSAR_EVENTS, expect=1, timeout=3)
    found = [r for r in records if r["type"] == event_type]
    return found or None


async def test_a_receiver_that_refuses_the_signature_fails_the_transfer_and_the_person_gets_a_link(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix, portability_loopback=True) as dsar:
        await dsar.wait_consumers_ready()
        # The receiver trusts another tenant's keys: acme's signature does not verify there.
        async with run_receiver(receiver_for(dsar, tenant="globex")) as receiver:
            await register(dsar, "crm", ["portability"])
            created = await portability_request(dsar, receiver.url)
            await store_answers(infra, dsar, created["id"])
            await eventually(lambda: scheduled(dsar, created["id"]))
            assert await dsar.runtime.jobs.run_once(JOB) == 1
            (transfer,) = await transfers(dsar, created["id"])
            assert (transfer["state"], transfer["attempts"], transfer["response_status"]) == ("failed", 1, 401)
            assert "signature" in transfer["failure_reason"]
            assert transfer["next_attempt_at"] is None
            assert not receiver.accepted
            dsar.clock.advance(timedelta(hours=12))
            assert await dsar.runtime.jobs.run_once(JOB) == 0  # a refusal is not retried

            done = await dsar.request(created["id"])
            assert (done["state"], done["transfer"]["state"]) == ("completed", "failed")
            told = await dsar.claimed(created["id"], "dsar.portability_failed")
            assert told["context"]["controller"] == "Globex Bank"
            download = await dsar.client.get(told["context"]["url"])
            assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
            (failed,) = await eventually(lambda: _with(infra, dsar, "io.privops.dsar.portability.failed"))
            assert (failed["controller"], failed["status_code"], failed["attempts"]) == ("Globex Bank", 401, 1)


async def test_retries_stop_at_the_cap_and_the_request_shows_the_failure(infra: Infra, topic_prefix: str) -> None:
    overrides = {"portability_loopback": True, "portability_max_attempts": 2, "portability_retry_base_s": 30.0}
    async with serve_dsar(infra, topic_prefix, **overrides) as dsar:
        await dsar.wait_consumers_ready()
        async with run_receiver(receiver_for(dsar, fail_first=10)) as receiver:
            await register(dsar, "crm", ["portability"])
            created = await portability_request(dsar, receiver.url)
            await store_answers(infra, dsar, created["id"])
            await eventually(lambda: scheduled(dsar, created["id"]))
            assert await dsar.runtime.jobs.run_once(JOB) == 1
            dsar.clock.advance(timedelta(seconds=31))
            assert await dsar.runtime.jobs.run_once(JOB) == 1
            (transfer,) = await transfers(dsar, created["id"])
            assert (transfer["state"], transfer["attempts"]) == ("failed", 2)
            assert [a["status"] for a in transfer["history"]] == [500, 500]
            assert len(receiver.deliveries) == 2
            assert (await dsar.request(created["id"]))["transfer"]["failure_reason"].startswith("HTTP 500")


async def test_endpoints_are_validated_and_the_transfers_route_is_guarded(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        for endpoint in (
            "http://127.0.0.1:9/in",
            "https://10.0.0.8/in",
            "https://169.254.169.254/x",
            "ftp://x.example",
        ):
            body = request_body("portability", details={"target_controller": "Globex", "target_endpoint": endpoint})
            refused = await dsar.client.post("/v1/requests", json=body, headers=WRITE)
            assert is_problem(refused, 422), refused.text
            assert refused.json()["type"].endswith("invalid-transfer-endpoint"), refused.json()
        alone = request_body("portability", details={"target_endpoint": "https://bank.example/in"})
        assert is_problem(await dsar.client.post("/v1/requests", json=alone, headers=WRITE), 422)
        assert (await dsar.client.get("/v1/requests", headers=READ)).json() == []  # nothing was created

        named = await dsar.open(request_body("portability", details={"target_controller": "Globex"}))
        url = f"/v1/requests/{named['id']}/transfers"
        assert (await dsar.client.get(url)).status_code == 401
        assert (await dsar.client.get(url, headers=auth("acme", "consent:read"))).status_code == 403
        assert (await dsar.client.get(url, headers=auth("globex", "dsar:read"))).status_code == 404
        assert (await dsar.client.get(url, headers=READ)).json() == []  # no endpoint: a download link, as before

        schema = await dsar.client.get("/v1/schemas/portability-package.json")
        assert schema.status_code == 200
        published = json.loads(SCHEMA_DOC.read_text())
        assert schema.json() == published
