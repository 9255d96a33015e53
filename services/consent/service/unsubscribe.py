"""Unsubscribing from informational notice messages, by the link each such message carries.

The link's token is the person's subject reference with a keyed hash of it (``contacts``): it names
no one outside this service and cannot be made for someone else. The opt-out stops messages that
only inform; a message asking for fresh consent is still sent, because consent to the purpose as it
now is cannot be assumed (GDPR Art. 7(1), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from services.consent.models import SubjectContact
from services.consent.schemas.notices import UnsubscribeOut
from services.consent.service import Uow, contacts
from shared.rules.errors import NotFound

STILL_SENT = "Messages asking you to renew a consent are still sent: your consent cannot be assumed."


async def _contact(uow: Uow, token: str | None) -> SubjectContact:
    ref = contacts.subject_of_token(uow, token)
    found = await contacts.contacts_of(uow, [ref]) if ref is not None else []
    if not found:
        raise NotFound("No such subscription, or the link is wrong.")
    return found[0]


async def preview(uow: Uow, token: str | None) -> UnsubscribeOut:
    """Where the person stands (nothing changes: mail scanners follow links); 404 for a wrong token."""
    contact = await _contact(uow, token)
    if contact.notices_opted_out_at is not None:
        return UnsubscribeOut(unsubscribed=True, detail="You no longer receive informational notice messages.")
    return UnsubscribeOut(
        unsubscribed=False, detail="Confirm to stop informational messages about changes to our notices."
    )


async def opt_out(uow: Uow, token: str | None) -> UnsubscribeOut:
    """Record the opt-out (repeating it changes nothing); 404 for a wrong token."""
    contact = await _contact(uow, token)
    await contacts.opt_out(uow, contact.subject_ref)
    detail = f"You will no longer receive informational notice messages. {STILL_SENT}"
    return UnsubscribeOut(unsubscribed=True, detail=detail)
