"""Each of the five services boots on its own database, serves docs, health and metrics."""

from __future__ import annotations

import pytest

from tests.support.stack import SERVICES, Infra, run_service

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
async def test_service_boots_and_is_ready(infra: Infra, topic_prefix: str, service: str) -> None:
    settings = infra.settings(service, infra.fresh_database(service), topic_prefix)
    async with run_service(service, settings) as svc:
        health = await svc.client.get("/healthz")
        assert health.status_code == 200
        ready = await svc.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["broker"] == "ok"
        docs = await svc.client.get("/docs")
        assert docs.status_code == 200
        schema = (await svc.client.get("/openapi.json")).json()
        assert "Problem" in schema["components"]["schemas"]
        metrics = await svc.client.get("/metrics")
        assert metrics.status_code == 200
        assert "privops_http_requests_total" in metrics.text
        assert "x-correlation-id" in ready.headers


async def test_unknown_route_is_a_problem(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("breach", infra.fresh_database("breach"), topic_prefix)
    async with run_service("breach", settings) as svc:
        response = await svc.client.get("/v1/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404
