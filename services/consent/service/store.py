"""The consent service as a data store: what it erases, exports, restricts and objects to for one person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.consent import models as tenant_tables
from services.consent.domain import LawfulBasis, build_iso_receipt
from services.consent.models import (
    ConsentReceipt,
    ConsentRecord,
    ConsentState,
    ControllerProfile,
    NoticeRecipient,
    Purpose,
    SubjectFlagChange,
    SubjectStatus,
)
from services.consent.service import Uow, contacts
from services.consent.service.consents import withdraw_purposes
from services.consent.service.history import record_json
from services.consent.service.receipts import claims_of, facts_from
from services.consent.service.recording import Capture
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData
from shared.runtime.repository import find

SYSTEM = "privops-consent"
ACTOR = "dsar-task"


class ConsentStore:
    """Erase, export, restrict and object for one subject, in the unit of work of the task's event."""

    # At a contract's end (Art. 28(3)(g) GDPR): consent decisions and receipts are the customer's proof of consent
    # (Art. 7(1)): returned to it, then deleted. Published notice texts name no person and cannot change (a
    # trigger refuses it): they stay as the record of what people were shown.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.NoticeRecipient,
            tenant_tables.NoticeCampaign,
            tenant_tables.SubjectContact,
            tenant_tables.ConsentReceipt,
            tenant_tables.ConsentState,
            tenant_tables.SubjectStatus,
            tenant_tables.SubjectFlagChange,
            tenant_tables.ConsentRecord,
            tenant_tables.ImportJob,
            tenant_tables.PurposeRulesVersion,
            tenant_tables.Purpose,
            tenant_tables.ControllerProfile,
        ),
        kept=(
            (
                tenant_tables.NoticeVersion,
                "published notice versions",
                "not personal data: the notice texts as published, immutable evidence of what people were told "
                "(GDPR Art. 7(1) and 13)",
            ),
        ),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Delete the records kept under each of the subject's identifiers; keep hashed suppression entries as proof."""
        where = (col(ConsentRecord.tenant_id) == uow.tenant_id, col(ConsentRecord.subject_ref).in_(task.refs))
        count = int(await uow.session.scalar(select(func.count()).select_from(ConsentRecord).where(*where)) or 0)
        # Their receipts name the subject reference and hold any address still waiting for a mail.
        records = select(ConsentRecord.id).where(*where)
        await uow.session.exec(
            delete(ConsentReceipt).where(
                col(ConsentReceipt.tenant_id) == uow.tenant_id, col(ConsentReceipt.record_id).in_(records)
            )
        )
        await uow.session.exec(delete(ConsentRecord).where(*where))
        # The address kept for notices, and the rows saying which notice messages were asked for them.
        await contacts.erase(uow, task.refs)
        await uow.session.exec(
            delete(NoticeRecipient).where(
                col(NoticeRecipient.tenant_id) == uow.tenant_id, col(NoticeRecipient.subject_ref).in_(task.refs)
            )
        )
        await uow.session.exec(
            delete(ConsentState).where(
                col(ConsentState.tenant_id) == uow.tenant_id, col(ConsentState.subject_ref).in_(task.refs)
            )
        )
        # The suppression entries: only keyed hashes, so an erased person is not re-added to marketing under
        # any of the identifiers the request named.
        await self._flags(uow, task, erased_at=uow.now(), erased_records=count, restricted=False, objected=False)
        uow.audit("subject.erased", "subject", task.subject_ref, {"records_deleted": count, "refs": len(task.refs)})
        return StoreResult("done" if count else "no_data", records_affected=count)

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """Every record of the subject with its receipt: the signed one when it was read, else built unsigned."""
        rows = (
            await uow.session.exec(
                select(ConsentRecord)
                .where(ConsentRecord.tenant_id == uow.tenant_id, col(ConsentRecord.subject_ref).in_(task.refs))
                .order_by(col(ConsentRecord.occurred_at))
            )
        ).all()
        profile = await find(uow, ControllerProfile, uow.tenant_id)
        purposes = {
            p.key: p for p in (await uow.session.exec(select(Purpose).where(Purpose.tenant_id == uow.tenant_id))).all()
        }
        signed = {
            r.record_id: r.jws
            for r in (
                await uow.session.exec(
                    select(ConsentReceipt).where(
                        col(ConsentReceipt.tenant_id) == uow.tenant_id,
                        col(ConsentReceipt.record_id).in_([row.id for row in rows]),
                        col(ConsentReceipt.jws).is_not(None),
                    )
                )
            ).all()
        }
        exported = []
        for row in rows:
            item: dict[str, Any] = {"type": "consent_record", "record": record_json(row)}
            if (jws := signed.get(row.id)) is not None:
                item["receipt"], item["receipt_jws"] = claims_of(jws), jws
            elif profile is not None:
                facts = facts_from(row, profile, purposes.get(row.purpose), None, row.id, uow.now())
                item["receipt"] = build_iso_receipt(facts)
            exported.append(item)
        exported += contacts.export(await contacts.contacts_of(uow, task.refs), uow)
        uow.audit("subject.exported", "subject", task.subject_ref, {"records": len(exported)})
        return exported

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Make every check answer "restricted" (or stop doing so)."""
        await self._flags(uow, task, restricted=not lift)
        uow.audit("subject.restriction_lifted" if lift else "subject.restricted", "subject", task.subject_ref)
        return StoreResult("done", records_affected=1)

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Withdraw every legitimate-interest purpose and every direct-marketing purpose; flag the objection."""
        purposes = (await uow.session.exec(select(Purpose).where(Purpose.tenant_id == uow.tenant_id))).all()
        keys = sorted(
            p.key for p in purposes if p.direct_marketing or p.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST.value
        )
        records = []
        for ref in task.refs:
            records += await withdraw_purposes(uow, ref, keys, Capture(channel="dsar", source="objection"))
        await self._flags(uow, task, objected=True)
        return StoreResult("done", records_affected=len(records))

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Consent records are proof of what happened; they are not rewritten."""
        return StoreResult("exempt", exemption="consent records are evidence of past decisions (GDPR Art. 7(1))")

    async def _flags(self, uow: Uow, task: TaskInput, **values: Any) -> None:
        """Set the flags on every reference of the subject (a check by any identifier answers the same)."""
        now = uow.now()
        initial = {"restricted": False, "objected": False, "erased_at": None, "erased_records": 0} | values
        statement = insert(SubjectStatus).values(
            [{"tenant_id": uow.tenant_id, "subject_ref": ref, "updated_at": now, **initial} for ref in task.refs]
        )
        flags = await uow.session.exec(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "subject_ref"], set_={**values, "updated_at": now}
            ).returning(
                SubjectStatus.__table__.c.subject_ref,  # type: ignore[attr-defined]
                SubjectStatus.__table__.c.restricted,  # type: ignore[attr-defined]
                SubjectStatus.__table__.c.objected,  # type: ignore[attr-defined]
                SubjectStatus.__table__.c.erased_at,  # type: ignore[attr-defined]
            )
        )
        # Their history: a check as of a past instant answers with the flags that stood then.
        for ref, restricted, objected, erased_at in flags.all():
            uow.session.add(
                SubjectFlagChange(
                    tenant_id=uow.tenant_id,
                    subject_ref=ref,
                    at=now,
                    restricted=restricted,
                    objected=objected,
                    erased_at=erased_at,
                )
            )
