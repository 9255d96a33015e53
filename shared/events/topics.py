"""Kafka topic names: one place, so producers, consumers and the AsyncAPI document agree."""

from __future__ import annotations

CONSENT_EVENTS = "privops.consent.events"
DSAR_EVENTS = "privops.dsar.events"
DSAR_TASKS = "privops.dsar.tasks"
DSAR_TASK_RESULTS = "privops.dsar.task-results"
RETENTION_EVENTS = "privops.retention.events"
RETENTION_SWEEPS = "privops.retention.sweeps"
RETENTION_SWEEP_RESULTS = "privops.retention.sweep-results"
BREACH_EVENTS = "privops.breach.events"
SUBPROCESSOR_EVENTS = "privops.subprocessor.events"
NOTIFICATIONS = "privops.notifications"
NOTIFICATION_OUTCOMES = "privops.notifications.outcomes"
DLQ_PREFIX = "privops.dlq."


TOPIC_DESCRIPTIONS = {
    CONSENT_EVENTS: "Facts about consent decisions (granted, denied, withdrawn, expired, renewed) and notice changes.",
    DSAR_EVENTS: "Facts about rights requests (received, verified, completed, deadlines).",
    DSAR_TASKS: "Commands to data stores: act on one subject's data for one rights request.",
    DSAR_TASK_RESULTS: "Answers of data stores to DSAR tasks.",
    RETENTION_EVENTS: "Facts about retention policies, holds and sweeps.",
    RETENTION_SWEEPS: "Commands to data stores: delete, anonymise or archive what is past its retention.",
    RETENTION_SWEEP_RESULTS: "Answers of data stores to retention sweeps, with counts.",
    BREACH_EVENTS: "Facts about personal-data breaches, their assessment and their deadlines.",
    SUBPROCESSOR_EVENTS: "Facts about subprocessor changes, notices, objections, authority demands and disclosures.",
    NOTIFICATIONS: "Outbound notifications (email, webhook) to be delivered by a sender; no raw addresses.",
    NOTIFICATION_OUTCOMES: "What became of each notification (sent, delivered, failed), for the service that asked.",
}


def dead_letter_topic(group: str) -> str:
    """The dead-letter topic of a consumer group."""
    return f"{DLQ_PREFIX}{group}"
