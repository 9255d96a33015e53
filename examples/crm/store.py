"""The CRM's data and what it does for each right: contacts, notes and invoices (kept 10 years)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from examples.common import NO_SUBJECT_KEY, PER_PERSON, HeldSubjects, NamedSubjects
from examples.crm.holds import held_contacts
from examples.crm.tenant import TENANT_SCHEMA, CrmTenant
from sdk import Hold, Identifiers, Outcome, Store, SubjectSweep, Sweep, SweepCounts, SystemRegistration

SYSTEM = "crm"
INVOICES_KEPT = "Art. 17(3)(b) GDPR: invoices are kept 10 years for the accounting obligation"
REGISTRATION = SystemRegistration(
    name="Demo CRM",
    owner="sales-ops@example.com",
    data_categories=["contact details", "sales notes", "invoices"],
    purposes=["customer relationship", "billing", "marketing email"],
    recipients=["Acme Mailing Ltd (newsletter)", "tax authority (invoices)"],
    retention="prospects: 3 years after last contact; customers: 1 year after last order, then 5 years archived; "
    "invoices: 10 years after the financial year",
    source="collected from the customer at sign-up",
    transfer_safeguards="none: hosted in the EU",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id SERIAL PRIMARY KEY,
    email TEXT UNIQUE NOT NULL,
    user_id TEXT,
    name TEXT NOT NULL,
    phone TEXT,
    company TEXT,
    restricted BOOLEAN NOT NULL DEFAULT false,
    marketing_opt_out BOOLEAN NOT NULL DEFAULT false,
    objected_purposes TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS notes (
    id SERIAL PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS invoices (
    id SERIAL PRIMARY KEY,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    billing_email TEXT NOT NULL,
    billing_name TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    list TEXT NOT NULL,
    subscribed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, list)
);
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS archived_at TIMESTAMPTZ;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS matters TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS anonymised_at TIMESTAMPTZ;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS anonymised_at TIMESTAMPTZ;
"""
# The retention categories (of the default policy pack) this store holds, and when each record's clock started.
SWEPT = ("prospect", "customer", "invoice")
# Per person: mailing-list subscriptions are kept on consent (the list is the purpose, e.g. ``newsletter``);
# a closed account ends the contact (its invoices stay, under their own policy).
SWEPT_BY_SUBJECT = ("consent_based", "account")
CONTACTS_DUE = """
SELECT c.id, c.email, c.user_id, c.phone FROM contacts c
WHERE {due}{done} AND NOT (c.matters && $2::text[])
ORDER BY c.id FOR UPDATE OF c
"""
# A prospect never ordered; its clock is the last contact: its creation or its latest note.
PROSPECTS_DUE = (
    "NOT EXISTS (SELECT 1 FROM invoices i WHERE i.contact_id = c.id) "
    "AND GREATEST(c.created_at, (SELECT max(n.created_at) FROM notes n WHERE n.contact_id = c.id)) < $1"
)
# A customer ordered (has invoices); its clock is the last order.
CUSTOMERS_DUE = "(SELECT max(i.issued_at) FROM invoices i WHERE i.contact_id = c.id) < $1"
# An invoice's clock is the end of its financial year (the calendar year here).
INVOICES_DUE = """
SELECT i.id, i.billing_email, c.email, c.user_id, c.phone FROM invoices i LEFT JOIN contacts c ON c.id = i.contact_id
WHERE ((date_trunc('year', i.issued_at AT TIME ZONE 'UTC') + interval '1 year') AT TIME ZONE 'UTC') < $1{done}
  AND NOT coalesce(c.matters && $2::text[], false)
ORDER BY i.id FOR UPDATE OF i
"""
PEOPLE = [
    ("ada@example.com", "u-1001", "Ada Lovelace", "+44 20 7946 0001", "Analytical Engines Ltd"),
    ("grace@example.com", "u-1002", "Grace Hopper", "+1 202 555 0102", "COBOL Corp"),
    ("alan@example.com", "u-1003", "Alan Turing", "+44 161 496 0003", "Bletchley Labs"),
    ("katherine@example.com", "u-1004", "Katherine Johnson", "+1 757 555 0104", "Orbital Math"),
]
EDITABLE = {"name", "phone", "company", "email"}


def plain_url(url: str) -> str:
    """asyncpg wants ``postgresql://``; accept SQLAlchemy's ``postgresql+asyncpg://`` too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(url: str) -> None:
    """Create the CRM's database in the cluster if it does not exist yet."""
    base, _, name = plain_url(url).rpartition("/")
    name = name.split("?")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


class CrmStore(CrmTenant, Store):
    """Contacts found by email, user id or phone; invoices survive an erasure (legal obligation)."""

    def __init__(self, pool: asyncpg.Pool, subject_key: bytes | None = None) -> None:
        self.pool = pool
        self.subject_key = subject_key  # to recognise held subjects in sweeps (WorkerConfig.subject_key)

    @classmethod
    async def open(cls, url: str, *, seed: bool = True, subject_key: bytes | None = None) -> CrmStore:
        """Connect (creating the database and tables if needed) and seed the sample people."""
        await ensure_database(url)
        pool = await asyncpg.create_pool(plain_url(url), min_size=1, max_size=4)
        store = cls(pool, subject_key)
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA + TENANT_SCHEMA)
        if seed:
            await store.seed()
        return store

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.close()

    async def seed(self) -> int:
        """Insert the sample people, two notes and an invoice each, once: never again after the tenant's purge."""
        async with self.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM invoices) "
                "OR EXISTS (SELECT 1 FROM tenant_purges)"
            ):
                return 0
            issued = datetime(2025, 6, 1, tzinfo=UTC)
            for email, user_id, name, phone, company in PEOPLE:
                cid = await conn.fetchval(
                    "INSERT INTO contacts (email, user_id, name, phone, company) VALUES ($1,$2,$3,$4,$5) RETURNING id",
                    email,
                    user_id,
                    name,
                    phone,
                    company,
                )
                await conn.execute("INSERT INTO subscriptions (contact_id, list) VALUES ($1, 'newsletter')", cid)
                await conn.executemany(
                    "INSERT INTO notes (contact_id, body, created_at) VALUES ($1, $2, $3)",
                    [(cid, f"Call with {name}", issued), (cid, "Asked about pricing", issued + timedelta(days=30))],
                )
                await conn.execute(
                    "INSERT INTO invoices (contact_id, billing_email, billing_name, amount_cents, issued_at) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    cid,
                    email,
                    name,
                    4900,
                    issued,
                )
            return len(PEOPLE)

    async def _contact_ids(self, conn: asyncpg.Connection, ids: Identifiers) -> list[int]:
        rows = await conn.fetch(
            "SELECT id FROM contacts WHERE lower(email) = ANY($1::text[]) OR user_id = ANY($2::text[]) "
            "OR phone = ANY($3::text[])",
            [e.lower() for e in ids.all("email")],
            ids.all("user_id") + ids.all("customer_id"),
            ids.all("phone"),
        )
        return [r["id"] for r in rows]

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        """The contact rows, their notes and invoices."""
        async with self.pool.acquire() as conn:
            cids = await self._contact_ids(conn, identifiers)
            emails = [e.lower() for e in identifiers.all("email")]
            records: list[dict[str, Any]] = []
            for row in await conn.fetch("SELECT * FROM contacts WHERE id = ANY($1::int[])", cids):
                records.append({"table": "contacts", **dict(row)})
            for row in await conn.fetch("SELECT * FROM notes WHERE contact_id = ANY($1::int[])", cids):
                records.append({"table": "notes", **dict(row)})
            for row in await conn.fetch("SELECT * FROM subscriptions WHERE contact_id = ANY($1::int[])", cids):
                records.append({"table": "subscriptions", **dict(row)})
            for row in await conn.fetch(
                "SELECT * FROM invoices WHERE contact_id = ANY($1::int[]) OR lower(billing_email) = ANY($2::text[])",
                cids,
                emails,
            ):
                records.append({"table": "invoices", **dict(row)})
            return records

    async def erase(self, identifiers: Identifiers) -> Outcome:
        """Delete the contact and notes; keep the invoices (accounting obligation) and what a legal hold covers."""
        async with self.pool.acquire() as conn, conn.transaction():
            cids = await self._contact_ids(conn, identifiers)
            if not cids:
                return Outcome.no_data()
            held = await held_contacts(conn, cids, identifiers)
            gone = [cid for cid in cids if cid not in held]
            notes = await conn.fetchval("SELECT count(*) FROM notes WHERE contact_id = ANY($1::int[])", gone)
            lists = await conn.fetchval("SELECT count(*) FROM subscriptions WHERE contact_id = ANY($1::int[])", gone)
            invoices = await conn.fetchval("SELECT count(*) FROM invoices WHERE contact_id = ANY($1::int[])", cids)
            await conn.execute("DELETE FROM contacts WHERE id = ANY($1::int[])", gone)  # notes, subscriptions cascade
            kept = []
            if held:
                holds = Hold.reasons(hold for cid in cids for hold in held.get(cid, ()))
                kept.append(f"{len(held)} contact(s) with their notes kept — {holds}")
            if invoices:
                kept.append(f"{invoices} invoice(s) kept — {INVOICES_KEPT}")
            if not gone:
                return Outcome.exempt("; ".join(kept), detail="nothing erased: every contact is under legal hold")
            detail = f"{len(gone)} contact(s), {notes} note(s), {lists} subscription(s)"
            return Outcome.done(len(gone) + notes + lists, detail=detail, exemption="; ".join(kept) or None)

    async def rectify(self, identifiers: Identifiers, corrections: dict[str, str]) -> Outcome:
        """Correct name, phone, company or email."""
        unknown = set(corrections) - EDITABLE
        async with self.pool.acquire() as conn, conn.transaction():
            cids = await self._contact_ids(conn, identifiers)
            if not cids:
                return Outcome.no_data()
            for name, value in corrections.items():
                if name in EDITABLE:
                    await conn.execute(f"UPDATE contacts SET {name} = $1 WHERE id = ANY($2::int[])", value, cids)
        detail = f"not held here: {', '.join(sorted(unknown))}" if unknown else None
        return Outcome.done(len(cids), detail=detail)

    async def _flag(self, identifiers: Identifiers, sql: str, *args: Any) -> Outcome:
        async with self.pool.acquire() as conn:
            cids = await self._contact_ids(conn, identifiers)
            if not cids:
                return Outcome.no_data()
            await conn.execute(sql, cids, *args)
            return Outcome.done(len(cids))

    async def restrict(self, identifiers: Identifiers) -> Outcome:
        """Mark the contact restricted: kept, no longer used."""
        return await self._flag(identifiers, "UPDATE contacts SET restricted = true WHERE id = ANY($1::int[])")

    async def lift_restriction(self, identifiers: Identifiers) -> Outcome:
        """Use the contact again."""
        return await self._flag(identifiers, "UPDATE contacts SET restricted = false WHERE id = ANY($1::int[])")

    async def object(self, identifiers: Identifiers, purposes: list[str]) -> Outcome:
        """Record the purposes objected to; marketing objections opt the contact out of email."""
        marketing = any("marketing" in p for p in purposes)
        return await self._flag(
            identifiers,
            "UPDATE contacts SET objected_purposes = ARRAY(SELECT DISTINCT unnest(objected_purposes || $2::text[])), "
            "marketing_opt_out = marketing_opt_out OR $3 WHERE id = ANY($1::int[])",
            purposes,
            marketing,
        )

    async def sweep(self, sweep: Sweep) -> SweepCounts:
        """Retention of ``prospect`` and ``customer`` contacts and of ``invoice`` records older than the cut-off.

        A prospect's clock is its last contact (creation or latest note), a customer's its last
        invoice (order), an invoice's the end of its financial year (calendar year). Records of a
        subject under legal hold are left alone and counted as ``skipped_held``; contacts tagged with
        a matter under hold are not touched at all.
        """
        if sweep.category in SWEPT_BY_SUBJECT and sweep.category not in SWEPT:
            return SweepCounts(detail=PER_PERSON)
        if sweep.category not in SWEPT:
            return SweepCounts(detail=f"nothing kept here under {sweep.category!r}")
        held = HeldSubjects(self.subject_key, sweep.tenant_id, list(sweep.held_subject_refs))
        if held.unknowable:
            return SweepCounts(detail=NO_SUBJECT_KEY)
        async with self.pool.acquire() as conn, conn.transaction():
            if sweep.category == "invoice":
                return await self._sweep_invoices(conn, sweep.cutoff, sweep.action, held, list(sweep.held_matters))
            return await self._sweep_contacts(conn, sweep, held)

    async def sweep_subjects(self, sweep: SubjectSweep) -> SweepCounts:
        """One person's data that is due now: a consent's list subscription, or the whole contact of a closed account.

        ``consent_based`` with a purpose removes the subscription to that list (the contact stays for
        the contract); ``account`` deletes the contact and notes like an erasure, the invoices staying
        under their own 10-year policy.
        """
        if sweep.category not in SWEPT_BY_SUBJECT:
            return SweepCounts(detail=f"nothing kept here under {sweep.category!r}")
        named = NamedSubjects(self.subject_key, sweep.tenant_id, sweep.subject_refs)
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch("SELECT id, email, user_id, phone FROM contacts ORDER BY id FOR UPDATE")
            ids = [
                r["id"]
                for r in rows
                if named.covers([("email", r["email"]), ("user_id", r["user_id"]), ("phone", r["phone"])])
            ]
            if not ids:
                return SweepCounts(detail="none of these people is here")
            if sweep.category == "consent_based":
                lists = [sweep.purpose] if sweep.purpose else None
                removed = await conn.fetch(
                    "DELETE FROM subscriptions WHERE contact_id = ANY($1::int[]) "
                    "AND ($2::text[] IS NULL OR list = ANY($2::text[])) RETURNING list",
                    ids,
                    lists,
                )
                return SweepCounts(deleted=len(removed), detail=f"{len(removed)} subscription(s)")
            notes = int(await conn.fetchval("SELECT count(*) FROM notes WHERE contact_id = ANY($1::int[])", ids))
            await conn.execute("DELETE FROM contacts WHERE id = ANY($1::int[])", ids)  # notes, subscriptions cascade
            return SweepCounts(deleted=len(ids) + notes, detail=f"{len(ids)} contact(s), {notes} note(s)")

    async def _sweep_contacts(self, conn: asyncpg.Connection, sweep: Sweep, held: HeldSubjects) -> SweepCounts:
        category, cutoff, action = sweep.category, sweep.cutoff, sweep.action
        due = CUSTOMERS_DUE if category == "customer" else PROSPECTS_DUE
        done = {"anonymise": " AND c.anonymised_at IS NULL", "archive": " AND c.archived_at IS NULL"}.get(action, "")
        rows = await conn.fetch(CONTACTS_DUE.format(due=due, done=done), cutoff, list(sweep.held_matters))
        ids, skipped = _split(
            rows, held, lambda r: [("email", r["email"]), ("user_id", r["user_id"]), ("phone", r["phone"])]
        )
        if not ids:
            return SweepCounts(skipped_held=skipped, detail=f"no {category} contact due")
        notes = int(await conn.fetchval("SELECT count(*) FROM notes WHERE contact_id = ANY($1::int[])", ids))
        if action == "archive":
            await conn.execute(
                "UPDATE contacts SET archived_at = now(), restricted = true WHERE id = ANY($1::int[])", ids
            )
            return SweepCounts(archived=len(ids), skipped_held=skipped, detail=f"{len(ids)} {category} contact(s)")
        if action == "anonymise":
            await conn.execute("DELETE FROM notes WHERE contact_id = ANY($1::int[])", ids)
            await conn.execute(
                "UPDATE contacts SET email = 'anonymised-' || id || '@example.invalid', name = 'anonymised', "
                "user_id = NULL, phone = NULL, company = NULL, anonymised_at = now() WHERE id = ANY($1::int[])",
                ids,
            )
            detail = f"{len(ids)} {category} contact(s) anonymised, {notes} note(s) deleted"
            return SweepCounts(deleted=notes, anonymised=len(ids), skipped_held=skipped, detail=detail)
        # Invoices stay (their contact_id is cleared): they follow the invoice policy, not the contact's.
        await conn.execute("DELETE FROM contacts WHERE id = ANY($1::int[])", ids)  # notes cascade
        detail = f"{len(ids)} {category} contact(s), {notes} note(s)"
        return SweepCounts(deleted=len(ids) + notes, skipped_held=skipped, detail=detail)

    async def _sweep_invoices(
        self, conn: asyncpg.Connection, cutoff: datetime, action: str, held: HeldSubjects, matters: list[str]
    ) -> SweepCounts:
        if action == "archive":
            return SweepCounts(detail="invoices are kept as issued until deleted: nothing to archive")
        done = " AND i.anonymised_at IS NULL" if action == "anonymise" else ""
        rows = await conn.fetch(INVOICES_DUE.format(done=done), cutoff, matters)
        ids, skipped = _split(
            rows,
            held,
            lambda r: [
                ("email", r["billing_email"]),
                ("email", r["email"]),
                ("user_id", r["user_id"]),
                ("phone", r["phone"]),
            ],
        )
        if action == "anonymise":
            await conn.execute(
                "UPDATE invoices SET billing_email = 'anonymised-invoice-' || id || '@example.invalid', "
                "billing_name = 'anonymised', contact_id = NULL, anonymised_at = now() WHERE id = ANY($1::int[])",
                ids,
            )
            return SweepCounts(anonymised=len(ids), skipped_held=skipped, detail=f"{len(ids)} invoice(s)")
        await conn.execute("DELETE FROM invoices WHERE id = ANY($1::int[])", ids)
        return SweepCounts(deleted=len(ids), skipped_held=skipped, detail=f"{len(ids)} invoice(s)")

    async def count(self, table: str) -> int:
        """Rows in a table (for the demo and the tests)."""
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # table names are ours


def _split(
    rows: list[asyncpg.Record],
    held: HeldSubjects,
    identifiers: Callable[[asyncpg.Record], list[tuple[str, str | None]]],
) -> tuple[list[int], int]:
    """The ids of the rows to sweep, and how many rows belong to held subjects (left alone)."""
    ids: list[int] = []
    skipped = 0
    for row in rows:
        if held.covers(identifiers(row)):
            skipped += 1
        else:
            ids.append(row["id"])
    return ids, skipped
