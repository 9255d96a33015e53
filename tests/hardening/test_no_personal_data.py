"""No personal data on the bus or in the logs: drive each service's flows with raw identifiers, then scan.

Every message of every topic with the test's prefix (keys, headers, values) and every log line the
service emitted at DEBUG level are searched for the emails, phone numbers, names and user ids sent.
The DSAR flow through both demo stores is scanned in ``tests/integration/sdk/test_demo_stores.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from tests.hardening.factories import EMAIL, FACTORIES, NAME, PHONE, USER_ID, call
from tests.hardening.support import TENANT_A, service, write_report
from tests.support.pii import LogCapture, assert_no_personal_data, outbox_drained, scan_bus
from tests.support.stack import Infra, RunningService

pytestmark = pytest.mark.integration
IDENTIFIERS = (EMAIL, PHONE, NAME, USER_ID)


async def more_consent(svc: RunningService) -> None:
    """Decisions by phone and user id, a GPC signal, a check with ``at``, a history read and a withdrawal."""
    for kind, value in (("phone", PHONE), ("user_id", USER_ID)):
        subject = {"kind": kind, "value": value}
        await call(
            svc, TENANT_A, "POST", "/v1/consents", {"subject": subject, "purpose": "newsletter", "decision": "granted"}
        )
    subject = {"kind": "email", "value": EMAIL}
    await call(svc, TENANT_A, "POST", "/v1/gpc", {"subject": subject}, headers={"Sec-GPC": "1"})
    await call(svc, TENANT_A, "POST", "/v1/checks", {"subject": subject, "purposes": ["newsletter"]})
    await call(svc, TENANT_A, "POST", "/v1/subjects/history", {"subject": subject})
    await call(svc, TENANT_A, "POST", "/v1/consents/withdraw", {"subject": subject})


async def more_breach(svc: RunningService) -> None:
    """An incident whose free text names the person; assessed, people attached."""
    from tests.integration.breach.support import INCIDENT

    text = f"The mailbox of {NAME} ({EMAIL}, {PHONE}) was phished."
    incident = await call(svc, TENANT_A, "POST", "/v1/incidents", INCIDENT | {"description": text})
    await call(
        svc,
        TENANT_A,
        "POST",
        f"/v1/incidents/{incident['id']}/assessments",
        {
            "data_sets": [{"category": "financial"}],
            "ease_of_identification": "maximum",
            "rationale": f"{NAME}'s card data was exposed.",
        },
    )
    await call(svc, TENANT_A, "PATCH", f"/v1/incidents/{incident['id']}", {"containment": f"Reset {EMAIL}."})


async def more_subprocessor(svc: RunningService) -> None:
    """A second customer whose contacts carry a name, an email and a phone number."""
    await call(
        svc,
        TENANT_A,
        "POST",
        "/v1/customers",
        {"reference": "hooli", "name": "Hooli", "contacts": [{"email": EMAIL.replace("Ada", "Ada2"), "role": "dpo"}]},
    )


MORE = {"consent": more_consent, "breach": more_breach, "subprocessor": more_subprocessor}


@pytest.mark.parametrize("name", ["consent", "dsar", "breach", "subprocessor", "notify"])
async def test_no_raw_identifier_on_the_bus_or_in_logs(
    infra: Infra, topic_prefix: str, tmp_path: Path, name: str
) -> None:
    logs = LogCapture()
    with logs.active():
        overrides = {"log_level": "DEBUG"}
        async with service(infra, name, topic_prefix, tmp_path, **overrides) as svc:
            await FACTORIES[name](svc, TENANT_A)
            if name in MORE:
                await MORE[name](svc)
            for job in ("audit.seal",):
                await svc.runtime.jobs.run_once(job)
            await outbox_drained(svc.runtime.database)
            report = await assert_no_personal_data(infra.broker.bootstrap, topic_prefix, IDENTIFIERS, logs)
    write_report(f"pii-{name}", {"service": name, **report.__dict__})


async def test_the_scan_finds_a_planted_identifier(infra: Infra, topic_prefix: str) -> None:
    """The scanner itself: an identifier in a header, a normalised phone in a value, an email in a log line."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(f"{topic_prefix}leaky", b'{"phone": "442079460958"}', key=b"acme:x")
        await producer.send_and_wait(f"{topic_prefix}leaky", b"{}", headers=[("ce_subject", USER_ID.encode())])
        await producer.send_and_wait(f"{topic_prefix}clean", b'{"subject_ref": "' + b"ab" * 32 + b'"}')
    finally:
        await producer.stop()
    scan = await scan_bus(infra.broker.bootstrap, topic_prefix, IDENTIFIERS)
    assert scan.messages == 3
    assert sorted(f.split(": ")[1] for f in scan.findings) == sorted([repr(PHONE), repr(USER_ID)]), scan.findings
    logs = LogCapture()
    with logs.active():
        structlog.get_logger("test").warning("leaky.event", email=EMAIL.lower())
    assert logs.findings(IDENTIFIERS) and not logs.findings(["nobody@example.org"])
