"""Alerts: one template and one threshold per escalation, links, no personal data; reasons without addresses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.notify.domain import (
    ALERTS,
    InvalidTemplate,
    TemplateCatalogue,
    alert_for,
    pick_locale,
    redact,
)
from shared.events.catalogue.breach import BreachNotificationDue, BreachNotificationOverdue
from shared.events.catalogue.dsar import (
    DsarDeadlineApproaching,
    DsarManualTaskOpened,
    DsarPortabilityTransferFailed,
    DsarTaskEscalated,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATALOGUE = TemplateCatalogue()


def _due(hours: float, deadline: uuid.UUID) -> BreachNotificationDue:
    return BreachNotificationDue(
        incident_id=uuid.UUID(int=1),
        deadline_id=deadline,
        jurisdiction="eu-gdpr",
        audience="authority",
        recipient="supervisory authority",
        due_at=AT,
        target_at=AT,
        citation="GDPR Art. 33(1)",
        hours_left=hours,
    )


def test_every_escalation_has_its_template_in_english_and_french() -> None:
    for event_type in ALERTS:
        key = "alert." + event_type.event_type.removeprefix("io.privops.")
        assert CATALOGUE.locales(key) == ["en", "fr"], key


def test_each_threshold_alerts_once_per_target() -> None:
    deadline = uuid.uuid4()
    first, again, later = _due(24, deadline), _due(24, deadline), _due(4, deadline)
    assert alert_for(first).dedupe_key("webhook") == alert_for(again).dedupe_key("webhook")
    assert alert_for(first).dedupe_key("webhook") != alert_for(later).dedupe_key("webhook")
    assert alert_for(first).dedupe_key("a") != alert_for(first).dedupe_key("b")
    assert alert_for(later).level == "critical"
    overdue = BreachNotificationOverdue(**_due(0, deadline).model_dump(exclude={"hours_left"}))
    assert alert_for(overdue).template == "alert.breach.notification.overdue"


def test_an_extended_deadline_is_a_new_threshold() -> None:
    request = uuid.uuid4()
    fields = {"request_id": request, "request_type": "access", "subject_ref": "f" * 64, "regime": "eu-gdpr"}
    before = alert_for(DsarDeadlineApproaching(**fields, due_at=AT))
    after = alert_for(DsarDeadlineApproaching(**fields, due_at=AT.replace(month=5)))
    assert before.threshold != after.threshold
    assert "subject_ref" not in before.context  # ids, dates and counts only


def test_link_prefers_the_portal_then_the_service_api() -> None:
    link = alert_for(_due(24, uuid.uuid4())).link
    assert link.url("https://portal.example/", {}) == "https://portal.example/breach/incidents/" + str(uuid.UUID(int=1))
    assert link.url(None, {"breach": "http://127.0.0.1:8004"}) == (
        f"http://127.0.0.1:8004/v1/incidents/{uuid.UUID(int=1)}/deadlines"
    )
    assert link.url(None, {}) is None


def test_reasons_lose_their_addresses() -> None:
    assert redact("550 5.1.1 <ada@example.com>: Recipient address rejected") == (
        "550 5.1.1 <address>: Recipient address rejected"
    )
    assert len(redact("x" * 5000)) == 1000


def test_locale_falls_back_from_claim_to_event_to_tenant_to_english() -> None:
    assert pick_locale("fr", "de", "en") == "fr"
    assert pick_locale(None, None, "fr") == "fr"
    assert pick_locale(None, "", None) == "en"


def test_an_override_must_render() -> None:
    CATALOGUE.check_override("fr", "dsar.completed.txt", "Subject: Terminé\nRéférence {{ request_id }}\n")
    with pytest.raises(InvalidTemplate, match="line 1"):
        CATALOGUE.check_override("fr", "dsar.completed.txt", "Subject: {% if %}")
    with pytest.raises(InvalidTemplate, match="Subject"):
        CATALOGUE.check_override("fr", "dsar.completed.txt", "Terminé")
    with pytest.raises(InvalidTemplate, match="known key"):
        CATALOGUE.check_override("fr", "nope.txt", "Subject: x")


def test_a_manual_task_alerts_once_with_a_link_to_the_task() -> None:
    task, request = uuid.uuid4(), uuid.uuid4()
    fields = {"task_id": task, "request_id": request, "system": "archive", "action": "erase", "due_at": AT}
    opened = DsarManualTaskOpened(**fields, request_due_at=AT.replace(month=4))
    alert = alert_for(opened)
    assert alert.template == "alert.dsar.task.manual"
    assert alert.dedupe_key("a") == alert_for(opened.model_copy()).dedupe_key("a")
    assert alert.link.url(None, {"dsar": "http://dsar"}) == f"http://dsar/v1/tasks/{task}"
    assert alert.context["request_due_at"] == AT.replace(month=4).isoformat()
    message = CATALOGUE.render(alert.template, "en", alert.context | {"link": "L", "level": alert.level})
    assert "by hand" in message.subject and str(task) in message.text
    # Past its due time, the same task's escalation says nobody closed it by hand (not "no answer after 1 try").
    late = alert_for(DsarTaskEscalated(**fields, attempts=1, reason="late", manual=True))
    text = CATALOGUE.render(late.template, "en", late.context | {"link": "L", "level": late.level}).text
    assert "nobody has closed it by hand" in text and "attempt(s)" not in text


def test_a_failed_portability_transfer_alerts_once_with_the_receivers_answer() -> None:
    transfer = uuid.uuid4()
    failed = DsarPortabilityTransferFailed(
        transfer_id=transfer,
        request_id=uuid.UUID(int=7),
        package_id=uuid.uuid4(),
        controller="Globex Bank",
        attempts=6,
        status_code=503,
        reason="HTTP 503: busy",
        failed_at=AT,
    )
    alert = alert_for(failed)
    assert (alert.template, alert.threshold) == ("alert.dsar.portability.failed", f"{failed.event_type}:{transfer}")
    assert alert.link.url(None, {"dsar": "http://dsar"}) == f"http://dsar/v1/requests/{uuid.UUID(int=7)}/transfers"
    for locale in ("en", "fr"):
        message = CATALOGUE.render(alert.template, locale, alert.context | {"level": "warning", "link": None})
        assert "Globex Bank" in message.subject and "HTTP 503" in message.text
