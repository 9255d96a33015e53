"""The breach service as a producer and consumer of the notify contract: tenant settings, claims, outcomes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed, NotificationSent
from shared.events.topics import NOTIFICATIONS
from shared.runtime.audit import AuditEntry
from tests.integration.breach.support import (
    ADMIN,
    CLAIM,
    INCIDENT,
    NOW,
    SETTINGS,
    WRITER,
    assert_problem,
    breach_service,
    produce,
    staged,
)
from tests.support.stack import Infra, RunningService, auth, eventually

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)
NOTIFY = "/privops/notify"


async def call(svc: RunningService, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
    response = await svc.client.request(method, path, json=body, headers=kw.get("headers", H))
    assert response.status_code == status, response.text
    return response.json()


async def sent_notice(svc: RunningService, body: dict[str, Any], incident: dict[str, Any] | None = None) -> Any:
    """Report an incident (or use ``incident``), draft a notice and send it; the sent notice."""
    iid = (incident or await call(svc, "POST", "/v1/incidents", INCIDENT, 201))["id"]
    draft = await call(
        svc, "POST", f"/v1/incidents/{iid}/notices", body | {"to_follow": {"approximate_records": "Pending."}}, 201
    )
    return await call(svc, "POST", f"/v1/notices/{draft['id']}/send", {})


def claim_path(notice: dict[str, Any]) -> str:
    return f"/v1/notices/{notice['id']}/deliveries/{notice['deliveries'][0]['id']}/claim"


async def test_settings_are_the_tenants_own_and_set_by_an_admin(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix, configured=False) as svc:
        empty = await call(svc, "GET", "/v1/settings", headers=auth("acme", "breach:read"))
        assert empty["contact"] is None and empty["authorities"] == {} and empty["updated_at"] is None
        for scope in ("breach:read", "breach:write"):
            assert_problem(await svc.client.put("/v1/settings", json=SETTINGS, headers=auth("acme", scope)), 403)
        assert_problem(await svc.client.put("/v1/settings", json=SETTINGS), 401)
        # A contact point without a way to reach it is what Art. 33(3)(b) rules out.
        nameless = SETTINGS | {"contact": {"name": "Jeanne Martin"}}
        refused = assert_problem(await svc.client.put("/v1/settings", json=nameless, headers=auth("acme", *ADMIN)), 422)
        assert "email or a phone" in str(refused)
        unknown = SETTINGS | {"authorities": {"mars": {"name": "Olympus", "email": "a@b.test"}}}
        assert_problem(await svc.client.put("/v1/settings", json=unknown, headers=auth("acme", *ADMIN)), 422)

        saved = await call(svc, "PUT", "/v1/settings", SETTINGS, headers=auth("acme", *ADMIN))
        assert saved["contact"]["phone"] == "+33 1 23 45 67 89" and saved["default_locale"] == "fr"
        assert saved["authorities"]["eu-gdpr"]["email"] == "notifications@cnil.test"
        assert saved["updated_by"] == "privops-cli"  # the token's subject
        assert (await call(svc, "GET", "/v1/settings", headers=auth("acme", "breach:read")))["customers"] == (
            saved["customers"]
        )
        # Another tenant sees its own (empty) settings, and its change leaves acme's alone.
        assert (await call(svc, "GET", "/v1/settings", headers=auth("globex", "breach:admin")))["contact"] is None
        await call(svc, "PUT", "/v1/settings", {"default_locale": "de"}, headers=auth("globex", *ADMIN))
        assert (await call(svc, "GET", "/v1/settings", headers=H))["default_locale"] == "fr"

        async with svc.runtime.database.session() as session:
            rows = (
                await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "breach.settings.updated"))
            ).all()
        mine = [r for r in rows if r.tenant_id == "acme"]
        assert len(mine) == 1 and mine[0].detail["changed"] == sorted(SETTINGS)
        assert "@" not in str(mine[0].detail)  # which parts changed, never the addresses


async def test_a_notice_names_the_contact_point_with_its_details(infra: Infra, topic_prefix: str) -> None:
    """GDPR Art. 33(3)(b): the name *and contact details* of the DPO or other contact point."""
    async with breach_service(infra, topic_prefix, configured=False) as svc:
        iid = (await call(svc, "POST", "/v1/incidents", INCIDENT, 201))["id"]
        body = {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Pending."}}
        refused = await svc.client.post(f"/v1/incidents/{iid}/notices", json=body, headers=H)
        assert assert_problem(refused, 422)["rule"] == "MissingContactPoint"
        assert "PUT /v1/settings" in refused.json()["detail"]

        await call(svc, "PUT", "/v1/settings", SETTINGS, headers=auth("acme", *ADMIN))
        draft = await call(svc, "POST", f"/v1/incidents/{iid}/notices", body, 201)
        contact = next(s for s in draft["sections"] if s["field"] == "contact_point")["text"]
        assert contact == "Jeanne Martin (Data Protection Officer) — dpo@acme.test, +33 1 23 45 67 89"
        assert contact in draft["body"] and draft["recipient"] == "CNIL"
        assert draft["contact"] == {
            "name": "Jeanne Martin",
            "email": "dpo@acme.test",
            "phone": "+33 1 23 45 67 89",
            "role": "Data Protection Officer",
        }


async def test_the_claim_answers_the_contract_to_notify_only(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        authority = await sent_notice(svc, {"kind": "authority", "jurisdiction": "eu-gdpr"})
        path = claim_path(authority)
        assert_problem(await svc.client.get(path, headers=auth("acme", "breach:read")), 403)
        assert_problem(await svc.client.get(path, headers=auth("acme", "breach:write")), 403)
        assert_problem(await svc.client.get(path, headers=auth("globex", *CLAIM)), 404)
        assert_problem(
            await svc.client.get(
                f"/v1/notices/{authority['id']}/deliveries/{uuid.uuid4()}/claim", headers=auth("acme", *CLAIM)
            ),
            404,
        )
        claim = await call(svc, "GET", path, headers=auth("acme", *CLAIM))
        incident = (await call(svc, "GET", f"/v1/incidents/{authority['incident_id']}"))["reference"]
        assert claim == {
            "notification_id": authority["deliveries"][0]["id"],
            "channel": "email",
            "template": "breach.notice.authority",
            "locale": "fr",
            "to": "notifications@cnil.test",
            "to_name": "CNIL",
            "webhook_url": None,
            "context": {
                "reference": incident,
                "incident_title": INCIDENT["title"],
                "stage": "initial",
                "kind": "authority",
                "body": authority["body"],
                "contact": {"name": "Jeanne Martin", "email": "dpo@acme.test", "phone": "+33 1 23 45 67 89"},
                "jurisdiction": "eu-gdpr",
                "on_behalf_of": None,
                "person_name": None,
            },
        }


async def test_controller_claims_go_to_each_customers_contact(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        body = INCIDENT | {"role": "processor", "customers": ["cust-1", "cust-2", "cust-3"]}
        incident = await call(svc, "POST", "/v1/incidents", body, 201)
        claims = {}
        for customer in ("cust-1", "cust-2", "cust-3"):
            notice = await sent_notice(svc, {"kind": "controller", "customer_id": customer}, incident)
            assert notice["deliveries"][0]["channel"] == "email"
            response = await svc.client.get(claim_path(notice), headers=auth("acme", *CLAIM))
            claims[customer] = response
        one, two = claims["cust-1"].json(), claims["cust-2"].json()
        assert (one["to"], one["to_name"], one["locale"]) == ("privacy@globex.test", "Globex privacy", "en")
        assert (two["to"], two["to_name"], two["locale"]) == ("dpo@initech.test", None, "fr")  # the tenant's default
        assert one["template"] == "breach.notice.controller" and one["context"]["jurisdiction"] is None
        # No contact for cust-3: notify fails the message with a reason a person can act on.
        assert "No notice contact is set for customer cust-3" in assert_problem(claims["cust-3"], 410)["detail"]


async def test_an_authority_without_an_address(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        await call(svc, "PUT", "/v1/settings", SETTINGS | {"authorities": {}}, headers=auth("acme", *ADMIN))
        nowhere = await sent_notice(svc, {"kind": "authority", "jurisdiction": "eu-gdpr"})
        gone = assert_problem(await svc.client.get(claim_path(nowhere), headers=auth("acme", *CLAIM)), 410)
        assert "No email address is set for the supervisory authority of eu-gdpr" in gone["detail"]
        assert await staged(svc, NOTIFICATIONS) == 1

        # An authority that takes notices on its portal only: a person submits, nothing goes to notify.
        portal = {"eu-gdpr": {"name": "CNIL", "portal_url": "https://notifications.cnil.test/"}}
        await call(svc, "PUT", "/v1/settings", SETTINGS | {"authorities": portal}, headers=auth("acme", *ADMIN))
        by_hand = await sent_notice(svc, {"kind": "authority", "jurisdiction": "eu-gdpr"})
        delivery = by_hand["deliveries"][0]
        assert delivery["channel"] == "portal" and "https://notifications.cnil.test/" in delivery["detail"]
        assert await staged(svc, NOTIFICATIONS) == 1


def outcome(kind: type[Any], delivery_id: str, minutes: int, origin: str = "breach", **extra: Any) -> Any:
    return kind(
        notification_id=uuid.UUID(delivery_id),
        origin=origin,
        channel="email",
        template="breach.notice.authority",
        attempts=extra.pop("attempts", 1),
        at=NOW + timedelta(minutes=minutes),
        **extra,
    )


async def test_outcomes_show_the_real_delivery_state_once(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        first = await sent_notice(svc, {"kind": "authority", "jurisdiction": "eu-gdpr"})
        iid, did = first["incident_id"], first["deliveries"][0]["id"]
        assert first["deliveries"][0]["status"] == "requested"

        # Another service's outcome for the same id is not ours; a redelivered envelope is applied once.
        await produce(svc, outcome(NotificationFailed, did, 1, origin="dsar", reason="x"), source=NOTIFY)
        await produce(svc, outcome(NotificationSent, did, 2), source=NOTIFY, times=2)
        await produce(svc, outcome(NotificationDelivered, did, 2), source=NOTIFY, times=2)
        # The same fact again under a new event id, and a late "sent": stale, nothing moves back.
        await produce(svc, outcome(NotificationDelivered, did, 3), source=NOTIFY)
        await produce(svc, outcome(NotificationSent, did, 4), source=NOTIFY)
        # The second notice's message was refused by the authority's mail server.
        follow_up = {"kind": "authority", "jurisdiction": "eu-gdpr", "stage": "follow_up"}
        final = await sent_notice(svc, follow_up, {"id": iid})
        reason = "550 5.1.1 mailbox unavailable"
        fid = final["deliveries"][0]["id"]
        await produce(svc, outcome(NotificationFailed, fid, 5, reason=reason, attempts=3), source=NOTIFY)

        async def failed() -> dict[str, Any] | None:
            delivery = (await call(svc, "GET", f"/v1/notices/{final['id']}"))["deliveries"][0]
            return delivery if delivery["status"] == "failed" else None

        # Same tenant key, same partition: once the last outcome is in, every earlier one was consumed.
        refused = await eventually(failed)
        assert (refused["detail"], refused["attempts"], refused["failed_at"]) == (reason, 3, "2026-03-02T09:05:00Z")

        delivery = (await call(svc, "GET", f"/v1/notices/{first['id']}"))["deliveries"][0]
        assert (delivery["status"], delivery["sent_at"], delivery["delivered_at"]) == (
            "delivered",
            "2026-03-02T09:02:00Z",
            "2026-03-02T09:02:00Z",
        )
        timeline = await call(svc, "GET", f"/v1/incidents/{iid}/timeline")
        seen = [(t["detail"]["delivery_id"], t["detail"]["status"]) for t in timeline if t["kind"] == "notice.delivery"]
        assert seen == [(did, "sent"), (did, "delivered"), (fid, "failed")]
        assert next(t for t in timeline if t["detail"].get("status") == "failed")["detail"]["reason"] == reason
        actors = {t["actor"] for t in timeline if t["kind"] == "notice.delivery"}
        assert actors == {"service:notify"}  # every requester records outcomes as told by notify
