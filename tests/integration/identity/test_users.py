"""People's accounts: roles given without widening, invitations, disabling, tenants kept apart, DSAR tasks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from services.identity.service.store import AccountStore
from shared.bus.store import TaskInput
from shared.rules import subjects
from shared.runtime.uow import UnitOfWork
from tests.integration.identity.support import (
    PASSWORD,
    PEOPLE_CLIENTS,
    Pkce,
    add_person,
    bearer,
    code_of,
    exchange,
    identity,
    read_form,
    sign_in,
)
from tests.support.stack import SUBJECT_KEY, Infra

pytestmark = pytest.mark.integration
ANALYST = {"email": "ana@acme.example", "name": "Ana Lyst", "roles": ["privacy_analyst"]}


async def test_roles_are_given_without_widening(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        # acme-admin holds identity:admin, dsar:admin and consent:write.
        admin = await bearer(svc, "acme-admin")
        for roles in (["admin"], ["auditor"], ["privacy_analyst"], ["dpo"]):
            refused = await svc.client.post("/v1/users", json=ANALYST | {"roles": roles}, headers=admin)
            assert refused.status_code == 403, (roles, refused.text)
        operator = await bearer(svc, "operator", tenant="ops")
        made = await svc.client.post("/v1/users", json=ANALYST | {"tenant": "acme"}, headers=operator)
        assert made.status_code == 201 and made.json()["tenant"] == "acme"
        assert (
            await svc.client.post("/v1/users", json=ANALYST | {"tenant": "acme"}, headers=operator)
        ).status_code == 409
        user_id = made.json()["id"]
        upgraded = await svc.client.patch(f"/v1/users/{user_id}", json={"roles": ["admin"]}, headers=admin)
        assert upgraded.status_code == 403
        assert (
            await svc.client.post("/v1/users", json=ANALYST | {"roles": ["root"]}, headers=operator)
        ).status_code == 422


async def test_an_invited_person_sets_their_password_once(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        user = await add_person(svc, "ana@acme.example", ["privacy_analyst"], password=None)
        assert user["has_password"] is False and user["invite_url"].startswith("https://id.test/invite?token=")
        link = urlsplit(user["invite_url"])
        page = await svc.client.get(link.path + "?" + link.query)
        assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
        form = read_form(page.text)
        assert form.visible == {"password", "confirm"} <= form.labelled
        post = urlsplit(form.action).path
        differ = await svc.client.post(post, data=form.fields | {"password": PASSWORD, "confirm": PASSWORD + "!"})
        assert differ.status_code == 400
        short = await svc.client.post(post, data=form.fields | {"password": "short", "confirm": "short"})
        assert short.status_code == 400
        done = await svc.client.post(post, data=form.fields | {"password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 200, done.text
        again = await svc.client.post(post, data=form.fields | {"password": "another long password", "confirm": "x"})
        assert again.status_code == 410
        assert (await svc.client.get(link.path + "?" + link.query)).status_code == 410
        assert (await svc.client.get("/invite?token=forged")).status_code == 410
        pkce = Pkce()
        assert (await exchange(svc, code_of(await sign_in(svc, pkce, "ana@acme.example")), pkce)).status_code == 200


async def test_a_disabled_person_cannot_sign_in_and_loses_their_code(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        user = await add_person(svc, "ana@acme.example", ["auditor"])
        admin = await bearer(svc, "operator", tenant="ops")
        pkce = Pkce()
        code = code_of(await sign_in(svc, pkce, "ana@acme.example"))
        disabled = await svc.client.delete(f"/v1/users/{user['id']}", headers=admin)
        assert disabled.status_code == 200 and disabled.json()["disabled_at"] and not disabled.json()["has_password"]
        assert (await exchange(svc, code, pkce)).json()["error"] == "invalid_grant"
        assert (await sign_in(svc, pkce, "ana@acme.example")).status_code == 400
        enabled = await svc.client.patch(
            f"/v1/users/{user['id']}", json={"disabled": False, "password": PASSWORD}, headers=admin
        )
        assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
        code_of(await sign_in(svc, pkce, "ana@acme.example"))


async def test_people_stay_within_their_tenant(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        user = await add_person(svc, "ana@acme.example", ["auditor"])
        globex = await bearer(svc, "globex-admin")
        for method in ("GET", "PATCH", "DELETE"):
            body = {"name": "Mallory"} if method == "PATCH" else None
            response = await svc.client.request(method, f"/v1/users/{user['id']}", json=body, headers=globex)
            assert response.status_code == 404, method
        assert (await svc.client.post(f"/v1/users/{user['id']}/invite", headers=globex)).status_code == 404
        assert (await svc.client.get("/v1/users", headers=globex)).json() == []
        acme = await bearer(svc, "acme-admin")
        assert [u["email"] for u in (await svc.client.get("/v1/users", headers=acme)).json()] == ["ana@acme.example"]
        # A console of acme does not sign in globex's people, whatever the form says.
        assert (await svc.client.get("/v1/users", params={"tenant": "globex"}, headers=acme)).status_code == 403


async def test_a_dsar_task_exports_and_erases_a_persons_account(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        user = await add_person(svc, "ana@acme.example", ["auditor"])
        ref = subjects.subject_ref(
            SUBJECT_KEY.encode(), subjects.IdentifierKind.EMAIL, "ANA@acme.example ", tenant="acme"
        )
        task = TaskInput(tenant_id="acme", subject_ref=ref, action="access")
        store = AccountStore()
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "dsar-task")
            [exported] = await store.export(uow, task)
            assert exported["email"] == "ana@acme.example" and exported["roles"] == ["auditor"]
            assert "password_hash" not in exported
            kept = await store.erase(uow, task)
            assert (kept.outcome, kept.records_affected) == ("exempt", 0)  # an active account gives access
        await svc.client.delete(f"/v1/users/{user['id']}", headers=await bearer(svc, "operator", tenant="ops"))
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "dsar-task")
            erased = await store.erase(uow, task)
            assert (erased.outcome, erased.records_affected) == ("done", 1)
            assert await store.export(uow, task) == []
            other = TaskInput(tenant_id="globex", subject_ref=ref, action="erase")
            assert (await store.erase(uow.for_tenant("globex"), other)).outcome == "no_data"
