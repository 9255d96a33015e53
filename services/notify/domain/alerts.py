"""Alerts to the privacy team: which escalation events become one, with what values and link, once per threshold.

Each escalation event of the catalogue maps to the template ``alert.<event type without io.privops.>``
and a threshold key (the object and the point reached: a request's due date, a breach deadline's
escalation point). One message goes to each target (every privacy-team address, and the alert
webhook) under ``<threshold>|<target>``, so a redelivered or re-published event alerts nobody twice.
An alert names objects by id and carries dates and counts only: no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.events.catalogue import Event
from shared.events.catalogue.breach import BreachDeadlineAlert, BreachNotificationDue, BreachNotificationOverdue
from shared.events.catalogue.contract_ends import ContractEndTaskNeedsPerson
from shared.events.catalogue.dsar import (
    DsarDeadlineApproaching,
    DsarDeadlineOverdue,
    DsarManualTaskOpened,
    DsarPortabilityTransferFailed,
    DsarTaskEscalated,
)
from shared.events.catalogue.retention import RetentionSweepEscalated
from shared.events.catalogue.subprocessor import AuthorityDemandDeferralLapsed

WEBHOOK_TARGET = "webhook"
EVENT_PREFIX = "io.privops."


@dataclass(frozen=True)
class Link:
    """Where the object an alert is about can be opened: a portal page, or the owning service's API."""

    service: str
    portal_path: str
    api_path: str

    def url(self, portal_url: str | None, service_urls: dict[str, str]) -> str | None:
        """The absolute link: the portal's page when there is a portal, else the service's API, else None."""
        if portal_url:
            return portal_url.rstrip("/") + self.portal_path
        base = service_urls.get(self.service)
        return base.rstrip("/") + self.api_path if base else None


@dataclass(frozen=True)
class Alert:
    """What one escalation event asks the privacy team to look at."""

    template: str
    threshold: str
    level: str
    context: dict[str, Any]
    link: Link

    def dedupe_key(self, target: str) -> str:
        """The key that makes this threshold alert ``target`` once."""
        return f"{self.threshold}|{target}"


def template_of(event: Event) -> str:
    """``alert.<event type>``: ``io.privops.dsar.deadline.overdue`` → ``alert.dsar.deadline.overdue``."""
    return "alert." + event.event_type.removeprefix(EVENT_PREFIX)


def _request(event: DsarDeadlineApproaching | DsarDeadlineOverdue, level: str) -> Alert:
    request = str(event.request_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{request}:{event.due_at.isoformat()}",
        level=level,
        context={
            "request_id": request,
            "request_type": event.request_type,
            "regime": event.regime,
            "due_at": event.due_at.isoformat(),
        },
        link=Link("dsar", f"/dsar/requests/{request}", f"/v1/requests/{request}"),
    )


def _task(event: DsarTaskEscalated) -> Alert:
    request = str(event.request_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{event.task_id}:{event.due_at.isoformat()}",
        level="warning",
        context={
            "task_id": str(event.task_id),
            "request_id": request,
            "system": event.system,
            "action": event.action,
            "attempts": event.attempts,
            "due_at": event.due_at.isoformat(),
            "manual": event.manual,
        },
        link=Link("dsar", f"/dsar/requests/{request}", f"/v1/requests/{request}/tasks"),
    )


def _manual(event: DsarManualTaskOpened) -> Alert:
    task = str(event.task_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{task}",
        level="warning",
        context={
            "task_id": task,
            "request_id": str(event.request_id),
            "system": event.system,
            "action": event.action,
            "due_at": event.due_at.isoformat(),
            "request_due_at": event.request_due_at.isoformat(),
        },
        link=Link("dsar", f"/dsar/tasks/{task}", f"/v1/tasks/{task}"),
    )


def _transfer(event: DsarPortabilityTransferFailed) -> Alert:
    request = str(event.request_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{event.transfer_id}",
        level="warning",
        context={
            "transfer_id": str(event.transfer_id),
            "request_id": request,
            "controller": event.controller,
            "attempts": event.attempts,
            "status_code": event.status_code,
            "reason": event.reason,
            "failed_at": event.failed_at.isoformat(),
        },
        link=Link("dsar", f"/dsar/requests/{request}", f"/v1/requests/{request}/transfers"),
    )


def _contract_end(event: ContractEndTaskNeedsPerson) -> Alert:
    end, task = str(event.contract_end_id), str(event.task_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{task}",
        level="warning",
        context={
            "task_id": task,
            "contract_end_id": end,
            "system": event.system,
            "action": event.action,
            "manual": event.reason == "manual_system",
        },
        link=Link("dsar", f"/dsar/contract-ends/{end}", f"/v1/contract-ends/{end}"),
    )


def _breach(event: BreachDeadlineAlert, threshold: str, level: str, extra: dict[str, Any]) -> Alert:
    incident = str(event.incident_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{event.deadline_id}:{threshold}",
        level=level,
        context={
            "incident_id": incident,
            "deadline_id": str(event.deadline_id),
            "jurisdiction": event.jurisdiction,
            "audience": event.audience,
            "due_at": (event.due_at or event.target_at).isoformat(),
            "hard_limit": event.due_at is not None,
            "citation": event.citation,
            **extra,
        },
        link=Link("breach", f"/breach/incidents/{incident}", f"/v1/incidents/{incident}/deadlines"),
    )


def _due(event: BreachNotificationDue) -> Alert:
    hours = f"{event.hours_left:g}"
    return _breach(event, hours, "critical" if event.hours_left <= 4 else "warning", {"hours_left": hours})


def _overdue(event: BreachNotificationOverdue) -> Alert:
    return _breach(event, "overdue", "critical", {})


def _sweep(event: RetentionSweepEscalated) -> Alert:
    sweep = str(event.sweep_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{sweep}",
        level="warning",
        context={
            "sweep_id": sweep,
            "system": event.system,
            "category": event.category,
            "action": event.action,
            "attempts": event.attempts,
            "requested_at": event.requested_at.isoformat(),
            "due_at": event.escalated_at.isoformat(),
        },
        link=Link("retention", f"/retention/sweeps/{sweep}", f"/v1/sweeps/{sweep}"),
    )


def _deferral(event: AuthorityDemandDeferralLapsed) -> Alert:
    demand = str(event.demand_id)
    return Alert(
        template=template_of(event),
        threshold=f"{event.event_type}:{event.deferral_id}",
        level="warning",
        context={"demand_id": demand, "deferral_id": str(event.deferral_id), "due_at": event.until.isoformat()},
        link=Link("subprocessor", f"/subprocessor/demands/{demand}", f"/v1/demands/{demand}"),
    )


ALERTS: dict[type[Event], Callable[[Any], Alert]] = {
    DsarDeadlineApproaching: lambda e: _request(e, "warning"),
    DsarDeadlineOverdue: lambda e: _request(e, "critical"),
    DsarTaskEscalated: _task,
    DsarManualTaskOpened: _manual,
    DsarPortabilityTransferFailed: _transfer,
    ContractEndTaskNeedsPerson: _contract_end,
    BreachNotificationDue: _due,
    BreachNotificationOverdue: _overdue,
    RetentionSweepEscalated: _sweep,
    AuthorityDemandDeferralLapsed: _deferral,
}


def alert_for(event: Event) -> Alert:
    """The alert an escalation event raises (``KeyError`` for an event that raises none)."""
    return ALERTS[type(event)](event)
