"""The CRM's data and what it does for each right: contacts, notes and invoices (kept 10 years)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from sdk import Identifiers, Outcome, Store, SweepCounts, SystemRegistration

SYSTEM = "crm"
INVOICES_KEPT = "Art. 17(3)(b) GDPR: invoices are kept 10 years for the accounting obligation"
REGISTRATION = SystemRegistration(
    name="Demo CRM",
    owner="sales-ops@example.com",
    data_categories=["contact details", "sales notes", "invoices"],
    purposes=["customer relationship", "billing", "marketing email"],
    recipients=["Acme Mailing Ltd (newsletter)", "tax authority (invoices)"],
    retention="contacts: 3 years after last contact; invoices: 10 years",
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


class CrmStore(Store):
    """Contacts found by email, user id or phone; invoices survive an erasure (legal obligation)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, seed: bool = True) -> CrmStore:
        """Connect (creating the database and tables if needed) and seed the sample people."""
        await ensure_database(url)
        pool = await asyncpg.create_pool(plain_url(url), min_size=1, max_size=4)
        store = cls(pool)
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
        if seed:
            await store.seed()
        return store

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.close()

    async def seed(self) -> int:
        """Insert the sample people, two notes and an invoice each, once."""
        async with self.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM contacts"):
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
            for row in await conn.fetch(
                "SELECT * FROM invoices WHERE contact_id = ANY($1::int[]) OR lower(billing_email) = ANY($2::text[])",
                cids,
                emails,
            ):
                records.append({"table": "invoices", **dict(row)})
            return records

    async def erase(self, identifiers: Identifiers) -> Outcome:
        """Delete the contact and notes; keep the invoices (accounting obligation) and say so."""
        async with self.pool.acquire() as conn, conn.transaction():
            cids = await self._contact_ids(conn, identifiers)
            if not cids:
                return Outcome.no_data()
            notes = await conn.fetchval("SELECT count(*) FROM notes WHERE contact_id = ANY($1::int[])", cids)
            invoices = await conn.fetchval("SELECT count(*) FROM invoices WHERE contact_id = ANY($1::int[])", cids)
            await conn.execute("DELETE FROM contacts WHERE id = ANY($1::int[])", cids)  # notes cascade
            kept = f"{invoices} invoice(s) kept — {INVOICES_KEPT}" if invoices else None
            return Outcome.done(len(cids) + notes, detail=f"{len(cids)} contact(s), {notes} note(s)", exemption=kept)

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

    async def sweep(self, category: str, cutoff: datetime, action: str, held_subject_refs: list[str]) -> SweepCounts:
        """Retention of sales notes (``crm-notes``): delete notes written before the cut-off."""
        if category != "crm-notes" or action != "delete":
            return SweepCounts(detail=f"nothing kept here under {category!r} for {action}")
        async with self.pool.acquire() as conn:
            status = await conn.execute("DELETE FROM notes WHERE created_at < $1", cutoff)
        return SweepCounts(deleted=int(status.split()[-1]))

    async def count(self, table: str) -> int:
        """Rows in a table (for the demo and the tests)."""
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # table names are ours
