"""Clients: registered without widening, within the caller's tenant, each tenant's invisible to others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.identity.service.bootstrap import BootstrapError
from tests.integration.identity.support import ACME_ADMIN, CLIENTS, SECRET, bearer, identity, token_response
from tests.support.stack import Infra

pytestmark = pytest.mark.integration
BACKEND = {"client_id": "shop", "name": "Shop", "kind": "backend", "scopes": ["dsar:read"]}


async def test_a_client_cannot_create_a_client_with_wider_scopes(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        admin = await bearer(svc, "acme-admin")
        for scopes in (["breach:admin"], ["consent:admin"], ["dsar:read", "breach:read"], ["platform:admin"]):
            refused = await svc.client.post("/v1/clients", json=BACKEND | {"scopes": scopes}, headers=admin)
            assert refused.status_code == 403, (scopes, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        narrower = await bearer(svc, "acme-admin", scope="identity:admin dsar:read")
        refused = await svc.client.post("/v1/clients", json=BACKEND | {"scopes": ["dsar:write"]}, headers=narrower)
        assert refused.status_code == 403  # what the token holds counts, not what the client could ask for
        created = await svc.client.post("/v1/clients", json=BACKEND, headers=admin)
        assert created.status_code == 201, created.text
        assert created.json()["tenant"] == "acme" and created.json()["created_by"] == "client:acme-admin"
        assert len(created.json()["client_secret"]) >= 43
        assert (await svc.client.post("/v1/clients", json=BACKEND, headers=admin)).status_code == 409
        assert "client_secret" not in (await svc.client.get("/v1/clients/shop", headers=admin)).json()
        invalid = await svc.client.post("/v1/clients", json=BACKEND | {"kind": "store"}, headers=admin)
        assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "system"
        reader = await bearer(svc, "acme-admin", scope="dsar:admin")
        assert (await svc.client.post("/v1/clients", json=BACKEND, headers=reader)).status_code == 403
        assert (await svc.client.post("/v1/clients", json=BACKEND)).status_code == 401


async def test_clients_stay_within_their_tenant(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        acme, globex = await bearer(svc, "acme-admin"), await bearer(svc, "globex-admin")
        for tenant in ("globex", "*"):
            refused = await svc.client.post("/v1/clients", json=BACKEND | {"tenant": tenant}, headers=acme)
            assert refused.status_code == 403, refused.text
        assert (await svc.client.get("/v1/clients", params={"tenant": "globex"}, headers=acme)).status_code == 403
        for path in ("/v1/clients/globex-admin", "/v1/clients/dsar"):  # another tenant's, a service's
            assert (await svc.client.get(path, headers=acme)).status_code == 404
            assert (await svc.client.post(f"{path}/secret", headers=acme)).status_code == 404
            assert (await svc.client.delete(path, headers=acme)).status_code == 404
        assert (await token_response(svc, "globex-admin")).status_code == 200  # untouched
        assert [c["client_id"] for c in (await svc.client.get("/v1/clients", headers=globex)).json()] == [
            "globex-admin"
        ]


async def test_the_platform_operator_registers_clients_of_any_tenant_and_services(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        operator = await bearer(svc, "operator", tenant="ops")
        made = await svc.client.post("/v1/clients", json=BACKEND | {"tenant": "globex"}, headers=operator)
        assert made.status_code == 201 and made.json()["tenant"] == "globex"
        service = {"client_id": "breach", "name": "Breach", "kind": "service", "tenant": "*"}
        made = await svc.client.post(
            "/v1/clients", json=service | {"scopes": ["identity:sign", "notify:claim"]}, headers=operator
        )
        assert made.status_code == 201, made.text
        listed = await svc.client.get("/v1/clients", params={"tenant": "*"}, headers=operator)
        assert [c["client_id"] for c in listed.json()] == ["breach", "dsar", "operator"]
        assert (await svc.client.get("/v1/clients/globex-admin", headers=operator)).status_code == 200


async def test_the_bootstrap_file_is_the_operators(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        admin = await bearer(svc, "acme-admin")
        await svc.client.delete("/v1/clients/acme-admin", headers=admin)
        assert (await token_response(svc, "acme-admin")).status_code == 401
        database = svc.settings.database_url
    # The next start upserts the file again: the client it declares is back, with the file's secret.
    rows = [c | {"secret": SECRET} for c in CLIENTS]
    (tmp_path / "identity-bootstrap.json").write_text(json.dumps({"clients": rows}))
    async with identity(infra, topic_prefix, tmp_path, database_url=database) as svc:
        assert (await token_response(svc, "acme-admin")).status_code == 200


async def test_the_bootstrap_clients_can_be_given_inline(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    """docker compose passes the bootstrap JSON in IDENTITY_BOOTSTRAP_JSON: the same clients, no file."""
    document = json.dumps({"clients": [ACME_ADMIN | {"secret": SECRET}]})
    async with identity(infra, topic_prefix, tmp_path, bootstrap_file=None, bootstrap_json=document) as svc:
        assert (await token_response(svc, "acme-admin")).status_code == 200
        assert (await token_response(svc, "globex-admin")).status_code == 401  # only what the JSON declares


def test_a_bad_bootstrap_file_stops_the_service(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    from services.identity.app import create_app

    path = tmp_path / "bootstrap.json"
    url = "postgresql+asyncpg://u@127.0.0.1:9/x"
    for content, reason in (
        ("not json", "not JSON"),
        (json.dumps({"clients": [ACME_ADMIN | {"secret": "short"}]}), "clients.0.secret"),
        (json.dumps({"clients": [ACME_ADMIN | {"secret": SECRET, "kind": "store"}]}), "system"),
    ):
        path.write_text(content)
        settings = infra.settings("identity", url, topic_prefix, bootstrap_file=str(path))
        with pytest.raises(BootstrapError) as caught:
            create_app(settings)  # type: ignore[arg-type]
        assert reason in str(caught.value) and SECRET not in str(caught.value)
