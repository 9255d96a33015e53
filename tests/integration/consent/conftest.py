"""Fixtures for the consent service's integration tests: a running service with a small catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlmodel import func, select

from services.consent.models import ConsentRecord
from shared.bus.outbox import staged_events
from tests.support.stack import Infra, RunningService, auth, run_service

ADMIN = auth("acme", "consent:admin")
WRITE = auth("acme", "consent:write")
READ = auth("acme", "consent:read")
ADA = {"kind": "email", "value": "Ada@Example.com"}
PURPOSES: list[dict[str, Any]] = [
    {
        "key": "newsletter",
        "name": "Newsletter",
        "lawful_basis": "consent",
        "validity": "P3Y",
        "direct_marketing": True,
        "data_categories": ["contact.email"],
    },
    {"key": "cookies.analytics", "name": "Analytics cookies", "lawful_basis": "consent", "validity": "P13M"},
    {"key": "ads.targeted", "name": "Targeted ads", "lawful_basis": "consent", "gpc_covered": True},
    {"key": "sale", "name": "Sale of data", "lawful_basis": "consent", "gpc_covered": True, "tcf_purpose_id": 1},
    {"key": "fraud", "name": "Fraud prevention", "lawful_basis": "legitimate_interest"},
    {"key": "invoicing", "name": "Invoicing", "lawful_basis": "legal_obligation"},
]


@pytest.fixture
async def consent(infra: Infra, topic_prefix: str) -> AsyncIterator[RunningService]:
    """The consent service with the tenant acme's catalogue."""
    settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    async with run_service("consent", settings) as svc:
        for body in PURPOSES:
            response = await svc.client.post("/v1/purposes", json=body, headers=ADMIN)
            assert response.status_code == 201, response.text
        yield svc


def hot_path_count(route: str, outcome: str) -> float:
    """How many requests to ``route`` the hot path counted with ``outcome`` (served, declined, error)."""
    labels = {"service": "consent", "route": route, "outcome": outcome}
    return REGISTRY.get_sample_value("privops_hot_path_requests_total", labels) or 0.0


async def counts(svc: RunningService) -> tuple[int, int]:
    """(consent records, outbox events) in the service's database."""
    async with svc.runtime.database.session() as session:
        records = (await session.exec(select(func.count()).select_from(ConsentRecord))).one()
        events = len(await staged_events(session))
    return int(records), events


async def decide(svc: RunningService, purpose: str, decision: str, **extra: Any) -> dict[str, Any]:
    """Record a decision for Ada and return the record."""
    headers = extra.pop("headers", WRITE)
    body = {"subject": extra.pop("subject", ADA), "purpose": purpose, "decision": decision} | extra
    response = await svc.client.post("/v1/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(svc: RunningService, *purposes: str, **extra: Any) -> dict[str, dict[str, Any]]:
    """Check Ada's purposes; return the results by purpose."""
    body = {"subject": extra.pop("subject", ADA), "purposes": list(purposes)} | extra
    response = await svc.client.post("/v1/checks", json=body, headers=READ)
    assert response.status_code == 200, response.text
    return {r["purpose"]: r for r in response.json()["results"]}
