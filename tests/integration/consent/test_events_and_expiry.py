"""Events on Kafka (subject reference only), the expiry job, renewal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from tests.integration.consent.conftest import check, decide
from tests.support.stack import Infra, RunningService, read_topic

pytestmark = pytest.mark.integration


async def test_decisions_expiry_and_renewal_reach_kafka_without_raw_identifiers(
    consent: RunningService, infra: Infra
) -> None:
    granted = await decide(consent, "cookies.analytics", "granted")
    await decide(consent, "cookies.analytics", "granted")  # a positive answer again: renewed
    await decide(consent, "newsletter", "denied")
    await decide(consent, "newsletter", "granted")
    await decide(consent, "newsletter", "withdrawn")
    consent.clock.advance(timedelta(days=400))  # type: ignore[attr-defined]
    assert await consent.runtime.jobs.run_once("consent.expire") == 1  # newsletter was withdrawn, not expired
    assert await consent.runtime.jobs.run_once("consent.expire") == 0  # claimed once only
    assert (await check(consent, "cookies.analytics"))["cookies.analytics"]["reason"] == "expired"
    records = await read_topic(infra.broker.bootstrap, consent.settings.topic(CONSENT_EVENTS), expect=6)
    envelopes = [CloudEvent.from_kafka(r.headers, r.value) for r in records]
    by_purpose: dict[str, list[str]] = {}
    for e in envelopes:
        by_purpose.setdefault(e.data["purpose"], []).append(e.type.removeprefix("io.privops.consent."))
        assert e.data["subject_ref"] == granted["subject_ref"] and e.subject == granted["subject_ref"]
        assert "example.com" not in str(e.data).lower()
    assert by_purpose == {
        "cookies.analytics": ["granted", "renewed", "expired"],
        "newsletter": ["denied", "granted", "withdrawn"],
    }
    expired = next(e for e in envelopes if e.type.endswith("expired"))
    assert expired.data["occurred_at"].startswith("2027-04-02")  # P13M after the renewal
