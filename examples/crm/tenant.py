"""The CRM at the end of its customer's contract: everything returned, then deleted except the invoices.

The CRM's database holds one tenant's data (``PRIVOPS_TENANTS``): a contract end exports and purges it all.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from sdk import Exemption, Hold, Purged, TenantScope

TABLES = ("contacts", "notes", "subscriptions", "invoices")
# What each contract-end purge did, recorded in its transaction (a redelivered task is answered from it).
TENANT_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant_purges (
    task_id TEXT PRIMARY KEY, records INTEGER NOT NULL, kept INTEGER NOT NULL, purged_at TIMESTAMPTZ NOT NULL
);
"""
# At a contract's end the processor keeps what Member State law requires it to store (GDPR Art. 28(3)(g)):
# French accounting documents, invoices among them, are kept 10 years (Code de commerce art. L123-22,
# https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000019288290).
INVOICES_LAW = (
    "GDPR Art. 28(3)(g) (storage required by Member State law): Code de commerce art. L123-22, accounting "
    "documents kept 10 years"
)


class CrmTenant:
    """``export_tenant`` and ``purge_tenant`` of the CRM (mixed into ``CrmStore``)."""

    pool: asyncpg.Pool

    async def export_tenant(self, scope: TenantScope) -> dict[str, list[dict[str, Any]]]:
        """Every contact, note, subscription and invoice: all of this store's data is the tenant's."""
        async with self.pool.acquire() as conn:
            return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}

    async def purge_tenant(self, scope: TenantScope) -> Purged:
        """Delete contacts, notes and subscriptions; keep invoices (the accounting obligation), named with the law.

        Contacts filed under a matter a legal hold names are kept too (Art. 17(3)(e)). What was done is
        recorded under the task in the deletion's transaction: a redelivered task deletes nothing more
        and answers the same counts.
        """
        matters = [hold.matter for hold in scope.holds if hold.matter]
        async with self.pool.acquire() as conn, conn.transaction():
            done = await conn.fetchrow("SELECT records, kept FROM tenant_purges WHERE task_id = $1", scope.task_id)
            if done is None:
                notes = await conn.fetchval(
                    "SELECT count(*) FROM notes n JOIN contacts c ON c.id = n.contact_id WHERE NOT c.matters && $1",
                    matters,
                )
                lists = await conn.fetchval(
                    "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id "
                    "WHERE NOT c.matters && $1",
                    matters,
                )
                contacts = int(
                    (await conn.execute("DELETE FROM contacts WHERE NOT matters && $1", matters)).split()[-1]
                )
                invoices = await conn.fetchval("SELECT count(*) FROM invoices")
                done = {"records": contacts + notes + lists, "kept": invoices}
                await conn.execute(
                    "INSERT INTO tenant_purges VALUES ($1, $2, $3, now())", scope.task_id, done["records"], invoices
                )
            held = await conn.fetchval("SELECT count(*) FROM contacts")
        exemptions = [Exemption("invoices", done["kept"], INVOICES_LAW)] if done["kept"] else []
        if held:
            exemptions.append(Exemption("contacts under legal hold", held, Hold.reasons(scope.holds)))
        return Purged(done["records"], tuple(exemptions), detail="contacts, notes and subscriptions deleted")
