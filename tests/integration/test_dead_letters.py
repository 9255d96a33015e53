"""Dead letters a person can handle: listed with the reason, replayed through the group's inbox, never twice."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner

import services.retention.app as retention_app
from deploy.cli import app as cli
from services.retention.models import SubjectSchedule
from shared.bus.consumer import EventContext, Subscription
from shared.bus.dead_letters import DeadLetter, dead_letter_row
from shared.events.catalogue.consent import ConsentWithdrawn
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from shared.rules.errors import PROBLEM_JSON
from shared.runtime.audit import AuditEntry
from tests.integration.test_consumer import produce, withdrawn_envelope
from tests.support.stack import JWT_SECRET, Infra, RunningService, auth, eventually, run_service, serve_http

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = ("acme", "retention:admin")
PATH = "/v1/admin/dead-letters"


@dataclasses.dataclass
class Ledger:
    """A consumer group whose handler needs something that is missing until ``fixed`` (a policy not yet made)."""

    fixed: bool = False

    async def on_withdrawn(self, session: AsyncSession, event: ConsentWithdrawn, ctx: EventContext) -> None:
        if not self.fixed:
            raise LookupError(f"no ledger for purpose {event.purpose}")
        ctx.unit_of_work(session).audit("ledger.applied", "consent", event.consent_id)

    def subscription(self) -> Subscription:
        return Subscription(name="ledger", handlers={ConsentWithdrawn: self.on_withdrawn})


@pytest.fixture
async def retention(
    infra: Infra, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[RunningService, Ledger]]:
    """The retention service with one more consumer group, the ledger, beside its own."""
    ledger = Ledger()
    spec = retention_app.SPEC
    monkeypatch.setattr(
        retention_app, "SPEC", dataclasses.replace(spec, subscriptions=[*spec.subscriptions, ledger.subscription()])
    )
    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        await svc.wait_consumers_ready()
        yield svc, ledger


async def count(svc: RunningService, statement: Any) -> int:
    async with svc.runtime.database.session() as session:
        return int((await session.exec(statement)).one())


def applied(consent_id: uuid.UUID) -> Any:
    return (
        select(func.count())
        .select_from(AuditEntry)
        .where(col(AuditEntry.action) == "ledger.applied", col(AuditEntry.entity_id) == str(consent_id))
    )


async def dead_lettered(svc: RunningService, headers: dict[str, str], expect: int = 1) -> list[dict[str, Any]]:
    async def listed() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await svc.client.get(PATH, headers=headers)).json()["items"]
        return items if len(items) >= expect else []

    return await eventually(listed)


def record_of(envelope: CloudEvent, offset: int = 0, value: bytes | None = None) -> ConsumerRecord[bytes, bytes]:
    """The Kafka record of ``envelope`` (with another value, to spoil it)."""
    value = value or envelope.data_bytes()
    headers = envelope.to_kafka_headers()
    return ConsumerRecord(CONSENT_EVENTS, 0, offset, 0, 0, b"acme:k", value, None, 6, len(value), headers)


async def simulate(svc: RunningService, group: str, record: ConsumerRecord[bytes, bytes], reason: str) -> int:
    """A dead letter written as the runner writes them (the event may or may not have been applied)."""
    envelope = CloudEvent.from_kafka(record.headers, record.value) if reason != "malformed" else None
    row = dead_letter_row(record, envelope, group, reason, f"{reason}: simulated", attempts=3, now=NOW)
    async with svc.runtime.database.session() as session:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def test_a_failed_event_is_replayed_once_after_the_fix_and_then_answers_duplicate(
    retention: tuple[RunningService, Ledger], infra: Infra
) -> None:
    svc, ledger = retention
    envelope = withdrawn_envelope("ref-ledger")
    await produce(infra, svc.settings.topic(CONSENT_EVENTS), (envelope.data_bytes(), envelope.to_kafka_headers()))
    admin = auth(*ADMIN)
    [item] = await dead_lettered(svc, admin)
    assert (item["event_id"], item["reason"], item["attempts"], item["state"]) == (
        envelope.id,
        "handler_rejected",
        1,
        "open",
    )
    assert "no ledger for purpose newsletter" in item["error"]
    assert item["group"].endswith("privops.retention.ledger") and item["tenant_id"] == "acme"
    by_name = await svc.client.get(PATH, params={"group": "ledger", "type": ConsentWithdrawn.event_type}, headers=admin)
    assert [i["id"] for i in by_name.json()["items"]] == [item["id"]]
    assert (await svc.client.get(PATH, params={"group": "sweep-results"}, headers=admin)).json()["items"] == []
    detail = (await svc.client.get(f"{PATH}/{item['id']}", headers=admin)).json()
    assert detail["data"]["subject_ref"] == "ref-ledger" and detail["headers"]["ce_id"] == envelope.id

    # Still broken: the replay fails, the dead letter stays open with the attempt counted.
    again = (await svc.client.post(f"{PATH}/{item['id']}/replay", headers=admin)).json()
    assert again["outcome"] == "failed"
    assert (again["dead_letter"]["state"], again["dead_letter"]["attempts"]) == ("open", 2)
    assert await count(svc, applied(uuid.UUID(envelope.data["consent_id"]))) == 0

    ledger.fixed = True
    consent_id = uuid.UUID(envelope.data["consent_id"])
    first = (await svc.client.post(f"{PATH}/{item['id']}/replay", headers=admin)).json()
    assert first["outcome"] == "applied"
    resolved = first["dead_letter"]
    assert (resolved["state"], resolved["outcome"], resolved["resolved_by"]) == ("replayed", "applied", "privops-cli")
    assert await count(svc, applied(consent_id)) == 1

    second = await svc.client.post(f"{PATH}/{item['id']}/replay", headers=admin)
    assert second.json()["outcome"] == "duplicate"
    assert second.json()["dead_letter"] == resolved  # changes nothing
    assert await count(svc, applied(consent_id)) == 1

    # The broker redelivering it (a rewind) finds it in the inbox too.
    await produce(infra, svc.settings.topic(CONSENT_EVENTS), (envelope.data_bytes(), envelope.to_kafka_headers()))
    await asyncio.sleep(1.0)
    assert await count(svc, applied(consent_id)) == 1

    audited = select(AuditEntry.detail).where(col(AuditEntry.action) == "dead_letter.replayed")
    async with svc.runtime.database.session() as session:
        outcomes = [detail["outcome"] for detail in (await session.exec(audited.order_by(col(AuditEntry.id)))).all()]
    assert outcomes == ["failed", "applied", "duplicate"]

    refused = await svc.client.post(f"{PATH}/{item['id']}/discard", json={"reason": "late"}, headers=admin)
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM_JSON


async def test_an_event_applied_before_it_was_dead_lettered_is_a_duplicate(
    retention: tuple[RunningService, Ledger], infra: Infra
) -> None:
    svc, _ = retention
    group = next(r.group for r in svc.runtime.consumers if r.subscription.name == "subject-schedules")
    schedules = select(func.count()).select_from(SubjectSchedule)
    admin = auth(*ADMIN)

    # Applied live by retention's own (batched, bulk) group, then dead-lettered anyway (the commit's answer was lost).
    live = withdrawn_envelope("ref-live")
    await produce(infra, svc.settings.topic(CONSENT_EVENTS), (live.data_bytes(), live.to_kafka_headers()))
    await eventually(lambda: count(svc, schedules))
    known = await simulate(svc, group, record_of(live), "handler_failed")
    answer = (await svc.client.post(f"{PATH}/{known}/replay", headers=admin)).json()
    assert (answer["outcome"], answer["dead_letter"]["outcome"]) == ("duplicate", "duplicate")
    assert await count(svc, schedules) == 1

    # Never applied: the replay runs the group's real handler, once.
    missed = withdrawn_envelope("ref-missed")
    missing = await simulate(svc, group, record_of(missed, 1), "handler_failed")
    assert (await svc.client.post(f"{PATH}/{missing}/replay", headers=admin)).json()["outcome"] == "applied"
    assert (await svc.client.post(f"{PATH}/{missing}/replay", headers=admin)).json()["outcome"] == "duplicate"
    by_subject = schedules.where(col(SubjectSchedule.subject_ref) == "ref-missed")
    assert await count(svc, by_subject) == 1


async def test_tenants_see_and_replay_only_their_own_dead_letters(retention: tuple[RunningService, Ledger]) -> None:
    svc, _ = retention
    group = next(r.group for r in svc.runtime.consumers if r.subscription.name == "ledger")
    ours = await simulate(svc, group, record_of(withdrawn_envelope("ref-a")), "handler_rejected")
    theirs = await simulate(svc, group, record_of(withdrawn_envelope("ref-b", tenant="globex"), 1), "handler_rejected")
    malformed = await simulate(svc, group, record_of(withdrawn_envelope("ref-c"), 2, b"{not json"), "malformed")
    acme, globex = auth(*ADMIN), auth("globex", "retention:admin")

    assert [i["id"] for i in (await svc.client.get(PATH, headers=acme)).json()["items"]] == [ours]
    assert [i["id"] for i in (await svc.client.get(PATH, headers=globex)).json()["items"]] == [theirs]
    for method, suffix, body in (("GET", "", None), ("POST", "/replay", None), ("POST", "/discard", {"reason": "x"})):
        for target in (theirs, malformed, 999_999):
            response = await svc.client.request(method, f"{PATH}/{target}{suffix}", json=body, headers=acme)
            assert response.status_code == 404, (method, suffix, target, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
    assert (await svc.client.get(PATH)).status_code == 401
    for scopes in (("retention:write",), ("consent:admin", "dsar:admin")):
        denied = await svc.client.get(PATH, headers=auth("acme", *scopes))
        assert denied.status_code == 403 and denied.json()["required_scopes"] == ["retention:admin", "platform:admin"]

    # A platform operator sees every tenant's, and the one of no known tenant.
    operator = auth("platform", "platform:admin")
    listed = (await svc.client.get(PATH, headers=operator)).json()["items"]
    assert [(i["id"], i["tenant_id"]) for i in listed] == [(ours, "acme"), (theirs, "globex"), (malformed, None)]
    failed = (await svc.client.post(f"{PATH}/{malformed}/replay", headers=operator)).json()
    assert (failed["outcome"], failed["dead_letter"]["reason"], failed["dead_letter"]["attempts"]) == (
        "failed",
        "malformed",
        4,
    )
    gone = await svc.client.post(f"{PATH}/{malformed}/discard", json={"reason": "not a CloudEvent"}, headers=operator)
    assert (gone.json()["state"], gone.json()["discard_reason"]) == ("discarded", "not a CloudEvent")
    assert (await svc.client.post(f"{PATH}/{malformed}/replay", headers=operator)).status_code == 409
    assert (await svc.client.get(PATH, params={"state": "open"}, headers=operator)).json()["items"][-1]["id"] == theirs
    async with svc.runtime.database.session() as session:
        row = await session.get(DeadLetter, theirs)
    assert row is not None and row.state == "open"  # acme's attempts changed nothing of globex's


async def test_the_cli_lists_replays_and_discards(retention: tuple[RunningService, Ledger], infra: Infra) -> None:
    svc, ledger = retention
    topic = svc.settings.topic(CONSENT_EVENTS)
    envelopes = [withdrawn_envelope(f"ref-cli-{n}") for n in range(3)]
    await produce(infra, topic, *[(e.data_bytes(), e.to_kafka_headers()) for e in envelopes])
    items = await dead_lettered(svc, auth(*ADMIN), expect=3)
    ids = [item["id"] for item in items]
    runner = CliRunner()

    async with serve_http(svc.app) as base:

        async def privops(*args: str, tenant: str | None = "acme") -> Any:
            who = ["--url", base, "--secret", JWT_SECRET, *(["--tenant", tenant] if tenant else [])]
            argv = ["dlq", *who, *args, "--service", "retention"]
            return await asyncio.to_thread(runner.invoke, cli, argv, env={"COLUMNS": "250", "PRIVOPS_TOKEN": None})

        listed = await privops("list")
        assert listed.exit_code == 0, listed.output
        assert all(str(i) in listed.output for i in ids) and listed.output.count("handler_rejected") == 3
        shown = await privops("show", str(ids[0]))
        assert shown.exit_code == 0 and "ref-cli-0" in shown.output and "no ledger" in shown.output

        discarded = await privops("discard", str(ids[2]), "--reason", "sent by a test tool")
        assert discarded.exit_code == 0 and "discarded by cli:" in discarded.output
        still_broken = await privops("replay", str(ids[0]))
        assert still_broken.exit_code == 1 and "failed" in still_broken.output

        ledger.fixed = True
        replayed = await privops("replay", "--all", "--group", "ledger")
        assert replayed.exit_code == 0, replayed.output
        assert replayed.output.count("applied") == 2  # the two open ones; the discarded one is left alone
        again = await privops("replay", str(ids[1]), tenant=None)  # a platform operator's token
        assert again.exit_code == 0 and "duplicate" in again.output
        everything = await privops("list", "--state", "all")
        assert everything.output.count("replayed (applied)") == 2 and "discarded" in everything.output
        unknown = await privops("show", "424242")
        assert unknown.exit_code == 1 and "404" in unknown.output

    for envelope in envelopes[:2]:
        assert await count(svc, applied(uuid.UUID(envelope.data["consent_id"]))) == 1
    assert await count(svc, applied(uuid.UUID(envelopes[2].data["consent_id"]))) == 0
    replayers = select(AuditEntry.actor).where(col(AuditEntry.action) == "dead_letter.replayed")
    async with svc.runtime.database.session() as session:
        actors = set((await session.exec(replayers)).all())
    assert all(actor.startswith("cli:") for actor in actors) and actors
