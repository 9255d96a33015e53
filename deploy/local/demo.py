"""The demo tenant of the local stack: a purpose catalogue, the default retention pack, the data map.

Seeding is idempotent (an existing object is left alone), so a second ``privops up`` on the same
state folder changes nothing. The demo stores of ``examples/`` register themselves in the DSAR
registry when they start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

DEMO_TENANT = "demo"

PURPOSES: list[dict[str, Any]] = [
    {
        "key": "newsletter",
        "name": "Newsletter",
        "description": "Our monthly newsletter by email",
        "lawful_basis": "consent",
        "data_categories": ["contact.email"],
        "validity": "P3Y",
        "direct_marketing": True,
    },
    {
        "key": "analytics",
        "name": "Audience measurement",
        "description": "Cookies measuring how the product is used",
        "lawful_basis": "consent",
        "data_categories": ["usage events"],
        "validity": "P13M",
    },
    {
        "key": "targeted_ads",
        "name": "Targeted advertising",
        "description": "Sharing an advertising identifier with partners",
        "lawful_basis": "consent",
        "data_categories": ["device identifiers"],
        "validity": "P13M",
        "gpc_covered": True,
    },
    {
        "key": "service_emails",
        "name": "Service emails",
        "description": "Receipts and account notices needed to run the contract",
        "lawful_basis": "contract",
        "data_categories": ["contact.email"],
    },
]

# Which categories of the default retention pack each system holds (the retention data map); the keys are
# the demo stores' system keys and the categories those their ``sweep`` answers (examples/*/store.py SWEPT).
RETENTION_SYSTEMS: dict[str, dict[str, Any]] = {
    "crm": {"categories": ["prospect", "customer", "invoice"], "description": "Demo CRM (PostgreSQL)"},
    "analytics": {"categories": ["cookie"], "description": "Demo analytics (SQLite)"},
}


def seed_demo_tenant(urls: dict[str, str], token: str, note: Callable[[str], None]) -> None:
    """Create the demo tenant's purposes, retention policies and data map; report each step through ``note``."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30.0, headers=headers) as client:
        created = 0
        for purpose in PURPOSES:
            response = client.post(f"{urls['consent']}/v1/purposes", json=purpose)
            created += response.status_code == 201
            _accept(response, "consent purpose " + purpose["key"])
        note(f"demo tenant: {created} purpose(s) created, {len(PURPOSES) - created} already there")
        _accept(client.post(f"{urls['retention']}/v1/policies/default-pack"), "retention default pack")
        for system, body in RETENTION_SYSTEMS.items():
            _accept(client.put(f"{urls['retention']}/v1/systems/{system}", json=body), f"retention system {system}")
        _accept(client.post(f"{urls['dsar']}/v1/systems/setup"), "DSAR registry")
        note("demo tenant: retention default pack, retention data map and DSAR registry ready")


def _accept(response: httpx.Response, what: str) -> None:
    """Created, unchanged or already present are fine; anything else stops the stack with the problem."""
    if response.status_code in (200, 201, 204, 409):
        return
    raise RuntimeError(f"seeding {what} failed: {response.status_code} {response.text[:500]}")
