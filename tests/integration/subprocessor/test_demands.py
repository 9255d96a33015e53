"""Demands from public authorities, end to end: the customer mailed through notify and the real SMTP server (or
later, for a recorded legal reason whose lapse alerts the privacy team), a second person's review, and the
disclosure reaching the DSAR service's access package."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from deploy.local.infra import free_port
from services.notify.jobs import DELIVER
from services.subprocessor.jobs import DEMAND_DEFERRALS
from services.subprocessor.models import AuthorityDemand
from services.subprocessor.service import demands as demand_service
from services.subprocessor.settings import SubprocessorSettings
from shared.events.catalogue import decode
from shared.events.envelope import CloudEvent
from shared.events.topics import NOTIFICATIONS, SUBPROCESSOR_EVENTS
from shared.rules.clock import ManualClock
from shared.rules.subjects import subject_ref
from shared.runtime.uow import UnitOfWork
from tests.integration.breach.support import assert_problem
from tests.integration.dsar.support import ADMIN as DSAR_ADMIN
from tests.integration.dsar.support import READ as DSAR_READ
from tests.integration.dsar.support import request_body, serve_dsar
from tests.integration.notify.support import parts, smtp_server
from tests.integration.sdk.support import until_state, verify_by_code
from tests.support.stack import (
    SUBJECT_KEY,
    Infra,
    RunningService,
    auth,
    eventually,
    read_topic,
    run_service,
    serve_http,
    token,
)

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT = "acme"
# Two people: whoever records a demand may not decide it.
ALICE = {"Authorization": f"Bearer {token(TENANT, 'subprocessor:write', subject='user:alice')}"}
BOB = {"Authorization": f"Bearer {token(TENANT, 'subprocessor:admin', subject='user:bob')}"}
ALICE_ADMIN = {"Authorization": f"Bearer {token(TENANT, 'subprocessor:admin', subject='user:alice')}"}
READ = auth(TENANT, "subprocessor:read")
CLAIM = auth(TENANT, "notify:claim")
ADA = "Ada@Example.com"  # the person of dsar's request_body()


async def call(svc: RunningService, method: str, path: str, body: Any = None, headers: Any = ALICE) -> Any:
    response = await svc.client.request(method, path, json=body, headers=headers)
    assert response.status_code < 300, f"{method} {path}: {response.text}"
    return response.json()


async def customer(svc: RunningService, contacts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Umbrella Corp, whose DPO reads French."""
    contacts = contacts if contacts is not None else [{"email": "dpo@umbrella.example", "locale": "fr"}]
    body = {"reference": "umbrella", "name": "Umbrella Corp", "contacts": contacts}
    return dict(await call(svc, "POST", "/v1/customers", body))


def demand_body(customer_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "authority": {"name": "Brigade de répression de la délinquance astucieuse", "country": "fr"},
        "legal_basis": {"text": "Réquisition judiciaire", "reference": "Code de procédure pénale, art. 60-1"},
        "authority_reference": "BRDA-2026-0412",
        "received_at": (START - timedelta(hours=2)).isoformat(),
        "customer_id": customer_id,
        "subjects": [{"kind": "email", "value": ADA}, {"kind": "user_id", "value": "u-42"}],
        "data_categories": ["contact_details", "connection_logs"],
        **extra,
    }


def gag(days: int = 30) -> dict[str, Any]:
    return {
        "reason": "The investigating judge forbids telling the customer while the investigation runs.",
        "instrument": "Ordonnance de non-divulgation, TJ Paris, 2026/118",
        "until": (START + timedelta(days=days)).isoformat(),
    }


async def requested(svc: RunningService, expect: int) -> list[Any]:
    """The NotificationRequested events on the bus."""
    records = await read_topic(svc.settings.kafka_bootstrap_servers, svc.settings.topic(NOTIFICATIONS), expect=expect)
    return [decode(CloudEvent.from_kafka(r.headers, r.value)) for r in records]


@contextlib.asynccontextmanager
async def served_subprocessor(infra: Infra, topic_prefix: str, clock: ManualClock) -> AsyncIterator[RunningService]:
    """The subprocessor service on a real loopback port (notify claims its messages over HTTP)."""
    port = free_port()
    settings = infra.settings(
        "subprocessor",
        infra.fresh_database("subprocessor"),
        topic_prefix,
        jobs_enabled=False,
        public_url=f"http://127.0.0.1:{port}",
    )
    async with run_service("subprocessor", settings, clock) as svc, serve_http(svc.app, port=port):
        yield svc


async def test_the_customer_is_mailed_at_once_or_when_a_recorded_prohibition_lapses(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    with smtp_server(tmp_path) as smtp:
        async with served_subprocessor(infra, topic_prefix, clock) as svc:
            notify_settings = infra.settings(
                "notify",
                infra.fresh_database("notify"),
                topic_prefix,
                jobs_enabled=False,
                service_urls={"subprocessor": svc.settings.public_url},
                **smtp.settings(),
            )
            async with run_service("notify", notify_settings, clock) as notify:
                await notify.wait_consumers_ready()
                await svc.wait_consumers_ready()
                profile = {"default_locale": "en", "alert_emails": ["privacy@acme.example"]}
                assert (
                    await notify.client.put("/v1/profile", json=profile, headers=auth(TENANT, "notify:admin"))
                ).status_code == 200
                umbrella = await customer(svc)

                # Recorded: the customer's contact is asked for at once, by reference only.
                demand = await call(svc, "POST", "/v1/demands", demand_body(umbrella["id"]))
                assert (demand["status"], demand["notification"]) == ("received", "requested")
                assert demand["authority_country"] == "FR" and len(demand["subject_refs"]) == 2
                assert demand["outside_eea"] is False
                ada = subject_ref(SUBJECT_KEY.encode(), "email", ADA, tenant=TENANT)
                assert ada in demand["subject_refs"]
                (email,) = [e for e in demand["timeline"] if e["kind"] == "email"]
                (event,) = await requested(svc, 1)
                assert event.template == "subprocessor.demand.received"
                assert str(event.notification_id) == email["notification_id"]
                assert "umbrella" not in event.model_dump_json()

                # The claim answers the address and the values the template needs, to notify's scope only.
                path = f"/v1/notifications/{email['notification_id']}"
                assert_problem(await svc.client.get(path, headers=READ), 403)
                assert_problem(await svc.client.get(path, headers=auth("globex", "notify:claim")), 404)
                claim = await call(svc, "GET", path, headers=CLAIM)
                assert (claim["to"], claim["locale"], claim["template"]) == (
                    "dpo@umbrella.example",
                    "fr",
                    "subprocessor.demand.received",
                )
                assert claim["context"]["legal_reference"] == "Code de procédure pénale, art. 60-1"
                assert claim["context"]["subjects"] == 2

                # notify sends it through the real SMTP server; its outcome reaches the demand's timeline.
                async def queued() -> bool:
                    return bool(await notify.runtime.jobs.run_once(DELIVER))

                await eventually(queued)
                (mail,) = smtp.mails()
                assert mail["To"].endswith("dpo@umbrella.example>") or "dpo@umbrella.example" in mail["To"]
                assert "BRDA-2026-0412" in mail["Subject"] and mail["Subject"].startswith("Une autorité publique")
                text = parts(mail)["text/plain"]["content"]
                assert "Code de procédure pénale, art. 60-1" in text and "connection_logs" in text

                async def told() -> dict[str, Any] | None:
                    seen = await call(svc, "GET", f"/v1/demands/{demand['id']}", headers=READ)
                    return seen if seen["customer_notified_at"] else None

                seen = await eventually(told)
                outcomes = [e["outcome"] for e in seen["timeline"] if e["kind"] == "email"]
                assert outcomes[0] == "requested" and "delivered" in outcomes

                # A gag order: nothing is sent, until its end passes and the privacy team is reminded once.
                gagged = await call(svc, "POST", "/v1/demands", demand_body(umbrella["id"], deferral=gag(30)))
                assert gagged["notification"] == "deferred"
                assert gagged["deferrals"][0]["instrument"].startswith("Ordonnance")
                assert not [e for e in gagged["timeline"] if e["kind"] == "email"]
                assert await svc.runtime.jobs.run_once(DEMAND_DEFERRALS) == 0
                clock.advance(timedelta(days=30, minutes=1))
                assert await svc.runtime.jobs.run_once(DEMAND_DEFERRALS) == 1
                assert await svc.runtime.jobs.run_once(DEMAND_DEFERRALS) == 0  # once per deferral
                assert len(await requested(svc, 2)) == 1  # still no mail to the customer

                async def alerted() -> bool:
                    await notify.runtime.jobs.run_once(DELIVER)
                    return len(smtp.mails()) == 2

                await eventually(alerted)
                alert = smtp.mails()[1]
                assert "privacy@acme.example" in alert["To"]
                assert gagged["id"] in alert["Subject"] and alert["Subject"].startswith("[WARNING]")
                assert f"/v1/demands/{gagged['id']}" in parts(alert)["text/plain"]["content"]

                # The team tells the customer now.
                told_now = await call(svc, "POST", f"/v1/demands/{gagged['id']}/notification")
                assert told_now["notification"] == "requested" and told_now["deferrals"][0]["ended_at"]
                assert len(await requested(svc, 2)) == 2


async def test_a_reviewed_disclosure_names_the_authority_in_the_persons_access_package(
    infra: Infra, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with serve_dsar(infra, topic_prefix, clock) as dsar, run_service("subprocessor", settings, clock) as svc:
        await dsar.wait_consumers_ready()
        umbrella = await customer(svc)
        demand = await call(svc, "POST", "/v1/demands", demand_body(umbrella["id"]))
        ada = subject_ref(SUBJECT_KEY.encode(), "email", ADA, tenant=TENANT)
        url = f"/v1/demands/{demand['id']}"
        disclosure = {
            "subject": {"kind": "email", "value": ADA},
            "categories": ["connection_logs"],
            "records_count": 42,
            "channel": "encrypted archive handed to the officer",
            "disclosed_at": START.isoformat(),
        }

        # No disclosure before a decision; no decision before the review starts; not by the recorder.
        assert_problem(await svc.client.post(f"{url}/disclosures", json=disclosure, headers=BOB), 409)
        review = {"decision": "partially_disclosed", "reasoning": "The requisition covers connection logs only."}
        assert_problem(await svc.client.post(f"{url}/review", json=review, headers=BOB), 409)
        await call(svc, "POST", f"{url}/review/start")
        refused = assert_problem(await svc.client.post(f"{url}/review", json=review, headers=ALICE_ADMIN), 409)
        assert "may not review" in refused["detail"]
        decided = await call(svc, "POST", f"{url}/review", review, headers=BOB)
        assert (decided["status"], decided["reviewer"], decided["decision"]) == (
            "partially_disclosed",
            "user:bob",
            "partially_disclosed",
        )
        assert decided["recorded_by"] == "user:alice"

        # Beyond the demand's scope, or someone it is not about: refused, nothing recorded.
        beyond = disclosure | {"categories": ["payment_data"]}
        assert_problem(await svc.client.post(f"{url}/disclosures", json=beyond, headers=BOB), 409)
        stranger = disclosure | {"subject": {"kind": "email", "value": "eve@example.com"}}
        assert_problem(await svc.client.post(f"{url}/disclosures", json=stranger, headers=BOB), 409)
        done = await call(svc, "POST", f"{url}/disclosures", disclosure, headers=BOB)
        (recorded,) = done["disclosures"]
        assert (recorded["subject_ref"], recorded["records_count"], recorded["published_at"]) == (
            ada,
            42,
            START.isoformat().replace("+00:00", "Z"),
        )
        closed = await call(svc, "POST", f"{url}/close", {"note": "Handed over."})
        assert closed["status"] == "closed"
        kinds = [(e["kind"], e["outcome"]) for e in closed["timeline"] if e["kind"] != "email"]
        assert kinds == [
            ("status", "received"),
            ("status", "under_review"),
            ("review", "partially_disclosed"),
            ("disclosure", "recorded"),
            ("status", "closed"),
        ]
        records = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUBPROCESSOR_EVENTS), expect=3)
        types = [dict(r.headers)["ce_type"].decode() for r in records]
        assert "io.privops.subprocessor.personal_data.disclosed" in types

        # The DSAR service keeps the disclosure; Ada's access request names the authority as a recipient.
        async def heard() -> list[dict[str, Any]]:
            response = await dsar.client.get("/v1/disclosures", params={"subject_ref": ada}, headers=DSAR_READ)
            return list(response.json())

        (kept,) = await eventually(heard)
        assert (kept["recipient"], kept["recipient_country"], kept["categories"]) == (
            "Brigade de répression de la délinquance astucieuse",
            "FR",
            ["connection_logs"],
        )
        assert kept["reference"] == demand["id"] and kept["source"] == "subprocessor"
        request = await dsar.open(request_body("access"))
        await verify_by_code(dsar, request["id"])
        await until_state(dsar, request["id"])
        link = await dsar.client.post(f"/v1/requests/{request['id']}/package-link", headers=DSAR_ADMIN)
        archive = zipfile.ZipFile(io.BytesIO((await dsar.client.get(link.json()["url"])).content))
        art15 = json.loads(archive.read("art15.json"))
        assert "Brigade de répression de la délinquance astucieuse" in art15["recipients"]
        assert art15["disclosures"] == [
            {
                "recipient": "Brigade de répression de la délinquance astucieuse",
                "recipient_country": "FR",
                "categories": ["connection_logs"],
                "disclosed_at": START.isoformat(),
            }
        ]


async def test_a_disclosure_under_a_gag_order_waits_for_the_customer_to_be_told(
    infra: Infra, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings, clock) as svc:
        umbrella = await customer(svc)
        demand = await call(svc, "POST", "/v1/demands", demand_body(umbrella["id"], deferral=gag(10)))
        url = f"/v1/demands/{demand['id']}"
        await call(svc, "POST", f"{url}/review/start")
        await call(svc, "POST", f"{url}/review", {"decision": "disclosed", "reasoning": "Lawful."}, headers=BOB)
        body = {
            "subject_ref": demand["subject_refs"][0],
            "categories": ["contact_details"],
            "records_count": 1,
            "channel": "secure portal",
            "disclosed_at": START.isoformat(),
        }
        held = await call(svc, "POST", f"{url}/disclosures", body, headers=BOB)
        assert held["disclosures"][0]["published_at"] is None  # the person's access request would tip the customer
        clock.advance(timedelta(days=11))
        assert await svc.runtime.jobs.run_once(DEMAND_DEFERRALS) == 1
        # The judge extended the order: a new reason replaces the lapsed one, and is reminded of in its turn.
        extended = gag(40) | {"instrument": "Ordonnance de prolongation, TJ Paris, 2026/131"}
        again = await call(svc, "POST", f"{url}/deferral", extended, headers=BOB)
        first, second = again["deferrals"]
        assert first["reminded_at"] and first["ended_at"] and second["ended_at"] is None
        assert again["notification"] == "deferred" and again["disclosures"][0]["published_at"] is None
        assert await svc.runtime.jobs.run_once(DEMAND_DEFERRALS) == 0
        assert_problem(await svc.client.post(f"{url}/deferral", json=gag(-20), headers=BOB), 422)
        told = await call(svc, "POST", f"{url}/notification")
        assert told["deferrals"][1]["ended_at"]
        assert_problem(await svc.client.post(f"{url}/notification", headers=ALICE), 409)  # told once
        assert_problem(await svc.client.post(f"{url}/deferral", json=gag(), headers=BOB), 409)  # too late to defer
        assert told["disclosures"][0]["published_at"] == clock.now().isoformat().replace("+00:00", "Z")

        # The evidence of the period: facts and counts, no subject reference, no contact.
        assert isinstance(svc.settings, SubprocessorSettings)
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, clock, TENANT, "test")
            evidence = await demand_service.demands_evidence(uow, START - timedelta(days=1), START + timedelta(days=1))
            other = await demand_service.demands_evidence(
                uow.for_tenant("globex"), START - timedelta(days=1), START + timedelta(days=1)
            )
        assert other["count"] == 0
        assert evidence["count"] == 1 and evidence["by_status"] == {"disclosed": 1}
        (item,) = evidence["demands"]
        assert (item["customer"], item["legal_basis"], item["deferred"], item["disclosures"]) == (
            "umbrella",
            "Code de procédure pénale, art. 60-1",
            True,
            1,
        )
        assert item["notification_requested_at"] == clock.now().isoformat()
        dumped = json.dumps(evidence)
        assert demand["subject_refs"][0] not in dumped and "dpo@umbrella.example" not in dumped


async def test_demand_routes_answer_401_403_404_and_refuse_bad_input_changing_nothing(
    infra: Infra, topic_prefix: str
) -> None:
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings) as svc:
        umbrella = await customer(svc, contacts=[])
        demand = await call(svc, "POST", "/v1/demands", demand_body(umbrella["id"]))
        assert demand["notification"] == "no_contact"
        url = f"/v1/demands/{demand['id']}"
        assert_problem(await svc.client.get(url), 401)
        assert_problem(await svc.client.get(url, headers=auth(TENANT, "dsar:admin")), 403)
        assert_problem(await svc.client.get(url, headers=auth("globex", "subprocessor:admin")), 404)
        assert_problem(await svc.client.post(f"{url}/review/start", headers=auth("globex", "subprocessor:admin")), 404)
        assert_problem(await svc.client.post("/v1/demands", json=demand_body(umbrella["id"]), headers=READ), 403)
        review = {"decision": "refused", "reasoning": "No legal basis."}
        assert_problem(await svc.client.post(f"{url}/review", json=review, headers=ALICE), 403)  # admin only
        assert_problem(await svc.client.post(f"{url}/deferral", json=gag(), headers=ALICE), 403)

        # Bad input: a problem, and nothing recorded.
        for bad in (
            demand_body(umbrella["id"], received_at=(START + timedelta(days=1)).isoformat()),
            demand_body(umbrella["id"], subjects=[{"kind": "email", "value": "not an address"}]),
            demand_body(umbrella["id"], deferral=gag(-1)),
            demand_body(umbrella["id"], deferral=gag() | {"instrument": ""}),
            demand_body(umbrella["id"], authority={"name": "X", "country": "F1"}),
            demand_body(umbrella["id"], subjects=[]),
            demand_body(umbrella["id"], data_categories=["x" * 101]),
        ):
            assert_problem(await svc.client.post("/v1/demands", json=bad, headers=ALICE), 422)
        assert_problem(await svc.client.post("/v1/demands", json=demand_body(str(demand["id"])), headers=ALICE), 404)
        listed = await call(svc, "GET", "/v1/demands", headers=READ)
        assert [d["id"] for d in listed] == [demand["id"]]
        assert await call(svc, "GET", "/v1/demands?status=closed", headers=READ) == []
        assert len(await call(svc, "GET", "/v1/demands?country=FR&status=received", headers=READ)) == 1
        assert await call(svc, "GET", "/v1/demands", headers=auth("globex", "subprocessor:read")) == []
        async with svc.runtime.database.session() as session:
            assert len((await session.exec(select(AuthorityDemand))).all()) == 1
