"""Consent receipts: ISO/IEC TS 27560 fields, signed once, verifiable with the public keys alone, mailed."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from sqlalchemy import text

from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed
from shared.events.envelope import CloudEvent
from shared.events.topics import NOTIFICATIONS
from tests.integration.breach.support import produce  # an event published as another service would
from tests.integration.consent.conftest import ADA, ADMIN, READ, WRITE, counts, decide, hot_path_count
from tests.support.stack import Infra, RunningService, auth, eventually, read_topic, run_service

pytestmark = pytest.mark.integration

CLAIM = auth("acme", "notify:claim")
NOTIFY = "/privops/notify"
PROFILE = {
    "name": "Example SAS",
    "contact": "Data Protection Officer",
    "address": "1 rue de la Paix, 75002 Paris",
    "email": "dpo@example.com",
    "phone": "+33 1 23 45 67 89",
    "url": "https://example.com",
    "policy_url": "https://example.com/privacy",
    "jurisdiction": "FR",
}
GRANT = {"subject": ADA, "purpose": "newsletter", "decision": "granted", "channel": "web", "proof": {"language": "fr"}}


async def with_profile(svc: RunningService) -> None:
    response = await svc.client.put("/v1/controller", json=PROFILE, headers=ADMIN)
    assert response.status_code == 200, response.text


async def public_jwks(svc: RunningService, jwks_url: str) -> dict[str, Any]:
    """The tenant's document keys, fetched like anyone would: no token."""
    response = await svc.client.get(urlsplit(jwks_url).path)
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify(jws: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The check the README documents: PyJWT and the published key set, nothing else."""
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(jws)["kid"]].key
    return dict(jwt.decode(jws, key, algorithms=["EdDSA"]))


async def sql(svc: RunningService, statement: str, **params: Any) -> list[Any]:
    async with svc.runtime.database.session() as session:
        return list((await (await session.connection()).execute(text(statement), params)).all())


async def test_a_tenant_without_controller_profile_is_told_what_to_do(consent: RunningService) -> None:
    record = await decide(consent, "newsletter", "granted")
    response = await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "PUT /v1/controller" in problem["detail"]
    assert problem["required_fields"] == ["name", "contact", "address", "email", "phone", "policy_url"]
    # Asking for a receipt by mail without a profile refuses the decision too: nothing is written.
    before = await counts(consent)
    refused = await consent.client.post("/v1/consents", json=GRANT | {"receipt_to": "ada@example.com"}, headers=WRITE)
    assert refused.status_code == 409 and "PUT /v1/controller" in refused.json()["detail"]
    assert await counts(consent) == before
    # Another tenant's record stays a 404, whatever the profile.
    other = await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=auth("globex", "consent:read"))
    assert other.status_code == 404


async def test_the_receipt_is_signed_once_and_verifies_with_the_public_keys(consent: RunningService) -> None:
    await with_profile(consent)
    record = await decide(consent, "newsletter", "granted", channel="web", proof={"language": "fr"})
    url = f"/v1/consents/{record['id']}/receipt"
    first = await consent.client.get(url, headers=READ)
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"receipt", "jws", "jwks_url"}
    assert body["jwks_url"].endswith("/.well-known/privops/tenants/acme/jwks.json")
    receipt = body["receipt"]
    assert receipt["schema_version"].startswith("ISO/IEC TS 27560:2023")
    assert receipt["record_id"] == record["id"] and receipt["pii_principal_id"] == record["subject_ref"]
    assert receipt["language"] == "fr" and receipt["jurisdiction"] == "FR"
    assert receipt["parties"][0]["party_name"] == "Example SAS"
    assert receipt["purposes"][0]["pii_information"] == [{"pii_type": "contact.email"}]
    assert receipt["events"][0]["event_state"] == "given"
    assert receipt["iss"].endswith("/tenants/acme")

    # Anyone checks it with the tenant's published keys, fetched without a token, and PyJWT.
    jwks = await public_jwks(consent, body["jwks_url"])
    assert verify(body["jws"], jwks) == receipt
    assert jwt.get_unverified_header(body["jws"])["typ"] == "consent-receipt+jwt"
    # The same receipt, read again (and after the profile changed), is the same bytes.
    await consent.client.put("/v1/controller", json=PROFILE | {"name": "Renamed SAS"}, headers=ADMIN)
    consent.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    second = await consent.client.get(url, headers=READ)
    assert second.content == first.content
    as_jwt = await consent.client.get(url, headers=READ | {"Accept": "application/jwt"})
    assert as_jwt.headers["content-type"].startswith("application/jwt") and as_jwt.text == body["jws"]

    # A receipt changed in transit no longer verifies.
    header, payload, signature = body["jws"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["events"][0]["event_state"] = "withdrawn"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{header}.{forged_payload}.{signature}", jwks)
    # Another tenant's keys do not verify it either.
    globex = await public_jwks(consent, "/.well-known/privops/tenants/globex/jwks.json")
    with pytest.raises((KeyError, jwt.PyJWTError)):
        verify(body["jws"], globex)

    # The Kantara v1.1 view of the same receipt, for older tools.
    kantara = (await consent.client.get(url, params={"format": "kantara"}, headers=READ)).json()
    assert kantara["version"] == "KI-CR-v1.1.0"
    assert kantara["consentReceiptID"] == receipt["receipt_id"] and kantara["piiPrincipalId"] == record["subject_ref"]
    assert kantara["services"][0]["purposes"][0]["piiCategory"] == ["contact.email"]
    assert kantara["piiControllers"][0]["piiController"] == "Example SAS"  # the receipt as signed
    assert (await consent.client.get(url)).status_code == 401
    assert (await consent.client.get(url, headers=auth("acme", "dsar:read"))).status_code == 403


async def test_receipt_to_mails_the_receipt_and_forgets_the_address(consent: RunningService, infra: Infra) -> None:
    await with_profile(consent)
    await consent.wait_consumers_ready()
    await decide(consent, "newsletter", "denied")  # the purpose's rules are cached: the hot path could answer
    served = hot_path_count("/v1/consents", "served")
    response = await consent.client.post(
        "/v1/consents", json=GRANT | {"receipt_to": " Ada@Example.com "}, headers=WRITE
    )
    assert response.status_code == 201, response.text
    assert hot_path_count("/v1/consents", "served") == served  # a receipt by mail goes through the route
    record = response.json()
    receipt_id = record["receipt_id"]
    assert receipt_id is not None

    records = await read_topic(infra.broker.bootstrap, consent.settings.topic(NOTIFICATIONS), expect=1)
    event = CloudEvent.from_kafka(list(records[0].headers), records[0].value)
    assert event.type == "io.privops.notification.requested"
    assert event.data["template"] == "consent.receipt" and event.data["channel"] == "email"
    assert event.data["recipient_ref"] == record["subject_ref"] and event.data["locale"] == "fr"
    assert "example.com" not in json.dumps(event.data).lower()  # the address never travels on the bus
    claim_path = urlsplit(event.data["claim_url"]).path
    notification_id = event.data["notification_id"]
    assert claim_path == f"/v1/notifications/{notification_id}/claim"

    assert (await consent.client.get(claim_path)).status_code == 401
    assert (await consent.client.get(claim_path, headers=READ)).status_code == 403
    assert (await consent.client.get(claim_path, headers=ADMIN)).status_code == 403
    assert (await consent.client.get(claim_path, headers=auth("globex", "notify:claim"))).status_code == 404
    claim = await consent.client.get(claim_path, headers=CLAIM)
    assert claim.status_code == 200, claim.text
    answer = claim.json()
    assert (answer["to"], answer["template"], answer["channel"], answer["locale"]) == (
        "ada@example.com",
        "consent.receipt",
        "email",
        "fr",
    )
    context = answer["context"]
    assert context["receipt_id"] == receipt_id
    assert (context["purpose"], context["controller"], context["decision"]) == ("Newsletter", "Example SAS", "granted")

    # The link in the mail: no token, the key is the credential; a wrong or missing key is a 404.
    link = urlsplit(context["url"])
    assert link.path == f"/v1/public/acme/receipts/{receipt_id}" and link.query.startswith("key=")
    public = await consent.client.get(f"{link.path}?{link.query}")
    assert public.status_code == 200, public.text
    signed = await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)
    assert public.content == signed.content  # the same signed receipt
    assert verify(public.json()["jws"], await public_jwks(consent, public.json()["jwks_url"]))["receipt_id"] == (
        receipt_id
    )
    assert (await consent.client.get(link.path)).status_code == 404
    assert (await consent.client.get(link.path, params={"key": "x" * 43})).status_code == 404
    assert (await consent.client.get(f"/v1/public/globex/receipts/{receipt_id}?{link.query}")).status_code == 404
    stored = await sql(consent, "SELECT key_hash FROM consent_receipt")
    assert stored[0][0] != link.query.removeprefix("key=")  # only a keyed hash of the key is kept

    # Delivered: the address is purged, the claim is gone; the link still works.
    delivered = NotificationDelivered(
        notification_id=uuid.UUID(notification_id),
        origin="consent",
        channel="email",
        template="consent.receipt",
        attempts=1,
        at=consent.clock.now(),
    )
    await produce(consent, delivered, source=NOTIFY)

    async def purged() -> bool:
        rows = await sql(consent, "SELECT recipient_enc IS NULL, delivery FROM consent_receipt")
        return rows == [(True, "delivered")]

    assert await eventually(purged)
    gone = await consent.client.get(claim_path, headers=CLAIM)
    assert gone.status_code == 410
    assert (await consent.client.get(f"{link.path}?{link.query}")).status_code == 200
    audit = await sql(consent, "SELECT detail::text FROM audit_log WHERE entity_type = 'consent_receipt'")
    assert audit and not any("example.com" in d.lower() for (d,) in audit)


async def test_a_failed_or_unclaimed_message_leaves_no_address(consent: RunningService) -> None:
    await with_profile(consent)
    await consent.wait_consumers_ready()
    bounced = await decide(consent, "newsletter", "granted", receipt_to="ada@example.com")
    await decide(consent, "cookies.analytics", "granted", receipt_to="ada@example.com")
    (notification_id,) = (
        await sql(
            consent,
            "SELECT notification_id FROM consent_receipt WHERE record_id = CAST(:record AS uuid)",
            record=bounced["id"],
        )
    )[0]
    failed = NotificationFailed(
        notification_id=notification_id,
        origin="consent",
        channel="email",
        template="consent.receipt",
        attempts=3,
        at=consent.clock.now(),
        reason="550 5.1.1 mailbox unavailable",
    )
    await produce(consent, failed, source=NOTIFY)

    async def failed_purged() -> bool:
        rows = await sql(
            consent,
            "SELECT recipient_enc IS NULL FROM consent_receipt WHERE record_id = CAST(:record AS uuid)",
            record=bounced["id"],
        )
        return rows == [(True,)]

    assert await eventually(failed_purged)
    # The other message was never claimed: its address goes when the claim window closes.
    consent.clock.advance(timedelta(hours=consent.settings.receipt_claim_ttl_hours, seconds=1))  # type: ignore[attr-defined]
    assert await consent.runtime.jobs.run_once("consent.receipt-addresses") == 1
    assert await sql(consent, "SELECT count(*) FROM consent_receipt WHERE recipient_enc IS NOT NULL") == [(0,)]


async def test_the_development_keys_are_published_without_a_token(consent: RunningService) -> None:
    response = await consent.client.get("/.well-known/privops/tenants/acme/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "EdDSA"
    assert "d" not in keys[0]  # never the private part
    bad = await consent.client.get("/.well-known/privops/tenants/a%20b/jwks.json")
    assert bad.status_code == 404


async def test_with_an_identity_service_the_keys_are_its_own(infra: Infra, topic_prefix: str) -> None:
    """In production the identity service holds and publishes the document keys: the route sends readers there."""
    settings = infra.settings(
        "consent",
        infra.fresh_database("consent"),
        topic_prefix,
        jwt_secret=None,
        identity_url="https://identity.example",
        client_id="privops-consent",
        client_secret="s" * 40,
        jobs_enabled=False,
    )
    async with run_service("consent", settings) as svc:
        response = await svc.client.get("/.well-known/privops/tenants/acme/jwks.json")
    assert response.status_code == 307
    assert response.headers["location"] == "https://identity.example/.well-known/privops/tenants/acme/jwks.json"
