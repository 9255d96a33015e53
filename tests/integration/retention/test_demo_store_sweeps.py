"""End to end: the sweep job → the real broker → both demo stores (SDK worker) → counts back; holds respected."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deploy.local.demo import RETENTION_SYSTEMS
from examples.analytics.store import REGISTRATION as ANALYTICS_REGISTRATION
from examples.analytics.store import AnalyticsStore
from examples.common import NO_SUBJECT_KEY
from examples.crm.store import REGISTRATION as CRM_REGISTRATION
from examples.crm.store import CrmStore
from sdk import Store, Sweep, SystemRegistration, WorkerConfig, subject_ref
from tests.integration.retention.support import ADMIN, READ, TENANT, retention
from tests.integration.sdk.support import run_workers
from tests.support.stack import JWT_SECRET, SUBJECT_KEY, Infra, RunningService, eventually

pytestmark = pytest.mark.integration

KEY = SUBJECT_KEY.encode()
HELD = "held@example.com"


def at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


# The service's clock is 2026-03-02 09:00: prospect cut-off 2023-03-02, customer archive 2025-03-02 and
# delete 2020-03-02, invoice 2016-03-02 (against the end of the invoice's financial year), cookie 2025-02-02.
CONTACTS: list[tuple[str, str, datetime, list[datetime], list[datetime]]] = [
    # email, user id, created, notes, invoices
    ("old-prospect@example.com", "u-op", at(2022, 1), [at(2022, 6)], []),  # last contact 2022: deleted
    ("fresh-prospect@example.com", "u-fp", at(2022, 1), [at(2024, 1)], []),  # contacted again in 2024: kept
    ("old-customer@example.com", "u-oc", at(2017, 1), [at(2017, 2)], [at(2018, 5)]),  # archived, then deleted
    ("lapsed-customer@example.com", "u-lc", at(2020, 1), [], [at(2024, 1, 10)]),  # archived only
    ("current-customer@example.com", "u-cc", at(2021, 1), [], [at(2025, 12)]),  # kept
    (HELD, "u-held", at(2013, 1), [at(2013, 2)], [at(2014, 3)]),  # due everywhere, but held
]
ORPHAN_INVOICES = [("gone@example.com", at(2015, 6)), ("gone@example.com", at(2016, 2))]  # FY end 2016 / 2017
EVENTS: list[tuple[str | None, datetime]] = [
    ("u-old", at(2024, 3)),
    ("u-old", at(2024, 9)),
    ("u-old", at(2025, 12)),  # recent: kept
    ("u-held", at(2024, 3)),
    ("u-held", at(2024, 4)),
    (None, at(2024, 5)),  # already anonymous: deleted with the rest
]


async def seed_crm(crm: CrmStore) -> None:
    async with crm.pool.acquire() as conn:
        for email, user_id, created, notes, invoices in CONTACTS:
            cid = await conn.fetchval(
                "INSERT INTO contacts (email, user_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                email,
                user_id,
                email.split("@")[0],
                created,
            )
            for written in notes:
                await conn.execute(
                    "INSERT INTO notes (contact_id, body, created_at) VALUES ($1, 'call', $2)", cid, written
                )
            for issued in invoices:
                await conn.execute(
                    "INSERT INTO invoices (contact_id, billing_email, billing_name, amount_cents, issued_at) "
                    "VALUES ($1, $2, 'x', 4900, $3)",
                    cid,
                    email,
                    issued,
                )
        for email, issued in ORPHAN_INVOICES:
            await conn.execute(
                "INSERT INTO invoices (billing_email, billing_name, amount_cents, issued_at) VALUES ($1, 'x', 100, $2)",
                email,
                issued,
            )


def seed_analytics(analytics: AnalyticsStore) -> None:
    analytics._tx(
        [
            ("INSERT INTO profiles (user_id, email, segment) VALUES ('u-old', 'old@example.com', 'x')", ()),
            ("INSERT INTO profiles (user_id, email, segment) VALUES ('u-held', ?, 'x')", (HELD,)),
        ]
        + [
            ("INSERT INTO events (user_id, name, occurred_at) VALUES (?, 'page_view', ?)", (user, when.isoformat()))
            for user, when in EVENTS
        ]
    )


def store_config(infra: Infra, svc: RunningService, system: str, tmp_path: Path) -> WorkerConfig:
    return WorkerConfig(
        system=system,
        bootstrap_servers=infra.broker.bootstrap,
        jwt_secret=JWT_SECRET,
        tenants=(TENANT,),
        topic_prefix=svc.settings.topic_prefix,
        ledger_path=str(tmp_path / f"{system}-ledger.sqlite3"),
        session_timeout_ms=2000,
        retry_backoff_s=0.05,
        subject_key=KEY,  # the same secret as the service's subject_hash_key
    )


async def completed(svc: RunningService, count: int) -> list[dict[str, Any]] | None:
    runs = (await svc.client.get("/v1/sweeps", params={"status": "completed"}, headers=READ)).json()
    return runs if len(runs) >= count else None


async def test_a_sweep_reaches_both_demo_stores_and_spares_the_held_subject(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    crm = await CrmStore.open(
        infra.postgres.url(f"crm_{uuid.uuid4().hex[:8]}", "postgresql"), seed=False, subject_key=KEY
    )
    analytics = AnalyticsStore(tmp_path / "analytics.sqlite3", subject_key=KEY)
    try:
        await seed_crm(crm)
        seed_analytics(analytics)
        async with retention(infra, topic_prefix) as svc:
            await svc.wait_consumers_ready()
            assert (await svc.client.post("/v1/policies/default-pack", headers=ADMIN)).status_code == 201
            for system in ("crm", "analytics"):  # the local stack's data map
                body = RETENTION_SYSTEMS[system]
                registered = await svc.client.put(f"/v1/systems/{system}", json=body, headers=ADMIN)
                assert registered.status_code == 200, registered.text
            hold = {"subject_ref": subject_ref(KEY, TENANT, "email", HELD), "reason": "litigation Held v. Example"}
            assert (await svc.client.post("/v1/holds", json=hold, headers=ADMIN)).status_code == 201

            pairs: list[tuple[Store, WorkerConfig, SystemRegistration]] = [
                (crm, store_config(infra, svc, "crm", tmp_path), CRM_REGISTRATION),
                (analytics, store_config(infra, svc, "analytics", tmp_path), ANALYTICS_REGISTRATION),
            ]
            async with run_workers(pairs):
                assert await svc.runtime.jobs.run_once("retention.sweep") == 8  # (system, category) pairs
                runs = await eventually(lambda: completed(svc, 9), timeout=30)

        counts = {(r["system"], r["category"], r["action"]): r["counts"] for r in runs}
        assert counts == {
            ("crm", "prospect", "delete"): _counts(deleted=2),  # old prospect and its note
            ("crm", "customer", "archive"): _counts(archived=2, skipped_held=1),  # old and lapsed customers
            ("crm", "customer", "delete"): _counts(deleted=2, skipped_held=1),  # old customer and its note
            ("crm", "invoice", "delete"): _counts(deleted=1, skipped_held=1),  # the 2015 orphan invoice
            ("analytics", "cookie", "delete"): _counts(deleted=3, skipped_held=2),
            # Kept per person: nothing by cut-off (retention names the people when their clock ends).
            ("crm", "consent_based", "delete"): _counts(),
            ("crm", "account", "delete"): _counts(),
            ("analytics", "consent_based", "delete"): _counts(),
            ("analytics", "account", "delete"): _counts(),
        }
        assert all(r["policy_version"] == 1 and r["completed_at"] for r in runs)

        async with crm.pool.acquire() as conn:
            contacts = {r["email"]: r for r in await conn.fetch("SELECT * FROM contacts")}
            invoices = sorted(
                (r["billing_email"], r["issued_at"].year) for r in await conn.fetch("SELECT * FROM invoices")
            )
            held_notes = await conn.fetchval(
                "SELECT count(*) FROM notes n JOIN contacts c ON c.id = n.contact_id WHERE c.email = $1", HELD
            )
        assert set(contacts) == {
            "fresh-prospect@example.com",
            "lapsed-customer@example.com",
            "current-customer@example.com",
            HELD,
        }
        assert contacts["lapsed-customer@example.com"]["archived_at"] is not None
        assert contacts[HELD]["archived_at"] is None and held_notes == 1  # untouched by every step
        assert contacts["current-customer@example.com"]["archived_at"] is None
        assert invoices == [
            ("current-customer@example.com", 2025),
            ("gone@example.com", 2016),
            ("held@example.com", 2014),
            ("lapsed-customer@example.com", 2024),
            ("old-customer@example.com", 2018),  # its contact is gone; the invoice follows its own policy
        ]
        events = sorted((e["user_id"], e["occurred_at"][:7]) for e in await analytics.query("SELECT * FROM events"))
        assert events == [("u-held", "2024-03"), ("u-held", "2024-04"), ("u-old", "2025-12")]

        # Without the subject key a store cannot tell who is held: it sweeps nothing rather than risk it.
        cutoff = datetime(2030, 1, 1, tzinfo=UTC)
        blind_crm = CrmStore(crm.pool)
        for category in ("prospect", "customer", "invoice"):
            answer = await blind_crm.sweep(Sweep(category, cutoff, "delete", (hold["subject_ref"],)))
            assert answer.detail == NO_SUBJECT_KEY and answer.deleted == answer.skipped_held == 0
        assert await crm.count("contacts") == 4 and await crm.count("invoices") == 5
        unknown = await crm.sweep(Sweep("crm-notes", cutoff, "delete"))
        assert (unknown.deleted, unknown.detail) == (0, "nothing kept here under 'crm-notes'")
    finally:
        await crm.close()
        analytics.close()


async def test_the_analytics_store_without_a_subject_key_refuses_sweeps_naming_held_subjects() -> None:
    store = AnalyticsStore(":memory:")
    try:
        seed_analytics(store)
        cutoff = datetime(2030, 1, 1, tzinfo=UTC)
        held = subject_ref(KEY, TENANT, "email", HELD)
        refused = await store.sweep(Sweep("cookie", cutoff, "delete", (held,)))
        assert (refused.deleted, refused.skipped_held, refused.detail) == (0, 0, NO_SUBJECT_KEY)
        assert len(await store.query("SELECT id FROM events")) == len(EVENTS)
        assert (await store.sweep(Sweep("analytics-events", cutoff, "delete"))).detail == (
            "nothing kept here under 'analytics-events'"
        )
        anonymised = await store.sweep(Sweep("cookie", cutoff, "anonymise"))  # nobody held: no key needed
        assert (anonymised.anonymised, anonymised.deleted) == (5, 0)
        assert {e["user_id"] for e in await store.query("SELECT user_id FROM events")} == {None}
    finally:
        store.close()


def _counts(*, deleted: int = 0, anonymised: int = 0, archived: int = 0, skipped_held: int = 0) -> dict[str, int]:
    return {"deleted": deleted, "anonymised": anonymised, "archived": archived, "skipped_held": skipped_held}


def test_the_sdk_reads_the_subject_key_and_hashes_as_the_services_do() -> None:
    from shared.rules.subjects import subject_ref as service_ref

    env = {"PRIVOPS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PRIVOPS_DSAR_URL": "http://x", "PRIVOPS_TOKEN": "t"}
    assert WorkerConfig.from_env("crm", env).subject_key is None
    config = WorkerConfig.from_env("crm", {**env, "PRIVOPS_SUBJECT_HASH_KEY": SUBJECT_KEY})
    assert config.subject_key == KEY and SUBJECT_KEY not in repr(config)
    assert subject_ref(SUBJECT_KEY, TENANT, "email", " Held@Example.com") == service_ref(
        KEY, "email", HELD, tenant=TENANT
    )
    assert subject_ref(SUBJECT_KEY, "other", "email", HELD) != service_ref(KEY, "email", HELD, tenant=TENANT)
