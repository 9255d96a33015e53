"""The mail sender: for each ``io.privops.notification.requested``, claims the message and delivers it.

Generic: any service's notification is claimed from its ``claim_url`` with a short-lived token
(scope ``dsar:notify``, signed with the shared JWT secret), so addresses never travel on the bus.
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from functools import cache

import httpx
import structlog

from services.dsar.service import Uow
from services.dsar.service.mail.transports import OutgoingMail, build_transport
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.clock import SystemClock
from shared.runtime.auth import issue_token

log = structlog.get_logger("privops.dsar.mail")
NOTIFY_SCOPE = "dsar:notify"


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every claim: building one (loading the CA bundle) per message cost ~30 ms of CPU
    on the event loop the task-result consumer shares, which is what slowed completions under load."""
    return httpx.create_ssl_context()


async def deliver(uow: Uow, event: NotificationRequested) -> None:
    """Fetch the address and message by claim check and deliver it; an expired message is skipped."""
    if event.channel != "email":
        return
    token = issue_token(
        uow.settings.jwt_secret.get_secret_value(),
        uow.tenant_id,
        [NOTIFY_SCOPE],
        # Token lifetimes are checked against the wall clock, not the (possibly moved) service clock.
        now=SystemClock().now(),
        subject="service:mail-sender",
        ttl=timedelta(minutes=5),
    )
    async with httpx.AsyncClient(timeout=10.0, verify=_tls()) as client:
        response = await client.get(event.claim_url, headers={"Authorization": f"Bearer {token}"})
    if response.status_code in (404, 410):
        log.warning("mail.skipped", notification_id=str(event.notification_id), status=response.status_code)
        return
    response.raise_for_status()
    claimed = response.json()
    mail = OutgoingMail(str(event.notification_id), claimed["to"], claimed["subject"], claimed["body"])
    await build_transport(uow.settings, uow.clock).send(mail)
    log.info("mail.sent", notification_id=str(event.notification_id), template=event.template)
