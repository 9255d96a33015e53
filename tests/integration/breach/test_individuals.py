"""Telling the people affected (GDPR Art. 34): addresses, the customer's approval, deliveries per person."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from services.breach.service.store import BreachStore
from shared.bus.store import TaskInput
from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed, NotificationSent
from shared.events.topics import BREACH_EVENTS, NOTIFICATIONS
from shared.rules.subjects import subject_ref
from shared.runtime.uow import UnitOfWork
from tests.integration.breach.support import (
    CLAIM,
    INCIDENT,
    NOW,
    REF_A,
    WRITER,
    assert_problem,
    breach_service,
    produce,
    published,
    staged,
)
from tests.support.stack import Infra, RunningService, auth, eventually

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)
NOTIFY = "/privops/notify"
PROCESSOR = INCIDENT | {"role": "processor", "customers": ["cust-1"]}
PEOPLE = [
    {"email": " Ada@Example.com ", "name": "Ada Lovelace", "locale": "fr-FR"},
    {"email": "bob@example.com", "locale": "en"},
]
WORDING = {
    "fr": {
        "plain_summary": "Quelqu'un a utilisé le compte d'un agent du support pour copier la liste des clients.",
        "likely_consequences": "Vous pourriez recevoir des e-mails frauduleux qui semblent venir de nous.",
        "measures": ["Nous avons bloqué le compte et changé tous les mots de passe du support."],
        "advice": ["Ne cliquez pas sur les liens d'un e-mail qui vous demande vos coordonnées bancaires."],
    }
}


async def call(svc: RunningService, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
    response = await svc.client.request(method, path, json=body, headers=kw.get("headers", H))
    assert response.status_code == status, response.text
    return response.json()


def ref_of(svc: RunningService, email: str) -> str:
    key = svc.settings.subject_hash_key.get_secret_value().encode()
    return subject_ref(key, "email", email, tenant="acme")


async def high_risk(svc: RunningService, incident: dict[str, Any]) -> str:
    """A reported incident judged high risk: the people must be told (Art. 34(1))."""
    iid = (await call(svc, "POST", "/v1/incidents", incident, 201))["id"]
    decision = {"risk": "high_risk", "reason": "Contact details with order history: targeted phishing is likely."}
    assessed = await call(svc, "POST", f"/v1/incidents/{iid}/decision", decision, 201)
    assert assessed["notify_individuals"] is True
    return str(iid)


async def sql(svc: RunningService, statement: str) -> list[Any]:
    async with svc.runtime.database.session() as session:
        return list((await session.exec(text(statement))).all())


async def notifications(svc: RunningService, template: str) -> list[dict[str, Any]]:
    return [e.data for e in await published(svc, NOTIFICATIONS) if e.data["template"] == template]


def outcome(kind: type[Any], delivery_id: str, minutes: int, **extra: Any) -> Any:
    return kind(
        notification_id=uuid.UUID(delivery_id),
        origin="breach",
        channel="email",
        template="breach.notice.individuals",
        attempts=extra.pop("attempts", 1),
        at=NOW + timedelta(minutes=minutes),
        **extra,
    )


async def test_a_processors_notice_is_approved_at_the_link_then_delivered_per_person(
    infra: Infra, topic_prefix: str
) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        iid = await high_risk(svc, PROCESSOR)
        attached = await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE})
        assert attached == {"added": 2, "total": 2, "with_address": 2}
        # A third person is known by reference only: nobody can mail them.
        await call(svc, "POST", f"/v1/incidents/{iid}/affected-subjects", {"subject_refs": [REF_A]})
        ada, bob = ref_of(svc, "ada@example.com"), ref_of(svc, "bob@example.com")
        refs = {r for (r,) in await sql(svc, "SELECT subject_ref FROM affected_subject")}
        assert refs == {ada, bob, REF_A}  # the register's references, computed as every store computes them
        sealed = await sql(svc, "SELECT contact_enc FROM affected_contact")
        assert len(sealed) == 2 and all(b"example.com" not in bytes(c) for (c,) in sealed)

        draft = await call(
            svc, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals", "wording": WORDING}, 201
        )
        assert (draft["approval_status"], draft["customer_id"]) == ("pending", "cust-1")
        assert set(draft["bodies"]) == {"en", "fr"} and draft["body"] == draft["bodies"]["fr"]  # the tenant's language
        assert "Nous vous adressons ce message au nom de Globex privacy" in draft["bodies"]["fr"]
        assert "Quelqu'un a utilisé le compte" in draft["bodies"]["fr"]
        assert "We send this message on behalf of Globex privacy" in draft["bodies"]["en"]
        assert "A phished support account" in draft["bodies"]["en"]  # no English wording given: the incident's

        # Not approved: nothing leaves, whatever the sender holds.
        refused = await svc.client.post(f"/v1/notices/{draft['id']}/send", json={}, headers=H)
        assert assert_problem(refused, 409)["rule"] == "ApprovalRequired"
        assert await staged(svc, NOTIFICATIONS) == 0

        asked = await call(svc, "POST", f"/v1/notices/{draft['id']}/approval-request", None, 201)
        assert (asked["method"], asked["status"], asked["mail_status"]) == ("link", "pending", "requested")
        assert asked["expires_at"] == "2026-03-05T09:00:00Z"  # 72 hours
        [mail] = await notifications(svc, "breach.notice.approval")
        assert (mail["recipient_ref"], mail["locale"]) == ("cust-1", "en")
        claim_path = urlsplit(mail["claim_url"]).path
        assert_problem(await svc.client.get(claim_path, headers=H), 403)
        assert_problem(await svc.client.get(claim_path, headers=auth("globex", *CLAIM)), 404)
        claimed = await call(svc, "GET", claim_path, headers=auth("acme", *CLAIM))
        assert (claimed["to"], claimed["to_name"], claimed["template"]) == (
            "privacy@globex.test",
            "Globex privacy",
            "breach.notice.approval",
        )
        context = claimed["context"]
        assert context["body"] == draft["bodies"]["en"] and context["recipients"] == 3
        assert context["controller"] == "Globex privacy"

        # The link: no bearer token; the signed token is the credential.
        link = urlsplit(context["url"]).path
        assert link.startswith("/v1/public/notice-approvals/")
        shown = await call(svc, "GET", link, headers={})
        assert shown["status"] == "pending" and shown["bodies"] == draft["bodies"] and shown["recipients"] == 3
        token = link.rsplit("/", 1)[1]
        assert_problem(await svc.client.get(f"/v1/public/notice-approvals/{token[:-3]}xyz"), 404)
        assert_problem(await svc.client.post(link, json={"decision": "decline", "name": "Grace Hopper"}), 422)
        approved = await call(svc, "POST", link, {"decision": "approve", "name": "Grace Hopper"}, headers={})
        assert approved["status"] == "approved"
        assert_problem(await svc.client.post(link, json={"decision": "approve", "name": "Mallory"}), 409)
        [evidence] = await call(svc, "GET", f"/v1/notices/{draft['id']}/approvals")
        assert (evidence["decided_by_name"], evidence["decided_at"], evidence["status"]) == (
            "Grace Hopper",
            "2026-03-02T09:00:00Z",
            "approved",
        )
        assert_problem(await svc.client.get(claim_path, headers=auth("acme", *CLAIM)), 410)  # nothing left to mail
        again = await svc.client.post(f"/v1/notices/{draft['id']}/approval-request", headers=H)
        assert assert_problem(again, 409)["rule"] == "ApprovalClosed"

        sent = await call(svc, "POST", f"/v1/notices/{draft['id']}/send", {})
        by_ref = {d["recipient_ref"]: d for d in sent["deliveries"]}
        assert {r: (d["channel"], d["status"]) for r, d in by_ref.items()} == {
            ada: ("email", "requested"),
            bob: ("email", "requested"),
            REF_A: ("none", "unreachable"),
        }
        assert "affected-contacts" in by_ref[REF_A]["detail"]
        mails = await notifications(svc, "breach.notice.individuals")
        assert sorted((m["recipient_ref"], m["locale"]) for m in mails) == sorted([(ada, "fr"), (bob, "en")])
        assert all("example.com" not in str(m) for m in mails)  # the address never travels on the bus

        def claim_of(ref: str) -> str:
            return f"/v1/notices/{sent['id']}/deliveries/{by_ref[ref]['id']}/claim"

        to_ada = await call(svc, "GET", claim_of(ada), headers=auth("acme", *CLAIM))
        assert (to_ada["to"], to_ada["to_name"], to_ada["locale"]) == ("ada@example.com", "Ada Lovelace", "fr")
        assert to_ada["context"]["body"] == draft["bodies"]["fr"]
        assert (to_ada["context"]["on_behalf_of"], to_ada["context"]["person_name"]) == (
            "Globex privacy",
            "Ada Lovelace",
        )
        to_bob = await call(svc, "GET", claim_of(bob), headers=auth("acme", *CLAIM))
        assert (to_bob["to"], to_bob["to_name"], to_bob["locale"]) == ("bob@example.com", None, "en")
        assert to_bob["context"]["body"] == draft["bodies"]["en"]

        listed = await call(svc, "GET", f"/v1/notices/{sent['id']}/deliveries", headers=auth("acme", "breach:read"))
        assert (listed["total"], listed["complete"]) == (3, False)
        assert (listed["counts"]["requested"], listed["counts"]["unreachable"]) == (2, 1)

        reason = "550 5.1.1 mailbox unavailable"
        await produce(svc, outcome(NotificationSent, by_ref[ada]["id"], 1), source=NOTIFY)
        await produce(svc, outcome(NotificationDelivered, by_ref[ada]["id"], 2), source=NOTIFY)
        await produce(svc, outcome(NotificationFailed, by_ref[bob]["id"], 3, reason=reason, attempts=8), source=NOTIFY)

        async def complete() -> dict[str, Any] | None:
            found: dict[str, Any] = await call(svc, "GET", f"/v1/notices/{sent['id']}/deliveries")
            return found if found["complete"] else None

        done = await eventually(complete)
        assert {k: v for k, v in done["counts"].items() if v} == {"delivered": 1, "failed": 1, "unreachable": 1}
        failed = next(d for d in done["items"] if d["recipient_ref"] == bob)
        assert (failed["detail"], failed["attempts"]) == (reason, 8)

        # Every delivery ended: the addresses are gone, the references stay in the register.
        assert await sql(svc, "SELECT contact_enc IS NULL, purged_at IS NOT NULL FROM affected_contact") == [
            (True, True),
            (True, True),
        ]
        assert (
            "No address is kept"
            in assert_problem(await svc.client.get(claim_of(ada), headers=auth("acme", *CLAIM)), 410)["detail"]
        )
        timeline = await call(svc, "GET", f"/v1/incidents/{iid}/timeline")
        kinds = [t["kind"] for t in timeline]
        assert kinds.index("notice.approval_requested") < kinds.index("notice.approved") < kinds.index("notice.sent")
        assert kinds.index("notice.sent") < kinds.index("notice.deliveries_completed") < kinds.index("contacts.purged")
        completed = next(t for t in timeline if t["kind"] == "notice.deliveries_completed")
        assert completed["detail"]["counts"] == {"delivered": 1, "failed": 1, "unreachable": 1}
        assert "example.com" not in str(timeline).lower()
        events = {e.type for e in await published(svc, BREACH_EVENTS)}
        assert {
            "io.privops.breach.individual_notice.approved",
            "io.privops.breach.individual_notice.completed",
            "io.privops.breach.notice.sent",
        } <= events


async def test_a_controller_sends_without_anyones_approval(infra: Infra, topic_prefix: str) -> None:
    """As controller, the DPO's own send is the decision: no customer approval is asked for or recorded."""
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, INCIDENT)
        await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE[1:]})
        draft = await call(svc, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)
        assert draft["approval_status"] is None and draft["customer_id"] is None
        assert "on behalf of" not in draft["bodies"]["en"]
        for path, body in (
            (f"/v1/notices/{draft['id']}/approval-request", None),
            (f"/v1/notices/{draft['id']}/approval", {"decision": "approved", "name": "X", "means": "call"}),
        ):
            assert_problem(await svc.client.post(path, json=body, headers=H), 422)
        # Drafts across the register, and the register by several statuses, each in one call.
        drafts = await call(svc, "GET", "/v1/notices?status=draft")
        assert [n["id"] for n in drafts] == [draft["id"]]
        active = await call(svc, "GET", "/v1/incidents?status=open&status=assessed&status=notifying")
        assert [i["id"] for i in active] == [iid] and active[0] == await call(svc, "GET", f"/v1/incidents/{iid}")
        assert await call(svc, "GET", "/v1/incidents?status=closed") == []
        assert_problem(await svc.client.get("/v1/notices?status=lost", headers=H), 422)
        assert (await svc.client.get("/v1/notices", headers=auth("globex", *WRITER))).json() == []
        sent = await call(svc, "POST", f"/v1/notices/{draft['id']}/send", {})
        assert [d["status"] for d in sent["deliveries"]] == ["requested"]
        assert await call(svc, "GET", "/v1/notices?status=draft") == []
        assert [n["id"] for n in await call(svc, "GET", "/v1/notices?status=sent")] == [draft["id"]]


async def test_a_recorded_answer_counts_and_a_decline_blocks_the_notice(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, PROCESSOR | {"customers": ["cust-1", "cust-2"]})
        await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE})
        # Two customers: the notice names on whose behalf it goes.
        unnamed = await svc.client.post(f"/v1/incidents/{iid}/notices", json={"kind": "individuals"}, headers=H)
        assert assert_problem(unnamed, 422)["errors"] == [{"field": "customer_id"}]
        body = {"kind": "individuals", "customer_id": "cust-2"}
        first = await call(svc, "POST", f"/v1/incidents/{iid}/notices", body, 201)
        asked = await call(svc, "POST", f"/v1/notices/{first['id']}/approval-request", None, 201)
        mailed = await call(svc, "GET", f"/v1/notice-approvals/{asked['id']}/claim", headers=auth("acme", *CLAIM))
        link = urlsplit(mailed["context"]["url"]).path

        no_reason = {"decision": "declined", "name": "Initech DPO", "means": "Phone call"}
        assert_problem(await svc.client.post(f"/v1/notices/{first['id']}/approval", json=no_reason, headers=H), 422)
        declined = await call(
            svc,
            "POST",
            f"/v1/notices/{first['id']}/approval",
            no_reason | {"reason": "Say which products were concerned.", "customer_reference": "INI-77"},
            201,
        )
        assert (declined["method"], declined["status"], declined["recorded_by"]) == (
            "recorded",
            "declined",
            "privops-cli",
        )
        refused = await svc.client.post(f"/v1/notices/{first['id']}/send", json={}, headers=H)
        assert assert_problem(refused, 409)["rule"] == "ApprovalDeclined"
        # Answered by other means: the link mailed before can no longer decide, nor be mailed again.
        late = await svc.client.post(link, json={"decision": "approve", "name": "Someone else"})
        assert assert_problem(late, 409)["rule"] == "ApprovalClosed"
        assert_problem(
            await svc.client.get(f"/v1/notice-approvals/{asked['id']}/claim", headers=auth("acme", *CLAIM)), 410
        )

        # The link mailed before is still pending, but it has expired.
        svc.clock.advance(timedelta(hours=73))  # type: ignore[attr-defined]
        claim = await call(
            svc, "GET", f"/v1/notice-approvals/{asked['id']}/claim", status=410, headers=auth("acme", *CLAIM)
        )
        assert "expired" in claim["detail"]

        second = await call(svc, "POST", f"/v1/incidents/{iid}/notices", body, 201)
        approval = {
            "decision": "approved",
            "name": "Initech DPO",
            "email": "dpo@initech.test",
            "means": "Signed letter, ticket SEC-118",
            "received_at": "2026-03-05T08:00:00Z",
        }
        recorded = await call(svc, "POST", f"/v1/notices/{second['id']}/approval", approval, 201)
        assert (recorded["decided_at"], recorded["decided_by_email"]) == ("2026-03-05T08:00:00Z", "dpo@initech.test")
        sent = await call(svc, "POST", f"/v1/notices/{second['id']}/send", {})
        assert sent["approval_status"] == "approved" and len(sent["deliveries"]) == 2


async def test_an_expired_link_cannot_decide(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix, approval_link_hours=1) as svc:
        iid = await high_risk(svc, PROCESSOR)
        draft = await call(svc, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)
        asked = await call(svc, "POST", f"/v1/notices/{draft['id']}/approval-request", None, 201)
        claimed = await call(svc, "GET", f"/v1/notice-approvals/{asked['id']}/claim", headers=auth("acme", *CLAIM))
        link = urlsplit(claimed["context"]["url"]).path
        svc.clock.advance(timedelta(minutes=61))  # type: ignore[attr-defined]
        assert "expired" in assert_problem(await svc.client.get(link), 410)["detail"]
        late = await svc.client.post(link, json={"decision": "approve", "name": "Grace Hopper"})
        assert "expired" in assert_problem(late, 410)["detail"]
        assert (await call(svc, "GET", f"/v1/notices/{draft['id']}"))["approval_status"] == "pending"


async def test_a_public_communication_stands_in_for_telling_each_person(infra: Infra, topic_prefix: str) -> None:
    """GDPR Art. 34(3)(c): disproportionate effort; the notice then counts as sent."""
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, INCIDENT)
        draft = await call(svc, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)
        made = {
            "channel": "website",
            "url": "https://acme.test/security-notice",
            "published_at": "2026-03-02T08:30:00Z",
            "text": draft["bodies"]["en"],
            "reason": "No contact details are held for 40,000 former customers.",
        }
        notice = await call(svc, "POST", f"/v1/notices/{draft['id']}/public-communication", made)
        assert notice["status"] == "sent" and notice["deliveries"] == []
        assert notice["public_communication"]["url"] == "https://acme.test/security-notice"
        assert notice["public_communication"]["reason"] == made["reason"]
        deadlines = await call(svc, "GET", f"/v1/incidents/{iid}/deadlines")
        assert next(d for d in deadlines if d["audience"] == "individuals")["status"] == "met"
        again = await svc.client.post(f"/v1/notices/{draft['id']}/public-communication", json=made, headers=H)
        assert_problem(again, 409)
        authority = await call(
            svc,
            "POST",
            f"/v1/incidents/{iid}/notices",
            {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Pending."}},
            201,
        )
        not_people = await svc.client.post(f"/v1/notices/{authority['id']}/public-communication", json=made, headers=H)
        assert_problem(not_people, 422)
        events = [e for e in await published(svc, BREACH_EVENTS) if "public_communication" in e.type]
        assert [e.data["channel"] for e in events] == ["website"]

        # As processor, a public communication is on the customer's behalf too: approval first.
        pid = await high_risk(svc, PROCESSOR)
        theirs = await call(svc, "POST", f"/v1/incidents/{pid}/notices", {"kind": "individuals"}, 201)
        blocked = await svc.client.post(f"/v1/notices/{theirs['id']}/public-communication", json=made, headers=H)
        assert assert_problem(blocked, 409)["rule"] == "ApprovalRequired"


async def test_addresses_go_when_the_incident_closes_or_the_person_asks(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, INCIDENT)
        await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE})
        again = await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE[:1]})
        assert again == {"added": 0, "total": 2, "with_address": 2}
        ada = ref_of(svc, "ada@example.com")
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            result = await BreachStore().erase(uow, TaskInput(tenant_id="acme", subject_ref=ada, action="erase"))
            await session.commit()
        assert result.outcome == "done"
        assert len(await sql(svc, "SELECT 1 FROM affected_contact")) == 1  # Ada's address is erased with her ref

        await call(svc, "POST", f"/v1/incidents/{iid}/close", {"reason": "Handled by phone."})
        assert await sql(svc, "SELECT contact_enc IS NULL FROM affected_contact") == [(True,)]
        timeline = await call(svc, "GET", f"/v1/incidents/{iid}/timeline")
        purged = next(t for t in timeline if t["kind"] == "contacts.purged")
        assert purged["detail"] == {"purged": 1, "why": "the incident closed"}


async def test_who_may_call_what(infra: Infra, topic_prefix: str) -> None:
    """No token 401, wrong scope 403, another tenant's object 404, bad input 422 with nothing changed."""
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, PROCESSOR)
        draft = await call(svc, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)
        nid = draft["id"]
        approval = {"decision": "approved", "name": "Grace Hopper", "means": "call"}
        made = {"channel": "website", "published_at": "2026-03-02T08:30:00Z", "text": "t", "reason": "r"}
        writes = [
            (f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE}),
            (f"/v1/notices/{nid}/approval-request", None),
            (f"/v1/notices/{nid}/approval", approval),
            (f"/v1/notices/{nid}/public-communication", made),
        ]
        for path, body in writes:
            assert_problem(await svc.client.post(path, json=body), 401)
            assert_problem(await svc.client.post(path, json=body, headers=auth("acme", "breach:read")), 403)
            assert_problem(await svc.client.post(path, json=body, headers=auth("globex", *WRITER)), 404)
        reads = [f"/v1/notices/{nid}/deliveries", f"/v1/notices/{nid}/approvals"]
        for path in reads:
            assert_problem(await svc.client.get(path), 401)
            assert_problem(await svc.client.get(path, headers=auth("acme", "consent:read")), 403)
            assert_problem(await svc.client.get(path, headers=auth("globex", "breach:read")), 404)
        claim = f"/v1/notice-approvals/{uuid.uuid4()}/claim"
        assert_problem(await svc.client.get(claim), 401)
        assert_problem(await svc.client.get(claim, headers=auth("acme", "breach:write")), 403)
        assert_problem(await svc.client.get(claim, headers=auth("acme", *CLAIM)), 404)

        bad = [
            {"contacts": []},
            {"contacts": [{"email": "not-an-address"}]},
            {"contacts": [{"email": "a@b.test", "locale": "French!"}]},
            {"contacts": [{"email": "a@b.test", "phone": "+33"}]},
        ]
        for body in bad:
            response = await svc.client.post(f"/v1/incidents/{iid}/affected-contacts", json=body, headers=H)
            assert_problem(response, 422)
        assert await sql(svc, "SELECT 1 FROM affected_contact") == []
        assert_problem(
            await svc.client.post(f"/v1/notices/{nid}/approval", json=approval | {"decision": "maybe"}, headers=H), 422
        )
        assert (await call(svc, "GET", f"/v1/notices/{nid}"))["approval_status"] == "pending"


async def test_ten_thousand_people_are_attached_in_one_call(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = await high_risk(svc, INCIDENT)
        many = [{"email": f"customer{n}@example.com"} for n in range(10_000)]
        attached = await call(svc, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": many})
        assert attached == {"added": 10_000, "total": 10_000, "with_address": 10_000}
        refs = [f"{n:064x}" for n in range(10_000)]
        by_reference = await call(svc, "POST", f"/v1/incidents/{iid}/affected-subjects", {"subject_refs": refs})
        assert by_reference == {"added": 10_000, "total": 20_000}
