"""Retention of one person, to the end: consent withdrawn or account closed → schedule → both demo stores → done.

The retention service, the real broker and both demo stores (SDK workers): a withdrawn newsletter
consent ends the CRM's newsletter subscription and leaves the contact; a withdrawn audience-measurement
consent deletes the analytics events and profile; a closed account deletes the CRM contact, the
invoices staying under their own policy. Each schedule ends ``done`` with the store's counts.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from examples.analytics.store import REGISTRATION as ANALYTICS_REGISTRATION
from examples.analytics.store import AnalyticsStore
from examples.common import NO_KEY_FOR_SUBJECTS, NamedSubjects
from examples.crm.store import REGISTRATION as CRM_REGISTRATION
from examples.crm.store import CrmStore
from sdk import Store, SubjectSweep, SystemRegistration, WorkerConfig, subject_ref
from shared.events.catalogue.consent import ConsentWithdrawn
from tests.integration.retention.support import ADMIN, READ, START, TENANT, clock_of, produce, retention
from tests.integration.retention.test_demo_store_sweeps import store_config
from tests.integration.sdk.support import run_workers
from tests.support.stack import SUBJECT_KEY, Infra, RunningService, eventually

pytestmark = pytest.mark.integration

KEY = SUBJECT_KEY.encode()
ADA, ADA_ID = "ada@example.com", "u-1001"
ADA_REF = subject_ref(KEY, TENANT, "email", ADA)


async def schedules_of(svc: RunningService, status: str, count: int) -> list[dict[str, Any]] | None:
    rows = (await svc.client.get("/v1/schedules", params={"subject_ref": ADA_REF}, headers=READ)).json()
    done = [r for r in rows if r["status"] == status]
    return done if len(done) >= count else None


async def withdraw(infra: Infra, svc: RunningService, purpose: str) -> None:
    event = ConsentWithdrawn(
        consent_id=uuid.uuid4(), subject_ref=ADA_REF, purpose=purpose, decision="withdrawn", occurred_at=START
    )
    await produce(infra, svc.settings, event, tenant=TENANT, subject=ADA_REF)


async def test_consent_withdrawals_and_an_account_closure_delete_the_persons_data_in_both_stores(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    crm = await CrmStore.open(infra.postgres.url(f"crm_{uuid.uuid4().hex[:8]}", "postgresql"), subject_key=KEY)
    analytics = AnalyticsStore(tmp_path / "analytics.sqlite3", subject_key=KEY)
    analytics.seed()
    try:
        async with retention(infra, topic_prefix) as svc:
            await svc.wait_consumers_ready()
            for system, categories in (("crm", ["consent_based", "account"]), ("analytics", ["consent_based"])):
                body = {"categories": categories, "description": f"demo {system}"}
                assert (await svc.client.put(f"/v1/systems/{system}", json=body, headers=ADMIN)).status_code == 200
            await withdraw(infra, svc, "newsletter")
            await withdraw(infra, svc, "analytics")
            await eventually(lambda: schedules_of(svc, "pending", 2))
            closed = {"subject_ref": ADA_REF, "closed_at": START.isoformat()}
            assert (await svc.client.post("/v1/accounts/closures", json=closed, headers=ADMIN)).status_code == 201

            pairs: list[tuple[Store, WorkerConfig, SystemRegistration]] = [
                (crm, store_config(infra, svc, "crm", tmp_path), CRM_REGISTRATION),
                (analytics, store_config(infra, svc, "analytics", tmp_path), ANALYTICS_REGISTRATION),
            ]
            async with run_workers(pairs):
                clock_of(svc).advance(timedelta(days=31))  # past the consents' 30 days of grace
                assert await svc.runtime.jobs.run_once("retention.schedules") == 2
                await eventually(lambda: schedules_of(svc, "done", 2), timeout=30)
                clock_of(svc).advance(timedelta(days=60))  # past the account's 90 days
                assert await svc.runtime.jobs.run_once("retention.schedules") == 1
                done = await eventually(lambda: schedules_of(svc, "done", 3), timeout=30)
            runs = (await svc.client.get("/v1/sweeps", params={"status": "completed"}, headers=READ)).json()

        assert sorted((s["category"], s["purpose"]) for s in done) == [
            ("account", None),
            ("consent_based", "analytics"),
            ("consent_based", "newsletter"),
        ]
        deleted: dict[tuple[str, str], list[int]] = {}
        for run in runs:
            if run["kind"] == "subject":
                deleted.setdefault((run["system"], run["category"]), []).append(run["counts"]["deleted"])
        # The CRM: the newsletter subscription (the analytics consent keeps nothing there), then the contact and
        # its 2 notes. Analytics: nothing for the newsletter, the profile and its 8 events for the analytics consent.
        assert sorted(deleted[("crm", "consent_based")]) == [0, 1]
        assert deleted[("crm", "account")] == [3]
        assert sorted(deleted[("analytics", "consent_based")]) == [0, 9]
        assert await crm.count("subscriptions") == len(CRM_PEOPLE) - 1
        async with crm.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM contacts WHERE email = $1", ADA) == 0
            assert await conn.fetchval("SELECT count(*) FROM invoices WHERE billing_email = $1", ADA) == 1
        assert await analytics.query("SELECT * FROM events WHERE user_id = ?", ADA_ID) == []
        assert await analytics.query("SELECT * FROM profiles WHERE user_id = ?", ADA_ID) == []
        assert await analytics.query("SELECT * FROM events WHERE user_id = 'u-1002'")  # others untouched
    finally:
        await crm.close()
        analytics.close()


CRM_PEOPLE = ("ada", "grace", "alan", "katherine")


async def test_a_store_without_the_subject_key_leaves_a_subject_sweep_unanswered(tmp_path: Path) -> None:
    # Answering "nobody here" would close the schedule with the data still there: it raises instead, so the
    # worker sends no answer and retention retries, then escalates to a person.
    store = AnalyticsStore(tmp_path / "a.sqlite3")
    try:
        store.seed()
        with pytest.raises(LookupError, match="subject key"):
            await store.sweep_subjects(SubjectSweep("consent_based", "delete", (ADA_REF,), "analytics"))
        with pytest.raises(LookupError, match="subject key"):
            NamedSubjects(None, TENANT, [ADA_REF])
        assert NO_KEY_FOR_SUBJECTS.startswith("a sweep of named subjects")
        assert len(await store.query("SELECT id FROM events WHERE user_id = ?", ADA_ID)) == 8
    finally:
        store.close()
