"""Roles: a service split into an API process and a worker process on one database.

The API process serves the endpoints and never talks to Kafka; the worker runs the outbox relay,
the consumers and the jobs, and serves only health, readiness and metrics.
"""

from __future__ import annotations

import pytest

from shared.events.topics import CONSENT_EVENTS
from shared.runtime.settings import Role
from tests.integration.consent.conftest import ADA, PURPOSES
from tests.support.stack import Infra, auth, eventually, read_topic, run_service

pytestmark = pytest.mark.integration

ADMIN = auth("acme", "consent:admin")


async def test_the_api_writes_and_the_worker_publishes(infra: Infra, topic_prefix: str) -> None:
    url = infra.fresh_database("consent")
    api_settings = infra.settings("consent", url, topic_prefix, role=Role.API)
    worker_settings = infra.settings("consent", url, topic_prefix, role=Role.WORKER)
    async with run_service("consent", api_settings) as api:
        ready = (await api.client.get("/readyz")).json()
        assert (ready["status"], ready["role"], set(ready["checks"])) == ("ready", "api", {"database"})
        assert not api.runtime.tasks  # no relay, consumer or job in an API process
        assert (await api.client.post("/v1/purposes", json=PURPOSES[0], headers=ADMIN)).status_code == 201
        body = {"subject": ADA, "purpose": "newsletter", "decision": "granted"}
        for _ in range(2):  # the first through the route, the second through the hot path
            assert (await api.client.post("/v1/consents", json=body, headers=ADMIN)).status_code == 201

        async with run_service("consent", worker_settings, api.clock) as worker:
            assert (await worker.client.get("/v1/purposes", headers=ADMIN)).status_code == 404  # no endpoints
            ready = (await worker.client.get("/readyz")).json()
            assert (ready["status"], ready["role"]) == ("ready", "worker")
            assert ready["checks"]["broker"] == "ok"

            async def relay_elected() -> bool:
                return worker.runtime.relay.active

            await eventually(relay_elected)
            records = await read_topic(infra.broker.bootstrap, f"{topic_prefix}{CONSENT_EVENTS}", expect=2)
            types = [dict(r.headers)["ce_type"].decode() for r in records]
            assert types == ["io.privops.consent.granted", "io.privops.consent.renewed"]
