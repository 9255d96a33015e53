"""Legal holds: DSAR keeps retention's holds, erase tasks carry the ones on their store, the certificate names them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlmodel import select

from services.dsar.models import LegalHold
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import DsarTaskCompleted
from shared.events.catalogue.retention import LegalHoldPlaced, LegalHoldReleased
from shared.events.topics import DSAR_TASKS
from shared.rules.subjects import subject_ref
from tests.integration.dsar.support import READ, START, Dsar, serve_dsar
from tests.integration.dsar.test_tasks import register, send_result, the_tasks, verified_request
from tests.integration.retention.support import produce
from tests.support.stack import SUBJECT_KEY, Infra, eventually, read_topic

pytestmark = pytest.mark.integration

ADA_USER = subject_ref(
    SUBJECT_KEY.encode(), "user_id", "u-1001", tenant="acme"
)  # the request names Ada by email and user id
REASON = "litigation case 2026-CV-0412"


async def publish(infra: Infra, dsar: Dsar, event: Event) -> None:
    """Publish a retention event as the retention service does."""
    await produce(infra, dsar.settings, event, tenant="acme", subject=str(getattr(event, "hold_id", "x")))


async def holds_known(dsar: Dsar) -> dict[uuid.UUID, LegalHold]:
    async with dsar.runtime.database.session() as session:
        return {row.id: row for row in (await session.exec(select(LegalHold))).all()}


def placed(hold_id: uuid.UUID, days_ago: int = 1, **scope: Any) -> LegalHoldPlaced:
    return LegalHoldPlaced(hold_id=hold_id, placed_at=START - timedelta(days=days_ago), reason=REASON, **scope)


async def test_the_holds_placed_and_released_in_retention_are_kept(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        await dsar.wait_consumers_ready()
        kept, released, early = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        released_at = START - timedelta(hours=1)
        for event in (
            placed(kept, subject_ref=ADA_USER, system="crm"),
            placed(kept, subject_ref=ADA_USER, system="crm"),  # a redelivered copy changes nothing
            placed(released, matter="case-12", category="customer"),
            LegalHoldReleased(hold_id=released, released_at=released_at),
            LegalHoldReleased(hold_id=early, released_at=released_at),  # heard of before its placement
            placed(early, subject_ref="ref-someone"),
        ):
            await publish(infra, dsar, event)

        async def all_heard() -> dict[uuid.UUID, LegalHold] | None:
            # Each hold is its own key, so its own partition: the events of different holds arrive in any order.
            rows = await holds_known(dsar)
            heard = len(rows) == 3 and rows[early].placed_at is not None and rows[released].released_at is not None
            return rows if heard else None

        rows = await eventually(all_heard)
        assert (rows[kept].subject_ref, rows[kept].system, rows[kept].reason) == (ADA_USER, "crm", REASON)
        assert rows[kept].released_at is None
        assert (rows[released].matter, rows[released].category, rows[released].released_at) == (
            "case-12",
            "customer",
            released_at,
        )
        assert rows[early].released_at == released_at  # the late placement does not bring it back
        assert rows[early].subject_ref == "ref-someone"


async def test_an_erase_task_carries_the_holds_on_its_store_and_the_certificate_names_them(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix, task_ack_timeout_s=600) as dsar:
        await dsar.wait_consumers_ready()
        await register(dsar, "ghost", ["access", "erase"])
        await register(dsar, "other", ["erase"])
        ada, on_ghost, someone_else, released = (uuid.uuid4() for _ in range(4))
        for event in (
            placed(ada, days_ago=2, subject_ref=ADA_USER),
            placed(on_ghost, system="ghost", matter="case-12"),
            placed(someone_else, subject_ref="ref-someone-else"),
            placed(released, subject_ref=ADA_USER),
            LegalHoldReleased(hold_id=released, released_at=START - timedelta(hours=1)),
        ):
            await publish(infra, dsar, event)
        await eventually(lambda: _released(dsar, released))

        access = await verified_request(dsar, "access")
        erasure = await verified_request(dsar)
        tasks = await the_tasks(dsar, erasure["id"])
        count = len(tasks) + len(await the_tasks(dsar, access["id"]))
        published = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASKS), expect=count)
        commands = {(c["request_id"], c["system"]): c for c in (json.loads(r.value) for r in published)}
        assert {c["system"]: c["holds"] for (rid, _), c in commands.items() if rid == access["id"]} == {
            system: [] for system in await the_tasks(dsar, access["id"])
        }
        ghost = commands[erasure["id"], "ghost"]["holds"]
        assert [(h["hold_id"], h["subject_ref"], h["matter"]) for h in ghost] == [
            (str(ada), ADA_USER, None),
            (str(on_ghost), None, "case-12"),
        ]
        assert ghost[0]["reason"] == REASON
        assert [h["hold_id"] for h in commands[erasure["id"], "other"]["holds"]] == [str(ada)]

        dsar.clock.advance(timedelta(minutes=11))  # unanswered: published again, with the same holds
        redelivered = await dsar.runtime.jobs.run_once("dsar.task-redelivery")
        again = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASKS), expect=count + redelivered)
        republished = [json.loads(r.value) for r in again]
        ghost_again = next(
            c for c in republished if (c["request_id"], c["system"], c["attempt"]) == (erasure["id"], "ghost", 2)
        )
        assert ghost_again["holds"] == ghost

        for system, task in tasks.items():
            if system.startswith("privops-"):
                continue
            await send_result(
                infra,
                dsar,
                DsarTaskCompleted(
                    task_id=uuid.UUID(task["id"]),
                    request_id=uuid.UUID(erasure["id"]),
                    system=system,
                    outcome="exempt",
                    exemption=f"legal hold {ada}: {REASON} — Art. 17(3)(e) GDPR",
                    completed_at=datetime.now(UTC),
                ),
            )
        await eventually(lambda: _closed(dsar, erasure["id"], ["ghost", "other"]))
        await _close_the_rest(infra, dsar, erasure["id"])
        certificate = await eventually(lambda: _certificate(dsar, erasure["id"]))
        by_system = {s["system"]: s for s in certificate["certificate"]["systems"]}
        assert by_system["ghost"]["outcome"] == "exempt"
        assert f"legal hold {ada}: {REASON}" in by_system["ghost"]["exemption"]
        assert by_system["ghost"]["holds"] == [
            {
                "hold_id": str(ada),
                "reason": REASON,
                "scope": {"subject_ref": ADA_USER},
                "placed_at": ghost[0]["placed_at"],
            },
            {
                "hold_id": str(on_ghost),
                "reason": REASON,
                "scope": {"system": "ghost", "matter": "case-12"},
                "placed_at": ghost[1]["placed_at"],
            },
        ]
        # Anyone checks it offline: the tenant's public keys (no token) and a standard JWT library.
        assert certificate["algorithm"] == "EdDSA" and certificate["jwks_url"].endswith("/tenants/acme/jwks.json")
        jwks = (await dsar.client.get("/.well-known/privops/tenants/acme/jwks.json")).json()
        jws = certificate["signature"]
        key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(jws)["kid"]].key
        assert jwt.decode(jws, key, algorithms=["EdDSA"])["certificate"] == certificate["certificate"]
        other = (await dsar.client.get("/.well-known/privops/tenants/globex/jwks.json")).json()
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(jws, jwt.PyJWKSet.from_dict(other).keys[0].key, algorithms=["EdDSA"])
        check = {"certificate": certificate["certificate"], "signature": certificate["signature"]}
        assert (await dsar.client.post("/v1/certificates/verify", json=check, headers=READ)).json()["valid"]
        unheld = [{**s, "holds": []} for s in certificate["certificate"]["systems"]]
        forged = {**check, "certificate": {**certificate["certificate"], "systems": unheld}}
        assert not (await dsar.client.post("/v1/certificates/verify", json=forged, headers=READ)).json()["valid"]


async def _released(dsar: Dsar, hold_id: uuid.UUID) -> bool:
    row = (await holds_known(dsar)).get(hold_id)
    return row is not None and row.released_at is not None and len(await holds_known(dsar)) == 4


async def _closed(dsar: Dsar, request_id: str, systems: list[str]) -> bool:
    tasks = await the_tasks(dsar, request_id)
    return all(tasks[s]["state"] == "closed" for s in systems)


async def _close_the_rest(infra: Infra, dsar: Dsar, request_id: str) -> None:
    """The privops services' own stores are not running here: answer for them."""
    for system, task in (await the_tasks(dsar, request_id)).items():
        if task["state"] == "open":
            await send_result(
                infra,
                dsar,
                DsarTaskCompleted(
                    task_id=uuid.UUID(task["id"]),
                    request_id=uuid.UUID(request_id),
                    system=system,
                    outcome="no_data",
                    completed_at=datetime.now(UTC),
                ),
            )


async def _certificate(dsar: Dsar, request_id: str) -> dict[str, Any] | None:
    response = await dsar.client.get(f"/v1/requests/{request_id}/certificate", headers=READ)
    return response.json() if response.status_code == 200 else None
