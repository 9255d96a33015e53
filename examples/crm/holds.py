"""Which of a person's CRM contacts a legal hold keeps through an erasure (GDPR Art. 17(3)(e)).

https://eur-lex.europa.eu/eli/reg/2016/679/oj — erasure does not reach data needed for legal claims.
"""

from __future__ import annotations

import asyncpg

from sdk import Hold, Identifiers

HELD_CONTACTS = """
SELECT c.id, c.matters,
       EXISTS (SELECT 1 FROM invoices i WHERE i.contact_id = c.id) AS ordered,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.contact_id = c.id) AS subscribed
FROM contacts c WHERE c.id = ANY($1::int[])
"""


def contact_categories(ordered: bool, subscribed: bool) -> list[str]:
    """The retention categories a contact (with its notes) is data of.

    ``customer`` once it ordered, else ``prospect``; ``account`` too (closing the account deletes it);
    ``consent_based`` while it has subscriptions (they live on the contact).
    """
    return ["customer" if ordered else "prospect", "account", *(["consent_based"] if subscribed else [])]


async def held_contacts(
    conn: asyncpg.Connection, contact_ids: list[int], identifiers: Identifiers
) -> dict[int, tuple[Hold, ...]]:
    """The contacts a hold of the task keeps, with the holds keeping each: every scope of a hold must match.

    A hold naming a matter keeps only the contacts tagged with it (``contacts.matters``); one naming a
    category keeps the contacts that are data of that category.
    """
    if not identifiers.holds:
        return {}
    held: dict[int, tuple[Hold, ...]] = {}
    for row in await conn.fetch(HELD_CONTACTS, contact_ids):
        categories = contact_categories(row["ordered"], row["subscribed"])
        holds = [hold for category in categories for hold in identifiers.holds_on(category, row["matters"])]
        if holds:
            held[row["id"]] = tuple(dict.fromkeys(holds))
    return held
