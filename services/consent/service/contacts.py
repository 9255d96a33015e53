"""The address a person gave to be told of their consents: sealed, one per subject, erased with their records.

The consent service keeps subject references, not identifiers. A decision may carry
``contact_email``: then the address (sealed with the service's data key) and the language the
person saw are kept, so a material change of a notice they agreed to can be brought to their
attention (GDPR Art. 13(3), https://eur-lex.europa.eu/eli/reg/2016/679/oj). Nothing else reads it:
only a notify claim unseals it, and a DSAR erasure deletes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.consent.models import SubjectContact
from services.consent.service import Uow
from shared.rules.sealing import data_key, keyed_hash, same_hash, seal, unseal

SEAL_CONTEXT = b"privops.consent.subject-contact"
UNSUBSCRIBE_PURPOSE = "consent-notice-unsubscribe"
# A language tag as browsers send it ("fr", "fr-CA"): what notify picks the template's language from.
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")


def _key(uow: Uow) -> bytes:
    return data_key(uow.settings.data_secret(), "consent")


def locale_of(language: object) -> str | None:
    """The language a person saw, when it is a tag notify can use."""
    return language if isinstance(language, str) and _LOCALE.fullmatch(language) else None


async def remember(uow: Uow, subject_ref: str, email: str, language: object) -> None:
    """Keep (or replace) the subject's address and language; an opt-out they made stays."""
    values = {
        "email_enc": seal(_key(uow), {"email": email}, context=SEAL_CONTEXT),
        "locale": locale_of(language),
        "updated_at": uow.now(),
    }
    statement = insert(SubjectContact).values(tenant_id=uow.tenant_id, subject_ref=subject_ref, **values)
    await uow.session.exec(statement.on_conflict_do_update(index_elements=["tenant_id", "subject_ref"], set_=values))
    uow.audit("contact.recorded", "subject", subject_ref)


def address_of(uow: Uow, contact: SubjectContact) -> str:
    """The unsealed address (only for a notify claim)."""
    sealed: dict[str, Any] = unseal(_key(uow), contact.email_enc, context=SEAL_CONTEXT)
    return str(sealed["email"])


async def contacts_of(uow: Uow, refs: Sequence[str]) -> list[SubjectContact]:
    """The stored contacts of these subject references."""
    rows = await uow.session.exec(
        select(SubjectContact).where(
            SubjectContact.tenant_id == uow.tenant_id, col(SubjectContact.subject_ref).in_(list(refs))
        )
    )
    return list(rows.all())


async def erase(uow: Uow, refs: Sequence[str]) -> None:
    """Delete the subject's addresses (a DSAR erasure)."""
    await uow.session.exec(
        delete(SubjectContact).where(
            col(SubjectContact.tenant_id) == uow.tenant_id, col(SubjectContact.subject_ref).in_(list(refs))
        )
    )


def export(contacts: Sequence[SubjectContact], uow: Uow) -> list[dict[str, Any]]:
    """What a DSAR access answer shows of the subject's contacts."""
    return [
        {
            "type": "contact",
            "email": address_of(uow, contact),
            "locale": contact.locale,
            "notices_opted_out_at": contact.notices_opted_out_at.isoformat() if contact.notices_opted_out_at else None,
            "updated_at": contact.updated_at.isoformat(),
        }
        for contact in contacts
    ]


def unsubscribe_token(uow: Uow, subject_ref: str) -> str:
    """The credential of a person's unsubscribe link: their reference and a keyed hash of it under the tenant."""
    mac = keyed_hash(uow.settings.signing_key.get_secret_value(), UNSUBSCRIBE_PURPOSE, f"{uow.tenant_id}:{subject_ref}")
    return f"{subject_ref}.{mac}"


def subject_of_token(uow: Uow, token: str | None) -> str | None:
    """The subject reference an unsubscribe token was made for, or ``None`` when it is not one of ours."""
    if not token or token.count(".") != 1:
        return None
    ref, mac = token.split(".")
    expected = keyed_hash(uow.settings.signing_key.get_secret_value(), UNSUBSCRIBE_PURPOSE, f"{uow.tenant_id}:{ref}")
    return ref if same_hash(expected, mac) else None


async def opt_out(uow: Uow, subject_ref: str) -> SubjectContact | None:
    """Record that the person wants no more informational notice messages; ``None`` when no address is kept."""
    rows = await uow.session.exec(
        select(SubjectContact)
        .where(SubjectContact.tenant_id == uow.tenant_id, SubjectContact.subject_ref == subject_ref)
        .with_for_update()
    )
    contact = rows.first()
    if contact is None:
        return None
    if contact.notices_opted_out_at is None:
        contact.notices_opted_out_at = uow.now()
        uow.session.add(contact)
        uow.audit("contact.notices_opted_out", "subject", subject_ref)
    return contact
