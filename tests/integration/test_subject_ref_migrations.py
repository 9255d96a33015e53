"""Each service's data migration re-keys its stored version 1 subject references per tenant, losing no link.

A database is migrated to the revision before the re-keying one, filled with rows holding version 1
references (the same person in two tenants, as version 1 linked them), then migrated to head: every
reference is now the tenant's version 2 reference, what is not a reference is untouched.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from shared.rules.subjects import subject_ref, subject_ref_v1
from shared.runtime.migrations import alembic_config, upgrade
from tests.support.stack import SUBJECT_KEY, Infra

pytestmark = pytest.mark.integration

KEY = SUBJECT_KEY.encode()
TENANTS = ("acme", "globex")
ADA, BOB = ("email", "Ada@Example.com"), ("user_id", "u-1001")
V1_ADA, V1_BOB = subject_ref_v1(KEY, *ADA), subject_ref_v1(KEY, *BOB)
LABEL = "sr1_litigation-dupont"  # a label a client chose: not a reference, left as it is
REKEYED = {
    "consent": "3eadddc541b7",
    "dsar": "770bed01657a",
    "retention": "dab29cdf173e",
    "breach": "2bc6c93cecdb",
    "subprocessor": "c0566f8b686f",
    "notify": "cb915b69571a",
}


def v2(tenant: str, who: tuple[str, str]) -> str:
    """The version 2 reference of ``who`` in ``tenant``, computed from the identifier."""
    return subject_ref(KEY, *who, tenant=tenant)


def previous_revision(service: str) -> str:
    """The revision the re-keying one follows (read from the tree: it moves when branches are merged)."""
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused/x"))
    down = script.get_revision(REKEYED[service]).down_revision
    assert isinstance(down, str)
    return down


class Db:
    """An asyncpg connection that inserts rows giving only the columns a test cares about."""

    def __init__(self, connection: asyncpg.Connection, url: str) -> None:
        self.connection, self.url = connection, url
        self._columns: dict[str, list[asyncpg.Record]] = {}

    async def insert(self, table: str, **values: Any) -> asyncpg.Record:
        """Insert one row; required columns not given get a neutral value of their type."""
        if table not in self._columns:
            self._columns[table] = await self.connection.fetch(COLUMNS, table)
        names, sql_values, args = [], [], []
        for column in self._columns[table]:
            name = column["column_name"]
            if name in values:
                value = values[name]
                args.append(json.dumps(value) if column["data_type"] == "jsonb" else value)
                names.append(name)
                sql_values.append(f"${len(args)}")
            elif column["is_nullable"] == "NO" and column["column_default"] is None:
                names.append(name)
                sql_values.append(NEUTRAL.get(column["data_type"], "'x'"))
        statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(sql_values)}) RETURNING *"
        return await self.connection.fetchrow(statement, *args)

    async def column(self, table: str, column: str, order: str = "tenant_id") -> list[Any]:
        """Every value of a column, in ``order``; JSON decoded."""
        rows = await self.connection.fetch(f"SELECT {column} AS v FROM {table} ORDER BY {order}")
        return [json.loads(r["v"]) if isinstance(r["v"], str) and r["v"][:1] in "[{" else r["v"] for r in rows]


COLUMNS = (
    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
    "WHERE table_name = $1 AND table_schema = 'public' ORDER BY ordinal_position"
)
NEUTRAL = {
    "uuid": "gen_random_uuid()",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "boolean": "false",
    "double precision": "0",
    "numeric": "0",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "jsonb": "'{}'::jsonb",
    "bytea": "''::bytea",
    "ARRAY": "'{}'",
}


@pytest.fixture
async def at_previous(infra: Infra, request: pytest.FixtureRequest) -> AsyncIterator[Callable[[str], Awaitable[Db]]]:
    """Open a new database of a service migrated to the revision before the re-keying one."""
    opened: list[asyncpg.Connection] = []

    async def open_at(service: str) -> Db:
        name = f"{service}_rekey_{uuid.uuid4().hex[:8]}"
        infra.postgres.create_databases([name])
        await asyncio.to_thread(upgrade, service, infra.postgres.url(name), previous_revision(service))
        connection = await asyncpg.connect(infra.postgres.url(name, "postgresql"))
        opened.append(connection)
        return Db(connection, infra.postgres.url(name))

    yield open_at
    for connection in opened:
        await connection.close()


async def migrate(db: Db, service: str, key: bytes | None = KEY) -> None:
    await asyncio.to_thread(upgrade, service, db.url, subject_key=key)


async def test_consent_records_states_flags_are_rekeyed_and_stay_append_only(at_previous: Any) -> None:
    db: Db = await at_previous("consent")
    for tenant in TENANTS:
        await db.insert(
            "consent_record", tenant_id=tenant, subject_ref=V1_ADA, purpose="newsletter", decision="granted"
        )
        await db.insert("consent_state", tenant_id=tenant, subject_ref=V1_ADA, purpose="newsletter", decision="granted")
        await db.insert("subject_status", tenant_id=tenant, subject_ref=V1_ADA)
        await db.insert("subject_flag_change", tenant_id=tenant, subject_ref=V1_ADA)
    await db.insert("consent_record", tenant_id="acme", subject_ref=LABEL, purpose="newsletter", decision="denied")

    await migrate(db, "consent")

    expected = [v2("acme", ADA), v2("globex", ADA)]
    assert expected[0] != expected[1]  # the same email no longer links the two customers
    for table in ("consent_state", "subject_status", "subject_flag_change"):
        assert await db.column(table, "subject_ref") == expected, table
    records = await db.connection.fetch(
        "SELECT tenant_id, subject_ref FROM consent_record ORDER BY tenant_id, decision"
    )
    assert [(r["tenant_id"], r["subject_ref"]) for r in records] == [
        ("acme", LABEL),
        ("acme", expected[0]),
        ("globex", expected[1]),
    ]
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.connection.execute("UPDATE consent_record SET purpose = 'other'")


async def test_dsar_requests_tasks_recipients_and_notifications_are_rekeyed(at_previous: Any) -> None:
    db: Db = await at_previous("dsar")
    for tenant in TENANTS:
        request = await db.insert(
            "dsar_request", tenant_id=tenant, subject_ref=V1_ADA, subject_refs=[V1_ADA, V1_BOB, "a" * 63]
        )
        await db.insert("dsar_task", tenant_id=tenant, request_id=request["id"], subject_ref=V1_ADA)
        await db.insert("dsar_notification", tenant_id=tenant, request_id=request["id"], recipient_ref=V1_ADA)
        await db.insert("dsar_subject_recipient", tenant_id=tenant, subject_ref=V1_BOB, recipient="acme-ads")
    certificate = {"request_id": "r1", "subject_ref": V1_ADA}
    await db.insert("dsar_erasure_certificate", tenant_id="acme", document=certificate, signature="s")

    await migrate(db, "dsar")

    ada = [v2(t, ADA) for t in TENANTS]
    assert await db.column("dsar_request", "subject_ref") == ada
    assert await db.column("dsar_request", "subject_refs") == [[v2(t, ADA), v2(t, BOB), "a" * 63] for t in TENANTS]
    assert await db.column("dsar_task", "subject_ref") == ada
    assert await db.column("dsar_notification", "recipient_ref") == ada
    assert await db.column("dsar_subject_recipient", "subject_ref") == [v2(t, BOB) for t in TENANTS]
    # A signed certificate keeps the reference it was issued with: its signature covers it.
    assert await db.column("dsar_erasure_certificate", "document") == [certificate]


async def test_retention_holds_schedules_and_sweeps_are_rekeyed(at_previous: Any) -> None:
    db: Db = await at_previous("retention")
    for tenant in TENANTS:
        await db.insert("legal_hold", tenant_id=tenant, subject_ref=V1_ADA, reason="litigation")
        await db.insert("subject_schedule", tenant_id=tenant, subject_ref=V1_BOB, category="account")
        await db.insert("sweep_run", tenant_id=tenant, held_subject_refs=[V1_ADA, LABEL, V1_BOB])
    await db.insert("legal_hold", tenant_id="acme", subject_ref=LABEL, reason="a hold named by a label")
    await db.insert("legal_hold", tenant_id="acme", subject_ref=None, matter="M-1", reason="a matter")
    await db.insert("sweep_run", tenant_id="acme", held_subject_refs={"not": "a list"})

    await migrate(db, "retention")

    holds = await db.column("legal_hold", "subject_ref", order='tenant_id, subject_ref COLLATE "C" NULLS LAST')
    assert holds == [*sorted([v2("acme", ADA), LABEL]), None, v2("globex", ADA)]
    assert await db.column("subject_schedule", "subject_ref") == [v2(t, BOB) for t in TENANTS]
    sweeps = await db.column("sweep_run", "held_subject_refs", order="tenant_id, jsonb_typeof(held_subject_refs)")
    assert sweeps == [
        [v2("acme", ADA), LABEL, v2("acme", BOB)],
        {"not": "a list"},
        [v2("globex", ADA), LABEL, v2("globex", BOB)],
    ]


async def test_breach_affected_subjects_and_individual_deliveries_are_rekeyed(at_previous: Any) -> None:
    db: Db = await at_previous("breach")
    customer = "c" * 64  # a customer id that looks like a reference: notices to customers are not re-keyed
    for tenant in TENANTS:
        incident = await db.insert("incident", tenant_id=tenant)
        await db.insert("affected_subject", tenant_id=tenant, incident_id=incident["id"], subject_ref=V1_ADA)
        people = await db.insert("notice", tenant_id=tenant, incident_id=incident["id"], kind="individuals")
        await db.insert("notice_delivery", tenant_id=tenant, notice_id=people["id"], recipient_ref=V1_ADA)
        company = await db.insert("notice", tenant_id=tenant, incident_id=incident["id"], kind="controller")
        await db.insert("notice_delivery", tenant_id=tenant, notice_id=company["id"], recipient_ref=customer)

    await migrate(db, "breach")

    assert await db.column("affected_subject", "subject_ref") == [v2(t, ADA) for t in TENANTS]
    deliveries = await db.connection.fetch(
        "SELECT n.kind, d.recipient_ref FROM notice_delivery d JOIN notice n ON n.id = d.notice_id "
        "ORDER BY d.tenant_id, n.kind"
    )
    assert [(r["kind"], r["recipient_ref"]) for r in deliveries] == [
        ("controller", customer),
        ("individuals", v2("acme", ADA)),
        ("controller", customer),
        ("individuals", v2("globex", ADA)),
    ]


async def test_subprocessor_contacts_and_notice_log_are_rekeyed(at_previous: Any) -> None:
    db: Db = await at_previous("subprocessor")
    for tenant in TENANTS:
        customer = await db.insert("customer", tenant_id=tenant, reference=f"C-{tenant}")
        await db.insert("customer_contact", tenant_id=tenant, customer_id=customer["id"], subject_ref=V1_ADA)
        sub = await db.insert("subprocessor", tenant_id=tenant, name=f"Initech {tenant}")
        change = await db.insert("subprocessor_change", tenant_id=tenant, subprocessor_id=sub["id"])
        notice = await db.insert(
            "change_notice", tenant_id=tenant, change_id=change["id"], customer_id=customer["id"], content={}
        )
        detail = {"recipient_ref": V1_ADA, "note": V1_BOB}
        await db.insert("notice_log", tenant_id=tenant, notice_id=notice["id"], detail=detail)

    await migrate(db, "subprocessor")

    assert await db.column("customer_contact", "subject_ref") == [v2(t, ADA) for t in TENANTS]
    # Only the recipient is a reference there; other fields are left as they are.
    assert await db.column("notice_log", "detail") == [{"recipient_ref": v2(t, ADA), "note": V1_BOB} for t in TENANTS]


async def test_notify_messages_are_rekeyed_and_other_targets_kept(at_previous: Any) -> None:
    db: Db = await at_previous("notify")
    for tenant in TENANTS:
        await db.insert("message", tenant_id=tenant, recipient_ref=V1_ADA, dedupe_key=f"{tenant}-1")
    await db.insert("message", tenant_id="acme", recipient_ref="authority:fr", dedupe_key="acme-2")

    await migrate(db, "notify")

    refs = await db.column("message", "recipient_ref", order='tenant_id, recipient_ref COLLATE "C"')
    assert refs == [*sorted([v2("acme", ADA), "authority:fr"]), v2("globex", ADA)]


async def test_stored_references_need_the_key_and_there_is_no_way_back(at_previous: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("RETENTION_SUBJECT_HASH_KEY", raising=False)
    db: Db = await at_previous("retention")
    await db.insert("subject_schedule", tenant_id="acme", subject_ref=V1_BOB, category="account")
    with pytest.raises(RuntimeError, match="RETENTION_SUBJECT_HASH_KEY"):
        await migrate(db, "retention", key=None)
    assert await db.column("subject_schedule", "subject_ref") == [V1_BOB]  # nothing changed
    monkeypatch.setenv("RETENTION_SUBJECT_HASH_KEY", SUBJECT_KEY)  # what `privops migrate` reads otherwise
    await migrate(db, "retention", key=None)
    assert await db.column("subject_schedule", "subject_ref") == [v2("acme", BOB)]
    from alembic import command

    config = alembic_config("retention", db.url)
    with pytest.raises(NotImplementedError, match="one-way"):
        await asyncio.to_thread(command.downgrade, config, previous_revision("retention"))
    assert await db.column("subject_schedule", "subject_ref") == [v2("acme", BOB)]
