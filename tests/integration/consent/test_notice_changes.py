"""Notice versions people are told about: texts served publicly with their history, a material change told to
every granting subject through notify (or counted as unreachable), renewal in the checks, outcomes, the banner,
unsubscribing from informational messages, and erasure of the address."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from services.consent.domain.notices import text_hash
from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed, NotificationSent
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS, NOTIFICATION_OUTCOMES, NOTIFICATIONS
from tests.integration.consent.conftest import ADMIN, READ, check
from tests.support.notifications import claim_headers, report_outcome
from tests.support.stack import Infra, RunningService, auth, eventually, read_topic

pytestmark = pytest.mark.integration

V1 = {
    "title": "Our newsletter",
    "text": "We send our newsletter weekly.\r\n\r\nUnsubscribe at any time.",
    "language": "en",
}
V2 = {
    "title": "Our newsletter",
    "text": "We send our newsletter weekly, with offers of our partners.",
    "summary": "Partners' offers are now part of the newsletter.",
    "material": True,
}
PUBLIC = "/v1/public/tenants/acme"


def person(n: int) -> dict[str, str]:
    return {"kind": "email", "value": f"person{n}@example.com"}


async def publish(svc: RunningService, purpose: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    svc.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    response = await svc.client.post(f"/v1/purposes/{purpose}/notices", json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    return dict(response.json())


async def grant(svc: RunningService, n: int, purpose: str = "newsletter", **extra: Any) -> str:
    body = {"subject": person(n), "purpose": purpose, "decision": "granted"} | extra
    response = await svc.client.post("/v1/consents", json=body, headers=auth("acme", "consent:write"))
    assert response.status_code == 201, response.text
    return str(response.json()["subject_ref"])


async def sql(svc: RunningService, statement: str, **params: Any) -> list[Any]:
    async with svc.runtime.database.session() as session:
        return list((await (await session.connection()).execute(text(statement), params)).all())


async def requested(infra: Infra, svc: RunningService, expect: int) -> list[CloudEvent]:
    records = await read_topic(infra.broker.bootstrap, svc.settings.topic(NOTIFICATIONS), expect=expect, timeout=10)
    return [CloudEvent.from_kafka(list(r.headers), r.value) for r in records]


async def audience(svc: RunningService) -> dict[int, str]:
    """Five people grant the newsletter under version 1: three gave an address (one reads French), two did not.

    A sixth withdrew and a seventh granted another purpose only: neither is concerned by the change.
    """
    await publish(svc, "newsletter", V1)
    refs = {}
    for n in range(1, 4):
        language = {"language": "fr" if n == 1 else "en"}
        refs[n] = await grant(svc, n, contact_email=f"Person{n}@Example.com", proof=language)
    for n in (4, 5):
        refs[n] = await grant(svc, n)
    await grant(svc, 6, contact_email="person6@example.com")
    await grant(svc, 6, decision="withdrawn")
    await grant(svc, 7, purpose="cookies.analytics", contact_email="person7@example.com")
    return refs


async def test_a_material_change_tells_each_granting_subject_or_counts_them_unreachable(
    consent: RunningService, infra: Infra
) -> None:
    refs = await audience(consent)
    published = await publish(consent, "newsletter", V2)
    assert (published["version"], published["material"], published["requires_renewal"]) == (2, True, True)

    events = await requested(infra, consent, expect=4)
    assert len(events) == 3, [e.data for e in events]  # N granting subjects − 2 unreachable
    assert {e.data["recipient_ref"] for e in events} == {refs[1], refs[2], refs[3]}
    assert {e.data["template"] for e in events} == {"consent.notice.changed"}
    assert sorted(str(e.data["locale"]) for e in events) == ["en", "en", "fr"]
    assert not any("example.com" in json.dumps(e.data).lower() for e in events)  # no address on the bus
    changed = await read_topic(infra.broker.bootstrap, consent.settings.topic(CONSENT_EVENTS), expect=20, timeout=5)
    (told,) = [
        e.data
        for e in (CloudEvent.from_kafka(list(r.headers), r.value) for r in changed)
        if e.type == "io.privops.consent.notice.changed"
    ]
    assert (told["notice_version"], told["targeted"], told["requested"], told["unreachable"]) == (2, 5, 3, 2)

    campaign = await consent.client.get("/v1/purposes/newsletter/notices/2/campaign", headers=READ)
    assert campaign.status_code == 200, campaign.text
    counts = campaign.json()
    assert {k: counts[k] for k in ("targeted", "requested", "delivered", "failed", "unreachable", "opted_out")} == {
        "targeted": 5,
        "requested": 3,
        "delivered": 0,
        "failed": 0,
        "unreachable": 2,
        "opted_out": 0,
    }
    page = await consent.client.get("/v1/purposes/newsletter/notices/2/campaign/recipients?limit=3", headers=READ)
    assert page.status_code == 200, page.text
    first = page.json()
    rest = await consent.client.get(
        f"/v1/purposes/newsletter/notices/2/campaign/recipients?limit=3&after={first['next_after']}", headers=READ
    )
    rows = first["items"] + rest.json()["items"]
    assert rest.json()["next_after"] is None
    assert {r["subject_ref"]: r["status"] for r in rows} == {
        refs[1]: "requested",
        refs[2]: "requested",
        refs[3]: "requested",
        refs[4]: "unreachable",
        refs[5]: "unreachable",
    }

    # The claim answers the address (as given, normalised), the language and what the template needs.
    fr = next(e for e in events if e.data["locale"] == "fr")
    claim_path = urlsplit(fr.data["claim_url"]).path
    assert claim_path == f"/v1/notice-messages/{fr.data['notification_id']}/claim"
    assert (await consent.client.get(claim_path)).status_code == 401
    assert (await consent.client.get(claim_path, headers=ADMIN)).status_code == 403
    assert (await consent.client.get(claim_path, headers=claim_headers("globex"))).status_code == 404
    claimed = await consent.client.get(claim_path, headers=claim_headers("acme"))
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert (body["to"], body["locale"], body["template"], body["channel"]) == (
        "person1@example.com",
        "fr",
        "consent.notice.changed",
        "email",
    )
    context = body["context"]
    assert (context["purpose"], context["version"], context["summary"]) == ("Newsletter", 2, V2["summary"])
    assert context["renewal"] is True and context["unsubscribe_url"] is None  # a required message: no opt-out
    assert context["renewal_url"] is None  # no portal configured in this test

    # The link to the previous text works without a token, and stays readable.
    previous = await consent.client.get(urlsplit(context["previous_url"]).path)
    assert previous.status_code == 200, previous.text
    assert previous.json()["text"] == V1["text"].replace("\r\n", "\n") and previous.json()["version"] == 1
    assert previous.json()["text_hash"] == text_hash(V1["text"])

    # Grants under version 1 now need renewal; a grant under version 2 does not.
    assert (await check(consent, "newsletter", subject=person(1)))["newsletter"]["reason"] == "needs_renewal"
    await grant(consent, 1)
    assert (await check(consent, "newsletter", subject=person(1)))["newsletter"]["allowed"] is True


async def test_outcomes_update_each_persons_status_and_the_counts(consent: RunningService, infra: Infra) -> None:
    await consent.wait_consumers_ready()
    refs = await audience(consent)
    await publish(consent, "newsletter", V2)
    events = {e.data["recipient_ref"]: e.data for e in await requested(infra, consent, expect=3)}
    topic = consent.settings.topic(NOTIFICATION_OUTCOMES)
    common = {"origin": "consent", "channel": "email", "template": "consent.notice.changed", "attempts": 1}
    at = consent.clock.now()
    first, second, third = (uuid.UUID(events[refs[n]]["notification_id"]) for n in (1, 2, 3))
    for outcome in (
        NotificationSent(notification_id=first, at=at, **common),
        NotificationDelivered(notification_id=first, at=at, **common),
        NotificationFailed(notification_id=second, at=at, reason="550 5.1.1 no such user", **common),
        NotificationSent(notification_id=third, at=at, **common),
    ):
        await report_outcome(infra.broker.bootstrap, topic, outcome, "acme")

    async def counted() -> dict[str, int] | None:
        body = (await consent.client.get("/v1/purposes/newsletter/notices/2/campaign", headers=READ)).json()
        counts = {k: body[k] for k in ("requested", "sent", "delivered", "failed")}
        return counts if counts == {"requested": 3, "sent": 1, "delivered": 1, "failed": 1} else None

    assert await eventually(counted)
    rows = (await consent.client.get("/v1/purposes/newsletter/notices/2/campaign/recipients", headers=READ)).json()
    status = {r["subject_ref"]: (r["status"], r["reason"]) for r in rows["items"]}
    assert status[refs[1]] == ("delivered", None)
    assert status[refs[2]] == ("failed", "550 5.1.1 no such user")
    assert status[refs[3]] == ("sent", None)


async def test_campaigns_answer_only_their_readers(consent: RunningService) -> None:
    await audience(consent)
    await publish(consent, "newsletter", V2)
    for path in ("/v1/purposes/newsletter/notices/2/campaign", "/v1/purposes/newsletter/notices/2/campaign/recipients"):
        assert (await consent.client.get(path)).status_code == 401
        assert (await consent.client.get(path, headers=auth("acme", "dsar:read"))).status_code == 403
        other = await consent.client.get(path, headers=auth("globex", "consent:read"))
        assert other.status_code == 404 and other.headers["content-type"].startswith("application/problem+json")
        assert (await consent.client.get(path, headers=READ)).status_code == 200
    # Version 1 was not a change anyone was told of.
    assert (await consent.client.get("/v1/purposes/newsletter/notices/1/campaign", headers=READ)).status_code == 404


async def test_texts_and_their_history_are_public(consent: RunningService) -> None:
    await publish(consent, "newsletter", V1)
    await publish(consent, "newsletter", V2 | {"requires_renewal": False})
    await publish(consent, "cookies.analytics", {"text_hash": "ab" * 32, "url": "https://example.com/cookies"})

    listed = await consent.client.get(f"{PUBLIC}/notices")
    assert listed.status_code == 200, listed.text
    purposes = {p["purpose"]: p for p in listed.json()["purposes"]}
    assert set(purposes) == {"newsletter", "cookies.analytics"}  # only purposes with a published notice
    assert purposes["newsletter"]["current_version"] == 2 and purposes["newsletter"]["name"] == "Newsletter"

    history = await consent.client.get(f"{PUBLIC}/notices/newsletter")
    assert [v["version"] for v in history.json()["versions"]] == [2, 1]
    assert history.json()["versions"][0]["summary"] == V2["summary"]

    version = f"{PUBLIC}/notices/newsletter/versions/1"
    as_text = await consent.client.get(version, headers={"Accept": "text/plain"})
    assert as_text.status_code == 200 and as_text.text == "We send our newsletter weekly.\n\nUnsubscribe at any time."
    as_html = await consent.client.get(version, headers={"Accept": "text/html"})
    assert as_html.headers["content-type"].startswith("text/html") and "<h1>Our newsletter</h1>" in as_html.text
    current = (await consent.client.get(f"{PUBLIC}/notices/newsletter/versions/2")).json()
    assert current["previous"].endswith("/v1/public/tenants/acme/notices/newsletter/versions/1")

    hash_only = f"{PUBLIC}/notices/cookies.analytics/versions/1"
    assert (await consent.client.get(hash_only)).json()["text"] is None
    assert (await consent.client.get(hash_only, headers={"Accept": "text/plain"})).status_code == 404

    for missing in (
        f"{PUBLIC}/notices/newsletter/versions/3",
        f"{PUBLIC}/notices/ads.targeted",  # a purpose without a notice
        f"{PUBLIC}/notices/nothing",
        "/v1/public/tenants/globex/notices",
        "/v1/public/tenants/globex/notices/newsletter/versions/1",
        "/v1/public/tenants/a%20b/notices",
    ):
        response = await consent.client.get(missing)
        assert response.status_code == 404, missing
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_text_must_match_its_hash_and_nothing_is_written_otherwise(consent: RunningService) -> None:
    wrong = await publish(consent, "newsletter", V1 | {"text_hash": "00" * 32}, status=422)
    assert wrong["errors"][0]["field"] == "text_hash"
    not_material = await publish(consent, "newsletter", V1 | {"requires_renewal": True}, status=422)
    assert "requires_renewal" in not_material["detail"]
    assert (await consent.client.get("/v1/purposes/newsletter/notices", headers=READ)).json() == []
    both = await publish(consent, "newsletter", V1 | {"text_hash": text_hash(V1["text"])})
    assert both["text_hash"] == text_hash(V1["text"])


async def test_the_banner_shows_recent_material_changes(consent: RunningService) -> None:
    assert (await consent.client.get(f"{PUBLIC}/banner")).json()["changes"] == []
    await publish(consent, "newsletter", V1)
    await publish(consent, "newsletter", V2)
    await publish(consent, "cookies.analytics", {"text": "Cookies measure use.", "title": "Cookies"})
    banner = (await consent.client.get(f"{PUBLIC}/banner")).json()
    assert banner["window_days"] == 30
    (change,) = banner["changes"]
    assert (change["purpose"], change["version"], change["title"], change["summary"]) == (
        "newsletter",
        2,
        "Our newsletter",
        V2["summary"],
    )
    assert change["link"].endswith("/notices/newsletter/versions/2")
    assert change["previous"].endswith("/notices/newsletter/versions/1")
    consent.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    assert (await consent.client.get(f"{PUBLIC}/banner")).json()["changes"] == []


async def test_an_informational_change_can_be_unsubscribed_from_but_not_a_renewal(
    consent: RunningService, infra: Infra
) -> None:
    refs = await audience(consent)
    await publish(consent, "newsletter", V2 | {"requires_renewal": False})
    events = {e.data["recipient_ref"]: e.data for e in await requested(infra, consent, expect=3)}
    claim_path = urlsplit(events[refs[2]]["claim_url"]).path
    context = (await consent.client.get(claim_path, headers=claim_headers("acme"))).json()["context"]
    assert context["renewal"] is False
    link = urlsplit(context["unsubscribe_url"])
    assert link.path == f"{PUBLIC}/unsubscribe"
    token = parse_qs(link.query)["token"][0]

    # Following the link changes nothing (mail scanners follow links); the button does.
    page = await consent.client.get(f"{link.path}?{link.query}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'method="post"' in page.text
    assert (await consent.client.get(link.path, params={"token": token})).json()["unsubscribed"] is False
    for bad in (None, token[:-1] + ("0" if token[-1] != "0" else "1"), f"{refs[4]}.{'0' * 64}"):
        refused = await consent.client.post(link.path, params={"token": bad} if bad else {})
        assert refused.status_code == 404
    other = await consent.client.post(f"/v1/public/tenants/globex/unsubscribe?{link.query}")
    assert other.status_code == 404
    done = await consent.client.post(link.path, params={"token": token})
    assert done.status_code == 200 and done.json()["unsubscribed"] is True
    # The message asked before the opt-out is no longer claimed.
    assert (await consent.client.get(claim_path, headers=claim_headers("acme"))).status_code == 410

    # The next informational change skips them; a change asking for fresh consent reaches them all the same.
    await publish(consent, "newsletter", V2 | {"requires_renewal": False, "text": "Version 3."})
    assert (await consent.client.get("/v1/purposes/newsletter/notices/3/campaign", headers=READ)).json()[
        "opted_out"
    ] == 1
    await publish(consent, "newsletter", V2 | {"text": "Version 4."})
    v4 = (await consent.client.get("/v1/purposes/newsletter/notices/4/campaign", headers=READ)).json()
    assert (v4["requested"], v4["opted_out"], v4["requires_renewal"]) == (3, 0, True)


async def test_erasure_forgets_the_address_and_who_was_told(consent: RunningService, infra: Infra) -> None:
    from services.consent.service.store import ConsentStore
    from shared.bus.store import TaskInput
    from shared.runtime.uow import UnitOfWork

    refs = await audience(consent)
    await publish(consent, "newsletter", V2)
    events = {e.data["recipient_ref"]: e.data for e in await requested(infra, consent, expect=3)}
    async with consent.runtime.database.session() as session:
        uow = UnitOfWork(session, consent.settings, consent.clock, "acme", "test")
        task = TaskInput(tenant_id="acme", subject_ref=refs[1], action="access", request_id=uuid.uuid4())
        exported = await ConsentStore().export(uow, task)
        assert [i["email"] for i in exported if i["type"] == "contact"] == ["person1@example.com"]
        await ConsentStore().erase(uow, task)
        await session.commit()
    assert await sql(consent, "SELECT count(*) FROM subject_contact WHERE subject_ref = :r", r=refs[1]) == [(0,)]
    assert await sql(consent, "SELECT count(*) FROM notice_recipient WHERE subject_ref = :r", r=refs[1]) == [(0,)]
    gone = await consent.client.get(urlsplit(events[refs[1]]["claim_url"]).path, headers=claim_headers("acme"))
    assert gone.status_code == 404  # nothing left that names the message
    stored = await sql(consent, "SELECT email_enc FROM subject_contact")
    assert stored and not any(b"example.com" in bytes(row[0]) for row in stored)  # sealed
