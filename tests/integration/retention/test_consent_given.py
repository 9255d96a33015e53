"""A consent given again after it ended cancels the pending deletion: by the event's time, one by one or in bulk."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import ARRAY, DateTime, text
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from services.retention.handlers import CONSENT_DATA as CONSENT
from services.retention.handlers import SUBSCRIPTIONS
from services.retention.service.schedules import (
    CANCEL_GIVEN_AGAIN,
    OPEN_KEYS,
    SUBJECTS_WAITING,
    _for_keys,
    cancel_given_again,
    open_schedule_keys,
    schedules_query,
    subjects_waiting,
)
from shared.bus.consumer import ConsumerRunner
from shared.bus.outbox import PACKED_EVENT_TYPE as PACKED
from shared.bus.outbox import build_envelope, partition_key, staged_events
from shared.events.catalogue.consent import ConsentExpired, ConsentGranted, ConsentRenewed, ConsentWithdrawn
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from shared.runtime.audit import AuditEntry
from tests.integration.retention.support import READ, START, TENANT, clock_of, produce, retention
from tests.support.stack import Infra, RunningService, eventually

pytestmark = pytest.mark.integration

# Open schedules of a consent ended before START, for ref-0 … ref-(size-1); no ANALYZE afterwards.
FILL_OPEN = text(
    """
    INSERT INTO subject_schedule (id, tenant_id, subject_ref, category, purpose, action, reason, status, due_at,
                                  event_at, created_at)
    SELECT gen_random_uuid(), :tenant, 'ref-' || n, 'consent_based', 'newsletter', 'delete', 'consent withdrawn',
           'unrouted', CAST(:start AS timestamptz), CAST(:start AS timestamptz), CAST(:start AS timestamptz)
    FROM generate_series(0, :size - 1) AS n
    """
)


async def statuses(svc: RunningService, subject_ref: str) -> list[tuple[str | None, str]]:
    response = await svc.client.get("/v1/schedules", params={"subject_ref": subject_ref}, headers=READ)
    return sorted((s["purpose"], s["status"]) for s in response.json())


def decision(kind: str, subject: str, at: datetime, purpose: str = "newsletter") -> Any:
    model = {
        "withdrawn": ConsentWithdrawn,
        "expired": ConsentExpired,
        "granted": ConsentGranted,
        "renewed": ConsentRenewed,
    }[kind]
    decided = "granted" if kind == "renewed" else kind
    return model(consent_id=uuid.uuid4(), subject_ref=subject, purpose=purpose, decision=decided, occurred_at=at)


def schedules_runner(svc: RunningService) -> ConsumerRunner:
    """The retention group that reads consent decisions, driven by hand with polls the test builds."""
    runtime = svc.runtime
    return ConsumerRunner(
        SUBSCRIPTIONS[0], database=runtime.database, producer=runtime.producer, settings=svc.settings, clock=svc.clock
    )


def consent_record(offset: int, ref: str, event: Any, at: datetime) -> ConsumerRecord[bytes, bytes]:
    """A consent decision as the consent service's relay publishes it (keyed by tenant and subject)."""
    envelope: CloudEvent = build_envelope(event, source="/privops/consent", tenant_id=TENANT, subject=ref, now=at)
    value, headers = envelope.data_bytes(), envelope.to_kafka_headers()
    key = partition_key(TENANT, ref).encode()
    return ConsumerRecord(CONSENT_EVENTS, 0, offset, 0, 0, key, value, None, 1, len(value), headers)


async def test_a_grant_after_the_withdrawal_cancels_even_when_it_arrives_late(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        withdrawn_at = START - timedelta(minutes=10)
        for ref in ("ref-lag", "ref-old", "ref-other"):
            await produce(infra, svc.settings, decision("withdrawn", ref, withdrawn_at), tenant=TENANT, subject=ref)
        for ref in ("ref-lag", "ref-old", "ref-other"):
            await eventually(lambda ref=ref: statuses(svc, ref))
        # The consumer ran behind: the schedules were written after the grant below was given.
        clock_of(svc).advance(timedelta(minutes=30))
        later = [
            ("ref-lag", decision("granted", "ref-lag", withdrawn_at + timedelta(minutes=5))),
            ("ref-old", decision("granted", "ref-old", withdrawn_at - timedelta(days=90))),  # an imported old grant
            ("ref-other", decision("granted", "ref-other", withdrawn_at + timedelta(minutes=5), purpose="offers")),
        ]
        for ref, event in later:
            await produce(infra, svc.settings, event, tenant=TENANT, subject=ref)

        async def cancelled() -> bool:
            return await statuses(svc, "ref-lag") == [("newsletter", "cancelled")]

        assert await eventually(cancelled)
        assert await statuses(svc, "ref-old") == [("newsletter", "pending")]  # given before it was withdrawn
        assert await statuses(svc, "ref-other") == [("newsletter", "pending")]  # another purpose


async def test_a_poll_of_decisions_in_bulk_ends_as_one_event_at_a_time(infra: Infra, topic_prefix: str) -> None:
    at = START - timedelta(hours=1)

    def poll(prefix: str) -> list[Any]:
        return [
            (f"{prefix}-1", decision("withdrawn", f"{prefix}-1", at)),
            (f"{prefix}-1", decision("granted", f"{prefix}-1", at + timedelta(minutes=1))),  # same poll: cancels
            (f"{prefix}-2", decision("withdrawn", f"{prefix}-2", at)),
            (f"{prefix}-3", decision("withdrawn", f"{prefix}-3", at)),
            (f"{prefix}-3", decision("renewed", f"{prefix}-3", at + timedelta(minutes=2))),
            (f"{prefix}-2", decision("granted", f"{prefix}-2", at - timedelta(minutes=1))),  # older: no effect
            (f"{prefix}-4", decision("granted", f"{prefix}-4", at)),  # nothing to cancel (in bulk: skipped)
            (f"{prefix}-4", decision("withdrawn", f"{prefix}-4", at + timedelta(minutes=3))),  # withdrawn after
            (f"{prefix}-5", decision("withdrawn", f"{prefix}-5", at)),
            (f"{prefix}-5", decision("expired", f"{prefix}-5", at + timedelta(minutes=4))),  # scheduled once
            (f"{prefix}-6", decision("expired", f"{prefix}-6", at, purpose="offers")),
        ]

    async with retention(infra, topic_prefix) as svc:
        runner = schedules_runner(svc)
        together = poll("bulk")
        outcomes = await runner.process_many([consent_record(i, ref, ev, at) for i, (ref, ev) in enumerate(together)])
        assert outcomes == ["applied"] * 6 + ["ignored"] + ["applied"] * (len(together) - 7)
        for i, (ref, ev) in enumerate(poll("single")):
            assert await runner.process(consent_record(100 + i, ref, ev, at)) == "applied"

        expected = {
            "1": [("newsletter", "cancelled")],
            "2": [("newsletter", "pending")],
            "3": [("newsletter", "cancelled")],
            "4": [("newsletter", "pending")],
            "5": [("newsletter", "pending")],
            "6": [("offers", "pending")],
        }
        for suffix, want in expected.items():
            assert await statuses(svc, f"bulk-{suffix}") == want
            assert await statuses(svc, f"single-{suffix}") == want
        # The same schedule-created events and audit entries either way.
        async with svc.runtime.database.session() as session:
            events = await staged_events(session)
            entries = (await session.exec(select(AuditEntry).where(AuditEntry.action == "schedule.created"))).all()
            packs = await session.exec(text("SELECT count(*) FROM outbox WHERE event_type = :t").bindparams(t=PACKED))
            assert packs.one()[0] == 1  # the bulk poll's six schedule events share one outbox row
        created = [e for e in events if e.headers["ce_type"].endswith("schedule.created")]
        for prefix in ("bulk", "single"):
            mine = [e for e in created if e.headers["ce_subject"].startswith(prefix)]
            assert sorted(e.headers["ce_subject"] for e in mine) == [f"{prefix}-{n}" for n in (1, 2, 3, 4, 5, 6)]
        assert len(entries) == 12


async def test_many_keys_are_looked_up_key_by_key_whatever_the_statistics(infra: Infra, topic_prefix: str) -> None:
    """A batch of grants probes the subject index once per key, also on a table never analysed.

    Joined plainly to ``unnest``, such a table is guessed to hold one open schedule, and the plan
    read every schedule once per key of the batch (a poll of 3,000 grants took 18 s against 30,000
    schedules). The plan is read with EXPLAIN; the statements still find and cancel the right rows.
    """
    keys = 1000
    async with retention(infra, topic_prefix) as svc, svc.runtime.database.session() as session:
        await session.exec(FILL_OPEN.bindparams(tenant=TENANT, start=START, size=5 * keys))
        refs = [f"ref-{n}" for n in range(0, 2 * keys, 2)]  # half of them have a schedule
        arrays = {"tenants": [TENANT] * keys, "refs": refs, "purposes": ["newsletter"] * keys, "category": CONSENT}
        given = [START + timedelta(minutes=1)] * keys
        moments = {"at": ARRAY(DateTime(timezone=True)), "now": DateTime(timezone=True)}
        for statement, params, types in (
            (OPEN_KEYS, arrays, {}),
            (CANCEL_GIVEN_AGAIN, {**arrays, "at": given, "now": START}, moments),
        ):
            explain = _for_keys("EXPLAIN " + statement.text, **types)
            plan = "\n".join(row[0] for row in (await session.exec(explain.bindparams(**params))).all())
            assert "Seq Scan on subject_schedule" not in plan, plan
            assert "Index Scan using ix_subject_schedule_subject" in plan, plan
        subjects = {"tenants": arrays["tenants"], "refs": refs, "category": CONSENT}
        explain = _for_keys("EXPLAIN " + SUBJECTS_WAITING.text)
        plan = "\n".join(row[0] for row in (await session.exec(explain.bindparams(**subjects))).all())
        assert "Seq Scan on subject_schedule" not in plan and "ix_subject_schedule_subject" in plan, plan

        waiting = await subjects_waiting(session, [(TENANT, ref) for ref in refs], CONSENT)
        assert waiting == {(TENANT, f"ref-{n}") for n in range(0, 2 * keys, 2)}
        found = await open_schedule_keys(session, [(TENANT, ref, "newsletter") for ref in refs], CONSENT)
        assert found == {(TENANT, f"ref-{n}", "newsletter") for n in range(0, 2 * keys, 2) if n < 5 * keys}
        await cancel_given_again(session, [(TENANT, ref, "newsletter", given[0]) for ref in refs], CONSENT, START)
        counts = await session.exec(text("SELECT status, count(*) FROM subject_schedule GROUP BY status"))
        assert dict(counts.all()) == {"cancelled": keys, "unrouted": 4 * keys}


async def test_grants_for_subjects_with_nothing_waiting_are_skipped_unparsed(infra: Infra, topic_prefix: str) -> None:
    """Most grants (an imported file's) find nothing to cancel: one probe per subject, no parse, no inbox row.

    A grant is applied when its subject has anything open (another purpose too), or had another
    event earlier in the same poll (a withdrawal: the grant must cancel what it scheduled).
    """
    at = START + timedelta(minutes=5)
    polled: list[tuple[str, Any]] = [
        ("ref-0", decision("granted", "ref-0", at)),  # waiting since START: cancelled
        ("ref-7", decision("granted", "ref-7", at)),  # nothing waiting: skipped
        ("ref-1", decision("granted", "ref-1", at, purpose="offers")),  # waiting for another purpose: applied
        ("ref-8", decision("withdrawn", "ref-8", START)),
        ("ref-8", decision("granted", "ref-8", at)),  # after a withdrawal in the same poll: applied, cancels
        ("ref-9", decision("renewed", "ref-9", at)),  # nothing waiting: skipped
    ]
    async with retention(infra, topic_prefix) as svc:
        async with svc.runtime.database.session() as session:
            await session.exec(FILL_OPEN.bindparams(tenant=TENANT, start=START, size=3))
        runner = schedules_runner(svc)
        records = [consent_record(offset, ref, event, at) for offset, (ref, event) in enumerate(polled)]
        records[1] = dataclasses.replace(records[1], value=b"not even JSON")  # never parsed

        outcomes = await runner.process_many(records)

        assert outcomes == ["applied", "ignored", "applied", "applied", "applied", "ignored"]
        assert await statuses(svc, "ref-0") == [("newsletter", "cancelled")]
        assert await statuses(svc, "ref-1") == [("newsletter", "unrouted")]
        assert await statuses(svc, "ref-8") == [("newsletter", "cancelled")]
        async with svc.runtime.database.session() as session:
            inbox = await session.exec(
                text("SELECT count(*) FROM inbox WHERE consumer_group = :g").bindparams(g=runner.group)
            )
            assert inbox.one()[0] == 4
            dead = await session.exec(text("SELECT count(*) FROM dead_letter"))
            assert dead.one()[0] == 0


async def test_a_subject_filter_needs_a_batched_group_and_a_handler_of_its_type(
    infra: Infra, topic_prefix: str
) -> None:
    group = SUBSCRIPTIONS[0]
    without_grants = dataclasses.replace(
        group,
        handlers={k: v for k, v in group.handlers.items() if k is not ConsentGranted},
        bulk_handlers={k: v for k, v in group.bulk_handlers.items() if k is not ConsentGranted},
    )
    async with retention(infra, topic_prefix) as svc:
        runtime = svc.runtime
        for broken, message in (
            (dataclasses.replace(group, batched=False), "batched groups only"),
            (without_grants, "need a handler for the same event type"),
        ):
            with pytest.raises(ValueError, match=message):
                ConsumerRunner(
                    broken, database=runtime.database, producer=runtime.producer, settings=svc.settings, clock=svc.clock
                )


async def test_the_newest_schedules_are_read_from_their_index(infra: Infra, topic_prefix: str) -> None:
    """The first page of a tenant's schedules reads the newest from an index, not a sort of them all."""
    fill = text(
        "INSERT INTO subject_schedule (id, tenant_id, subject_ref, category, action, reason, status, due_at, "
        "event_at, created_at) SELECT gen_random_uuid(), :tenant, 'newest-' || n, 'account', 'delete', 'closed', "
        "'pending', CAST(:start AS timestamptz), CAST(:start AS timestamptz), "
        "CAST(:start AS timestamptz) + n * interval '1 second' FROM generate_series(1, :size) AS n"
    )
    async with retention(infra, topic_prefix) as svc:
        async with svc.runtime.database.session() as session:
            await session.exec(fill.bindparams(tenant=TENANT, start=START, size=5000))  # type: ignore[call-overload]
            query = schedules_query(TENANT, None, None, 3).compile(
                dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
                compile_kwargs={"literal_binds": True},
            )
            plan = "\n".join(row[0] for row in (await session.exec(text(f"EXPLAIN {query}"))).all())  # type: ignore[call-overload]
        assert "ix_subject_schedule_tenant_created" in plan and "Sort" not in plan, plan
        newest = await svc.client.get("/v1/schedules", params={"limit": 3}, headers=READ)
        assert [s["subject_ref"] for s in newest.json()] == ["newest-5000", "newest-4999", "newest-4998"]
